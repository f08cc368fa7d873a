// halt.S — hlt with interrupts off and nothing pending: nothing can wake
// the CPU, and the guest never reports a status.
#include "guest.h"

  .text
  .code64
  .globl _start
_start:
  cli
1:
  hlt
  jmp 1b
