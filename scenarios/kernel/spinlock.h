// spinlock.h — a mutual-exclusion lock that waits by spinning (xv6's).
#pragma once
#include "types.h"

struct spinlock {
  volatile uint32 locked;  // 0: free, 1: held
  const char *name;        // for panic messages
  struct cpu *cpu;         // the CPU holding it
};
