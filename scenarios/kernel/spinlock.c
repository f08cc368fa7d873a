// spinlock.c — spinlocks, and turning interrupts off in nested pairs.
//
// With one CPU the kernel needs no locks: interrupts are off whenever it
// runs, so nothing can come between two of its instructions. With several
// CPUs, two of them can run the same kernel code at the same moment, and a
// shared variable (the process table, the console) needs a lock that only
// one CPU can hold at a time.
//
// acquire() takes the lock with `xchg`: an atomic read-and-write that the
// CPUs' caches agree on, so exactly one CPU sees the 0 it replaced. The
// others spin until the holder writes 0 back in release(). A CPU must not
// be interrupted while it holds a lock (the interrupt handler might want
// the same lock, and wait for itself forever), so acquire() turns
// interrupts off first, with pushcli(), and release() turns them back on,
// with popcli(), only when the last lock this CPU holds is released.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "x86.h"

void initlock(struct spinlock *lk, const char *name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

void acquire(struct spinlock *lk) {
  pushcli();
  if (holding(lk))
    panic("acquire: %s already held by this CPU", lk->name);
  // xchg is atomic; `pause` tells the CPU (and a hypervisor watching for
  // spinning) that this is a wait loop.
  while (xchg(&lk->locked, 1) != 0)
    asm volatile("pause");
  // A compiler barrier: no load or store of the data the lock protects may
  // move above this point. (x86 itself does not move loads above xchg.)
  __sync_synchronize();
  lk->cpu = mycpu();
}

void release(struct spinlock *lk) {
  if (!holding(lk))
    panic("release: %s not held", lk->name);
  lk->cpu = 0;
  __sync_synchronize();
  // A plain store would do on x86; the asm keeps the compiler from
  // splitting or moving it.
  asm volatile("movl $0, %0" : "+m"(lk->locked) : :);
  popcli();
}

// Does this CPU hold the lock? (Interrupts must be off.)
int holding(struct spinlock *lk) { return lk->locked && lk->cpu == mycpu(); }

// pushcli/popcli are like cli/sti, except that they nest: two pushcli()
// need two popcli() before interrupts are on again, and if they were off
// to begin with they stay off.
void pushcli(void) {
  uint64 rflags = readrflags();
  cli();
  struct cpu *c = mycpu();
  if (c->ncli == 0)
    c->intena = rflags & FL_IF;
  c->ncli++;
}

void popcli(void) {
  if (readrflags() & FL_IF)
    panic("popcli: interrupts are on");
  struct cpu *c = mycpu();
  if (--c->ncli < 0)
    panic("popcli: more popcli than pushcli");
  if (c->ncli == 0 && c->intena)
    sti();
}
