// traps.h — trap numbers and the frame every trap builds on the kernel stack.
#pragma once
#include "types.h"

// Processor-defined exceptions.
#define T_DE     0    // divide error
#define T_DB     1    // debug
#define T_NMI    2
#define T_BP     3    // breakpoint (int3)
#define T_UD     6    // invalid opcode
#define T_DF     8    // double fault
#define T_GP    13    // general protection fault
#define T_PF    14    // page fault

// Hardware interrupts through the 8259A PIC pair: IRQ n arrives as vector
// T_IRQ0 + n (picirq.c programs the PIC so; at reset it would overlap the
// CPU's exceptions). IRQ 0 is the PIT's channel 0, the timer tick.
#define T_IRQ0    32
#define IRQ_TIMER  0
#define IRQ_SLAVE  2   // the slave PIC's cascade into the master
#define IRQ_VIRTIO0 5  // virtio device n (PV build) drives IRQ 5 + n
#define NIRQ      16

// The local APIC's own interrupts (lapic.c), used only with several CPUs:
// its timer, the IPI one CPU sends another (tasks.c), and the "spurious"
// vector it may deliver when an interrupt vanishes before it is taken.
#define T_LTIMER   48
#define T_IPI      49
#define T_SPURIOUS 63

// System calls: `int $0x40` from user mode (vector 64, as in xv6).
#define T_SYSCALL 64
// Not a vector: syscallentry (trapasm.S) puts this in tf->trapno so trap()
// knows the frame came from the `syscall` instruction and must leave by
// `sysretq`.
#define T_SYSCALL_INSN 256

// Page-fault error code bits.
#define PF_P 0x1   // 0: page not present, 1: protection violation
#define PF_W 0x2   // write access
#define PF_U 0x4   // fault happened in user mode

// Built by the vector stubs and alltraps in trapasm.S, lowest address first.
// The CPU pushed everything from rip on (plus err for some vectors).
struct trapframe {
  uint64 r15, r14, r13, r12, r11, r10, r9, r8;
  uint64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64 trapno;
  uint64 err;
  uint64 rip, cs, rflags, rsp, ss;
};
