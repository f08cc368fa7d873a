// proc.h — a process. The kernel runs one program at a time, so there is no
// scheduler queue: main() runs each boot module to completion in order.
#pragma once
#include "types.h"

// Callee-saved registers for swtch(): enough to resume kernel code that
// called swtch(), exactly like xv6's struct context.
struct context {
  uint64 r15, r14, r13, r12, rbx, rbp, rip;
};

struct proc {
  int pid;
  char name[32];
  pte_t *pml4;             // the program's page table (kernel half shared)
  uint64 heap_base;        // first heap byte: page after the loaded image
  uint64 brk;              // program break: heap is [heap_base, brk)
  int status;              // exit status (0..255)
  struct context *context; // where swtch() left this process's kernel stack
};

extern struct proc *curproc;
