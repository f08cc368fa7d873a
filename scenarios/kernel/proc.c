// proc.c — run one user program to completion.
//
// There is one process at a time, so no scheduler: runprog() loads the
// program, fakes a trapframe as if the program had trapped into the kernel
// at its first instruction, and "returns" to it with iretq (trapret). When
// the program exits or is killed, exitproc() switches back to runprog()'s
// stack with swtch(), abandoning whatever the kernel was doing for it.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "traps.h"
#include "proc.h"

struct proc *curproc;
static struct proc proc;
static struct context *mainctx;  // where runprog() waits while a program runs
static char kstack[16384] __attribute__((aligned(16)));
extern char trapret[];

int runprog(struct bootmodule *m, int pid) {
  struct proc *p = &proc;
  uint64 entry, sp, argc, argv;
  char label[56];

  memset(p, 0, sizeof(*p));
  p->pid = pid;
  if (!(p->pml4 = uvmcreate()))
    panic("runprog: out of memory");
  if (exec(p, m, &entry, &sp, &argc, &argv) < 0) {
    uvmfree(p->pml4);
    return 127;  // like a shell's "command not found"
  }
  snprintf(label, sizeof(label), "run %s", p->name);
  marker(MARK_BEGIN, (uint32)pid, label);

  // The first entry into ring 3: a trapframe at the top of the kernel
  // stack, and a context below it that swtch() "returns" into trapret.
  // RFLAGS = 0x2: interrupts stay off in user mode too. Nothing here needs
  // them, and firmware may have left a timer running whose interrupts
  // would arrive on vectors we treat as exceptions.
  uint64 top = (uint64)kstack + sizeof(kstack);
  struct trapframe *tf = (struct trapframe *)(top - sizeof(*tf));
  memset(tf, 0, sizeof(*tf));
  tf->cs = SEG_UCODE | DPL_USER;
  tf->ss = SEG_UDATA | DPL_USER;
  tf->rflags = 0x2;
  tf->rip = entry;
  tf->rsp = sp;
  tf->rdi = argc;
  tf->rsi = argv;
  struct context *c = (struct context *)((uint64)tf - sizeof(*c));
  memset(c, 0, sizeof(*c));
  c->rip = (uint64)trapret;
  p->context = c;

  set_kstack(top);
  switchuvm(p->pml4);
  curproc = p;
  swtch(&mainctx, p->context);

  // The program is gone (exitproc).
  curproc = 0;
  switchkvm();
  uvmfree(p->pml4);
  marker(MARK_END, (uint32)p->status, label);
  return p->status;
}

void exitproc(int status) {
  curproc->status = status & 0xff;
  swtch(&curproc->context, mainctx);
  panic("exitproc: returned");
}

// Kill the current program for what it did; status 128 + vector, the way a
// Unix shell reports death by signal.
void killproc(int status, const char *why) {
  cprintf("kernel: killed pid %d (%s): %s\n", curproc->pid, curproc->name, why);
  exitproc(status);
}
