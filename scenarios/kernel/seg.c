// seg.c — the task state segment.
//
// In 64-bit mode segments are nearly gone (the GDT in entry.S is flat), but
// one job remains: when a trap arrives from ring 3 the CPU must find a
// kernel stack to push the trapframe on. It takes it from TSS.RSP0. Without
// a valid TSS the first system call would triple-fault the machine. Each
// CPU needs its own (proc.h: struct cpu holds it).

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"

extern uint64 gdt[];  // entry.S: the boot GDT, the template for every CPU's

// Give this CPU its own GDT (a copy of the boot one) with a descriptor for
// its own TSS: `ltr` marks the descriptor busy, so CPUs cannot share one.
// Also point MSR_KERNEL_GS_BASE at its struct cpu, where syscallentry
// (trapasm.S) finds its kernel stack after `swapgs`.
void seginit(void) {
  struct cpu *c = mycpu();
  uint64 base = (uint64)&c->tss, limit = sizeof(c->tss) - 1;
  memmove(c->gdt, gdt, SEG_TSS);
  c->tss.iomap_base = sizeof(c->tss);
  // A 16-byte system descriptor: type 9 (available 64-bit TSS), present.
  c->gdt[SEG_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
                        ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
  c->gdt[SEG_TSS / 8 + 1] = base >> 32;
  lgdt(c->gdt, sizeof(c->gdt));
  ltr(SEG_TSS);
  wrmsr(MSR_KERNEL_GS_BASE, (uint64)c);
}

// Use the stack ending at top for traps and syscalls from ring 3.
void set_kstack(uint64 top) {
  struct cpu *c = mycpu();
  c->tss.rsp0 = top;
  c->kstack = top;
}
