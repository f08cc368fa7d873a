// trap.c — the interrupt descriptor table and trap dispatch.
//
// Every way into the kernel ends up in trap(): exceptions, `int $0x40`,
// and the `syscall` instruction (trapasm.S builds the same frame for all).
// From user mode: system calls are served, page faults inside the heap or
// stack are fixed by mapping a page, a divide error goes on at the
// program's resume address if it set one (ondivzero), anything else kills
// the program. From
// kernel mode every trap is a kernel bug: panic.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "traps.h"
#include "proc.h"
#include "x86.h"

struct gatedesc {
  uint16 off0;
  uint16 sel;
  uint8 ist;
  uint8 type;   // P | DPL | 0xE (64-bit interrupt gate: clears IF)
  uint16 off1;
  uint32 off2;
  uint32 reserved;
};

static struct gatedesc idt[256];
extern uint64 trapvectors[32];
extern uint64 irqvectors[NIRQ];
extern uint64 lapicvectors[3];
extern char vector64[];

// How many system calls arrived as #UD instead of as int $0x40 (below).
uint64 ud_syscalls;

static void setgate(int n, uint64 handler, int dpl) {
  idt[n].off0 = handler & 0xffff;
  idt[n].sel = SEG_KCODE;
  idt[n].ist = 0;
  idt[n].type = 0x80 | (dpl << 5) | 0xe;
  idt[n].off1 = (handler >> 16) & 0xffff;
  idt[n].off2 = handler >> 32;
}

void idtinit(void) {
  for (int i = 0; i < 32; i++)
    setgate(i, trapvectors[i], 0);
  // DPL 3: user code may `int $0x40`. Every other gate has DPL 0, so an
  // `int n` to it from ring 3 is a #GP, not a way in.
  setgate(T_SYSCALL, (uint64)vector64, DPL_USER);
  // Hardware interrupts (picirq.c, timer.c). They arrive only while IF is
  // set, which the kernel allows only where it waits for one (task=tick,
  // an idle scheduler) and, with several CPUs, in ring 3.
  for (int i = 0; i < NIRQ; i++)
    setgate(T_IRQ0 + i, irqvectors[i], 0);
  // The local APIC's (lapic.c): only with several CPUs.
  setgate(T_LTIMER, lapicvectors[0], 0);
  setgate(T_IPI, lapicvectors[1], 0);
  setgate(T_SPURIOUS, lapicvectors[2], 0);
  idtload();
}

// Every CPU loads the same IDT (smp.c: the others, once they start).
void idtload(void) { lidt(idt, sizeof(idt)); }

// The local APIC's interrupts. The timer takes the CPU from a process in
// ring 3 (the kernel itself runs with interrupts off, so it is never
// preempted). An IPI only counts; tasks.c looks at the count.
static void lapicintr(struct trapframe *tf) {
  struct cpu *c = mycpu();
  if (tf->trapno == T_SPURIOUS)
    return;  // no EOI for a spurious interrupt
  lapiceoi();
  if (tf->trapno == T_IPI) {
    c->ipis++;
    return;
  }
  c->ticks++;
  if ((tf->cs & 3) == DPL_USER && c->proc)
    yield();
}

// Is this user-mode #UD really an `int $0x40` (bytes CD 40)?
//
// Trap-and-emulate done by the guest. On a real CPU, and under QEMU, a
// user-mode `int $0x40` goes straight to vector 64. This project's host
// runs KVM's PVM flavour (docs/hosts.md), a software hypervisor that
// runs our "ring 0" in hardware ring 3 and reserves user-mode `int n` for
// itself: the guest receives #UD at the `int` instead. So we look at the
// faulting bytes and, if they are `int $0x40`, do what the CPU would have
// done: step past the instruction and handle the system call. ud_syscalls
// counts it, and main() reports the count in the "int40-via-ud" marker, so
// the trace says it happened.
static int ud_is_int40(struct trapframe *tf) {
  struct proc *p = myproc();
  uint64 a = uva2pa(p->pml4, tf->rip), b = uva2pa(p->pml4, tf->rip + 1);
  return a && b && *(uint8 *)a == 0xcd && *(uint8 *)b == T_SYSCALL;
}

static void userfault(struct trapframe *tf) {
  char why[96], insn[64];
  uint64 cr2 = rcr2();
  if (tf->trapno == T_PF) {
    snprintf(insn, sizeof(insn), "bad %s of %p (%s)", (tf->err & PF_W) ? "write" : "read", (void *)cr2,
             (tf->err & PF_P) ? "protection" : "not mapped");
  } else {
    describe_insn(myproc(), tf->rip, insn, sizeof(insn));
  }
  snprintf(why, sizeof(why), "%s at %p: %s", exception_name(tf->trapno), (void *)tf->rip, insn);
  killproc(128 + (int)tf->trapno, why);
}

void trap(struct trapframe *tf) {
  if (tf->trapno == T_SYSCALL || tf->trapno == T_SYSCALL_INSN) {
    syscall(tf);
    return;
  }
  if (tf->trapno >= T_IRQ0 && tf->trapno < T_IRQ0 + NIRQ) {
    irq(tf);  // picirq.c: from ring 0 (the kernel waiting in hlt) or ring 3
#ifdef PV
    // Back to a user program, holding no lock: the balloon may work now.
    if ((tf->cs & 3) == DPL_USER)
      vballoon_poll();
#endif
    return;
  }
  if (tf->trapno == T_LTIMER || tf->trapno == T_IPI || tf->trapno == T_SPURIOUS) {
    lapicintr(tf);
    return;
  }
  struct proc *p = myproc();
  if ((tf->cs & 3) != DPL_USER || !p) {
    cprintf("kernel trap: %s at %p\n", exception_name(tf->trapno), (void *)tf->rip);
    dumpregs(tf);
    panic("trap %ld in kernel mode", tf->trapno);
  }
  switch (tf->trapno) {
  case T_UD:
    if (ud_is_int40(tf)) {
      __sync_fetch_and_add(&ud_syscalls, 1);  // several CPUs may count at once
      tf->rip += 2;
      syscall(tf);
      return;
    }
    break;
  case T_PF:
    if (!(tf->err & PF_P) && uvmfault(p, rcr2()) == 0)
      return;  // demand paging: the page is there now, retry the access
    break;
  case T_DE:
    if (p->divresume) {
      tf->rip = p->divresume;  // the program asked for it (ondivzero)
      return;
    }
    break;
  }
  userfault(tf);
}
