// x86.h — one-instruction wrappers around the privileged x86 instructions the
// kernel uses. Each of these is exactly the kind of instruction a hypervisor
// has to trap or emulate, so they are kept in one place where they are easy
// to find in a trace.
#pragma once
#include "types.h"

static inline uint8 inb(uint16 port) {
  uint8 v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint32 inl(uint16 port) {
  uint32 v;
  asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void outb(uint16 port, uint8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16 port, uint32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint64 rcr2(void) {
  uint64 v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
static inline uint64 rcr3(void) {
  uint64 v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
static inline void lcr3(uint64 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
// CR8: the task-priority register (64-bit mode only).
static inline void lcr8(uint64 v) { asm volatile("mov %0, %%cr8" : : "r"(v) : "memory"); }
// Drop the TLB's entry for the page holding va (after changing its PTE).
static inline void invlpg(uint64 va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

static inline void wrmsr(uint32 msr, uint64 v) {
  asm volatile("wrmsr" : : "c"(msr), "a"((uint32)v), "d"((uint32)(v >> 32)));
}
static inline uint64 rdmsr(uint32 msr) {
  uint32 lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64)hi << 32) | lo;
}

// lgdt/lidt take a 10-byte pseudo-descriptor: a 16-bit limit, a 64-bit base.
struct pseudodesc {
  uint16 limit;
  uint64 base;
} __attribute__((packed));

static inline void lidt(void *base, uint16 size) {
  struct pseudodesc d = {(uint16)(size - 1), (uint64)base};
  asm volatile("lidt %0" : : "m"(d));
}
static inline void lgdt(void *base, uint16 size) {
  struct pseudodesc d = {(uint16)(size - 1), (uint64)base};
  asm volatile("lgdt %0" : : "m"(d));
}
static inline void ltr(uint16 sel) { asm volatile("ltr %0" : : "r"(sel)); }

// RFLAGS, and the interrupt flag in it. With one CPU, interrupts stay off
// in the kernel (the UART is polled); only task=tick and, with several
// CPUs, the scheduler's idle loop and user mode let them in.
static inline uint64 readrflags(void) {
  uint64 v;
  asm volatile("pushfq; popq %0" : "=r"(v));
  return v;
}
static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }

// Atomically swap *addr and v, returning the old *addr. `xchg` with a
// memory operand locks the bus (or cache line) by itself: spinlock.c.
static inline uint32 xchg(volatile uint32 *addr, uint32 v) {
  asm volatile("xchgl %0, %1" : "+m"(*addr), "+r"(v) : : "memory");
  return v;
}

// cli+hlt really stops the CPU: nothing can wake it but NMI or INIT.
static inline void halt_forever(void) {
  for (;;) asm volatile("cli; hlt");
}
