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
static inline void ltr(uint16 sel) { asm volatile("ltr %0" : : "r"(sel)); }

// Interrupts stay off for the kernel's whole life: nothing here is
// interrupt-driven (the UART is polled), so cli+hlt really stops the CPU.
static inline void halt_forever(void) {
  for (;;) asm volatile("cli; hlt");
}
