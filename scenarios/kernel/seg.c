// seg.c — the task state segment.
//
// In 64-bit mode segments are nearly gone (the GDT in entry.S is flat), but
// one job remains: when a trap arrives from ring 3 the CPU must find a
// kernel stack to push the trapframe on. It takes it from TSS.RSP0. Without
// a valid TSS the first system call would triple-fault the machine.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "x86.h"

struct tss {
  uint32 reserved0;
  uint64 rsp0;        // stack for traps from ring 3
  uint64 rsp1, rsp2;
  uint64 reserved1;
  uint64 ist[7];
  uint64 reserved2;
  uint16 reserved3;
  uint16 iomap_base;  // past the end: no I/O bitmap, so user in/out -> #GP
} __attribute__((packed));

static struct tss tss;
extern uint64 gdt[];
extern uint64 syscall_kstack;  // trapasm.S: the stack syscallentry switches to

void seginit(void) {
  uint64 base = (uint64)&tss, limit = sizeof(tss) - 1;
  tss.iomap_base = sizeof(tss);
  // A 16-byte system descriptor: type 9 (available 64-bit TSS), present.
  gdt[SEG_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
                     ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
  gdt[SEG_TSS / 8 + 1] = base >> 32;
  ltr(SEG_TSS);
}

// Use the stack ending at top for traps and syscalls from ring 3.
void set_kstack(uint64 top) {
  tss.rsp0 = top;
  syscall_kstack = top;
}
