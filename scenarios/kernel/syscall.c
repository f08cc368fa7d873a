// syscall.c — system calls: the table, argument fetching, and the calls.
//
// ABI (docs/syscalls.md): number in rax, arguments in rdi, rsi, rdx, result
// in rax. Programs get here three ways, all ending in syscall():
//   int $0x40          vector 64 through the IDT (the normal way)
//   int $0x40 as #UD   this host's PVM quirk, emulated in trap.c
//   syscall            the fast instruction, via LSTAR (trapasm.S)

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "memlayout.h"
#include "proc.h"
#include "traps.h"
#include "x86.h"
#include "../user/include/ringscope/sysnum.h"

extern char syscallentry[];

// The syscall instruction needs three MSRs: STAR (segments), LSTAR (entry
// point), SFMASK (RFLAGS bits to clear on entry: IF, so the entry code
// runs with interrupts off until it is on the kernel stack).
void syscallinit(void) {
  // STAR[47:32]: syscall loads CS = 0x08, SS = 0x10.
  // STAR[63:48]: sysretq loads CS = this + 16, SS = this + 8, RPL 3.
  wrmsr(MSR_STAR, ((uint64)(SEG_KDATA | DPL_USER) << 48) | ((uint64)SEG_KCODE << 32));
  wrmsr(MSR_LSTAR, (uint64)syscallentry);
  wrmsr(MSR_SFMASK, FL_IF | FL_TF | FL_DF | FL_AC);
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

// write(fd, buf, n): fd 1 and 2 both go to the console (console.c: the
// UART, or virtio-console in the PV build).
static int64 sys_write(struct trapframe *tf) {
  uint64 fd = tf->rdi, buf = tf->rsi, n = tf->rdx;
  if (fd != 1 && fd != 2)
    return -1;
  if (n > (1 << 20))
    return -1;
  return conswrite(myproc(), buf, n);
}

// read(fd, buf, n): fd 0 is the console's input (console.c: the UART's
// receive side, or virtio-console's receive queue in the PV build).
static int64 sys_read(struct trapframe *tf) {
  uint64 fd = tf->rdi, buf = tf->rsi, n = tf->rdx;
  if (fd != 0)
    return -1;
  if (n > (1 << 20))
    return -1;
  return consread(myproc(), buf, n);
}

static int64 sys_exit(struct trapframe *tf) {
  exitproc((int)tf->rdi);
  return 0;  // not reached
}

static int64 sys_getpid(struct trapframe *tf) {
  (void)tf;
  return myproc()->pid;
}

// sbrk(n): move the program break by n bytes and return the old break.
// Nothing is mapped here: each new page is mapped by the page-fault
// handler the first time the program touches it (vm.c, demand paging).
// Shrinking unmaps the pages above the new break and frees them (vm.c).
static int64 sys_sbrk(struct trapframe *tf) {
  int64 n = (int64)tf->rdi;
  struct proc *p = myproc();
  uint64 old = p->brk;
  if (n < 0 && (uint64)-n > old - p->heap_base)
    return -1;
  if (n > 0 && old + n - p->heap_base > UHEAPMAX)
    return -1;
  p->brk = old + n;
  if (n < 0)
    uvmshrink(p, p->brk, old);
  return (int64)old;
}

// marker(phase, label, value): forward a program's marker to the probe
// port. The label is copied into the kernel first: the VMM is handed a
// physical address, and a user address means nothing to it.
static int64 sys_marker(struct trapframe *tf) {
  char label[56];
  uint64 phase = tf->rdi, ulabel = tf->rsi;
  struct proc *p = myproc();
  if (phase > MARK_END)
    return -1;
  int i = 0;
  for (; i < (int)sizeof(label) - 1; i++) {
    if (copyin(p, &label[i], ulabel + i, 1) < 0)
      return -1;
    if (label[i] == 0)
      break;
  }
  label[i] = 0;
  marker((int)phase, (uint32)tf->rdx, label);
  return 0;
}

// time(): seconds since 1970-01-01 00:00 UTC. Where the kernel gets the
// time is its own business: the CMOS clock's registers (native), or one
// hypercall (PV build); rtc.c.
static int64 sys_time(struct trapframe *tf) {
  (void)tf;
  return clocktime();
}

// nproc(): how many CPUs run this kernel (1 unless smp.c started more).
static int64 sys_nproc(struct trapframe *tf) {
  (void)tf;
  return ncpu;
}

// yield(): give the CPU to another runnable process, if there is one
// (proc.c); with none, the caller runs on at once.
static int64 sys_yield(struct trapframe *tf) {
  (void)tf;
  yield();
  return 0;
}

// cpuid(): the index (0 .. nproc()-1) of the CPU running the caller, at
// the moment of the call; with several CPUs the next moment may differ.
// Not the `cpuid` instruction: that names the CPU model, not which CPU.
static int64 sys_cpuid(struct trapframe *tf) {
  (void)tf;
  return mycpu()->id;
}

// bench(op, n, addr): n operations of a nanobenchmark done in ring 0,
// between markers of the kernel's own (nanobench.c).
static int64 sys_bench(struct trapframe *tf) {
  return bench((int)tf->rdi, (int64)tf->rsi, tf->rdx);
}

// ondivzero(resume): from now on a divide error (#DE) in this program does
// not kill it; trap.c continues it at resume instead, with its registers as
// they were at the fault. A per-process resume address is the smallest way
// for a program to survive a fault it caused on purpose: a signal handler
// without the handler. 0 turns it off.
static int64 sys_ondivzero(struct trapframe *tf) {
  uint64 resume = tf->rdi;
  struct proc *p = myproc();
  if (resume && !uva2pa(p->pml4, resume))
    return -1;  // not an address of the program's
  p->divresume = resume;
  return 0;
}

static int64 (*syscalls[])(struct trapframe *) = {
  [SYS_exit] = sys_exit,
  [SYS_write] = sys_write,
  [SYS_getpid] = sys_getpid,
  [SYS_sbrk] = sys_sbrk,
  [SYS_marker] = sys_marker,
  [SYS_time] = sys_time,
  [SYS_read] = sys_read,
  [SYS_nproc] = sys_nproc,
  [SYS_yield] = sys_yield,
  [SYS_cpuid] = sys_cpuid,
  [SYS_bench] = sys_bench,
  [SYS_ondivzero] = sys_ondivzero,
};

void syscall(struct trapframe *tf) {
  uint64 num = tf->rax;
  if (num < NELEM(syscalls) && syscalls[num]) {
    tf->rax = (uint64)syscalls[num](tf);
  } else {
    // Loud but harmless: the program learns -1 and keeps running.
    cprintf("kernel: pid %d (%s): unknown system call %ld\n", myproc()->pid, myproc()->name, (int64)num);
    tf->rax = (uint64)-1;
  }
}
