// proc.c — processes, the process table, and the scheduler (xv6's).
//
// A process is a slot in ptable with its own page table and kernel stack.
// Every CPU runs the same scheduler loop: find a RUNNABLE process, switch
// to its kernel stack with swtch(), and wait there until the process
// gives the CPU back (it yields, its time slice ends, or it exits); then
// look again. One lock, ptable.lock, guards every process's state, so two
// CPUs never pick the same process.
//
// The boot CPU takes part too: runprog() makes the processes for a
// program and then runs the same loop until they have all exited.
//
// With one CPU nothing preempts a process (no timer runs, interrupts stay
// off in ring 3 as they always did here), so programs run one after
// another, to completion, exactly as before this kernel had a scheduler.
// With several CPUs, each CPU's local APIC timer interrupts ring 3 a
// hundred times a second (lapic.c) and trap.c calls yield().

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "traps.h"
#include "proc.h"
#include "spinlock.h"
#include "x86.h"

// A process's kernel stack is one page from kalloc(), as in xv6: traps
// and system calls from ring 3 run on it, and it is freed when the process
// is reaped. (Not in .bss: zeroing 16 stacks at every boot would cost
// thousands of instructions where ring 0 is emulated.)
#define KSTACKSIZE PGSIZE

struct cpu cpus[NCPU];
int ncpu = 1;
int ismp;

static struct {
  struct spinlock lock;
  struct proc proc[NPROC];
  int next;  // where the next search for a RUNNABLE process starts
} ptable;

extern char trapret[];

// Which CPU am I? With one CPU, the only one. With several, the local
// APIC's ID register says, and cpus[] maps it to our index. Interrupts
// must be off: a process could move to another CPU between the read and
// the use of its result.
struct cpu *mycpu(void) {
  if (!ismp)
    return &cpus[0];
  uint32 id = lapicid();
  for (int i = 0; i < ncpu; i++)
    if (cpus[i].apicid == id)
      return &cpus[i];
  panic("mycpu: local APIC ID %d is not in the CPU list", id);
}

// The process running on this CPU, or 0.
struct proc *myproc(void) {
  pushcli();
  struct proc *p = mycpu()->proc;
  popcli();
  return p;
}

void procinit(void) { initlock(&ptable.lock, "ptable"); }

// A new process's first swtch() "returns" here, still holding ptable.lock
// (the scheduler took it); release it and return into trapret (trapasm.S),
// which starts the program in ring 3.
static void forkret(void) { release(&ptable.lock); }

// Make a process from boot module m: load it, then give it a trapframe as
// if it had trapped into the kernel at its first instruction, and a
// context that swtch() can "return" into. 0 if it could not be loaded.
static struct proc *spawn(struct bootmodule *m, int pid) {
  struct proc *p = 0;
  acquire(&ptable.lock);
  for (int i = 0; i < NPROC; i++)
    if (ptable.proc[i].state == UNUSED) {
      p = &ptable.proc[i];
      break;
    }
  if (!p)
    panic("spawn: more than %d processes", NPROC);
  memset(p, 0, sizeof(*p));
  p->state = EMBRYO;  // ours: no scheduler will touch it
  release(&ptable.lock);

  p->pid = pid;
  char *kstack = kalloc();
  if (!kstack || !(p->pml4 = uvmcreate()))
    panic("spawn: out of memory");
  p->kstack = kstack;
  uint64 entry, sp, argc, argv;
  if (exec(p, m, &entry, &sp, &argc, &argv) < 0) {
    uvmfree(p->pml4);
    kfree(kstack);
    p->state = UNUSED;
    return 0;
  }
  snprintf(p->label, sizeof(p->label), "run %s", p->name);
  marker(MARK_BEGIN, (uint32)pid, p->label);

  // The kernel stack, top down: the trapframe trapret will pop; the
  // address of trapret, for forkret to return to; the context for swtch.
  // RFLAGS: with one CPU 0x2, interrupts off in user mode too (nothing
  // needs them, and firmware may have left a timer running whose
  // interrupts would arrive on vectors we treat as exceptions). With
  // several, IF is set so that the timer can take the CPU away.
  uint64 top = (uint64)kstack + KSTACKSIZE;
  struct trapframe *tf = (struct trapframe *)(top - sizeof(*tf));
  memset(tf, 0, sizeof(*tf));
  tf->cs = SEG_UCODE | DPL_USER;
  tf->ss = SEG_UDATA | DPL_USER;
  tf->rflags = ismp ? 0x2 | FL_IF : 0x2;
  tf->rip = entry;
  tf->rsp = sp;
  tf->rdi = argc;
  tf->rsi = argv;
  uint64 *ret = (uint64 *)tf - 1;
  *ret = (uint64)trapret;
  struct context *c = (struct context *)((uint64)ret - sizeof(*c));
  memset(c, 0, sizeof(*c));
  c->rip = (uint64)forkret;
  p->context = c;

  acquire(&ptable.lock);
  p->state = RUNNABLE;
  release(&ptable.lock);
  return p;
}

// One turn of the scheduler: run the next RUNNABLE process (round robin
// over the table) until it gives the CPU back. 0 if none was runnable.
static int runone(void) {
  struct cpu *c = mycpu();
  acquire(&ptable.lock);
  for (int k = 0; k < NPROC; k++) {
    struct proc *p = &ptable.proc[(ptable.next + k) % NPROC];
    if (p->state != RUNNABLE)
      continue;
    ptable.next = (int)(p - ptable.proc + 1) % NPROC;
    c->proc = p;
    set_kstack((uint64)p->kstack + KSTACKSIZE);  // for its traps from ring 3
    switchuvm(p->pml4);
    p->state = RUNNING;
    swtch(&c->scheduler, p->context);
    // It yielded or exited. Back on the kernel's own page table before the
    // lock goes: once it is released, an exited process may be freed.
    switchkvm();
    c->proc = 0;
    release(&ptable.lock);
    return 1;
  }
  release(&ptable.lock);
  return 0;
}

// Nothing to run: sleep until an interrupt (the timer, or an IPI) says
// something may have changed. `sti; hlt` is one step: an interrupt that
// is already pending wakes the hlt, it cannot slip in between.
static void idle(void) {
  struct cpu *c = mycpu();
  if (c->id != 0 && c->call) {  // the boot CPU asked us to run something (tasks.c)
    c->call();
    c->call = 0;
    return;
  }
  asm volatile("sti; hlt; cli" ::: "memory");
}

// Where the other CPUs spend their lives (smp.c starts them here).
void scheduler(void) {
  for (;;)
    if (!runone())
      idle();
}

// Back to this CPU's scheduler, with ptable.lock held and the process's
// state already changed. intena belongs to the process's kernel thread,
// not to the CPU, so it is kept across the switch (as in xv6).
static void sched(void) {
  struct proc *p = myproc();
  if (!holding(&ptable.lock))
    panic("sched: ptable.lock not held");
  if (p->state == RUNNING)
    panic("sched: %s still RUNNING", p->name);
  int intena = mycpu()->intena;
  swtch(&p->context, mycpu()->scheduler);
  mycpu()->intena = intena;
}

// Give up the CPU for one scheduling round (the yield system call, and
// the timer interrupt with several CPUs).
void yield(void) {
  acquire(&ptable.lock);
  myproc()->state = RUNNABLE;
  sched();
  release(&ptable.lock);
}

void exitproc(int status) {
  struct proc *p = myproc();
  acquire(&ptable.lock);
  p->status = status & 0xff;
  p->state = ZOMBIE;
  sched();
  panic("exitproc: returned");
}

// Kill the current program for what it did; status 128 + vector, the way a
// Unix shell reports death by signal.
void killproc(int status, const char *why) {
  struct proc *p = myproc();
  cprintf("kernel: killed pid %d (%s): %s\n", p->pid, p->name, why);
  exitproc(status);
}

// Are any of these processes still to finish?
static int alive(struct proc **ps, int n) {
  int left = 0;
  acquire(&ptable.lock);
  for (int i = 0; i < n; i++)
    if (ps[i] && ps[i]->state != ZOMBIE)
      left++;
  release(&ptable.lock);
  return left;
}

// Run `copies` processes of boot module m, with pids firstpid, firstpid+1,
// ..., at the same time, and wait until all have exited. The status is the
// first non-zero exit status in pid order, or 0; 127 for a module that is
// not a program (like a shell's "command not found"). With one copy this
// is simply "run the program to completion".
int runprog(struct bootmodule *m, int firstpid, int copies) {
  struct proc *ps[NPROC];
  int status = 0;
  for (int i = 0; i < copies; i++)
    if (!(ps[i] = spawn(m, firstpid + i)))
      return 127;

  // The boot CPU is a CPU like the others: it runs processes too.
  while (alive(ps, copies))
    if (!runone()) {
      if (!ismp)
        panic("runprog: nothing runnable, nothing running");
      asm volatile("sti; hlt; cli" ::: "memory");
    }

  // All exited: every CPU that ran one is back on the kernel's page table.
  for (int i = 0; i < copies; i++) {
    struct proc *p = ps[i];
    uvmfree(p->pml4);
    kfree(p->kstack);
    marker(MARK_END, (uint32)p->status, p->label);
    if (copies > 1)
      cprintf("kernel: pid %d (%s) exited with status %d\n", p->pid, p->name, p->status);
    if (!status)
      status = p->status;
    acquire(&ptable.lock);
    p->state = UNUSED;
    release(&ptable.lock);
  }
  return status;
}
