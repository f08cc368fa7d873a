// entryother.S — where the other CPUs start (smp.c copies the first part,
// trampoline .. trampoline_end, to physical address TRAMPOLINE).
//
// A STARTUP IPI starts an application processor like a CPU after reset:
// in 16-bit real mode, paging off, at CS:IP = 0x0700:0000 for a vector of
// 0x07, i.e. at physical 0x7000. Real mode reaches only the first MiB, so
// the code lives there. It climbs the same stairs as pvh_start32 in
// entry.S, one step lower:
//
//   real mode --(CR0.PE, a 32-bit code segment)--> protected mode
//             --(CR4.PAE, CR3, EFER.LME, CR0.PG)--> long mode, 32-bit
//             --(the kernel's GDT, a 64-bit code segment)--> 64-bit mode
//
// The copy runs at TRAMPOLINE, not where the linker put it, so every
// absolute address inside it is written REL(label). Once in 64-bit mode
// it jumps to apstart64, in the kernel proper.

#include "mmu.h"

#define TRAMPOLINE 0x7000
#define REL(x) ((x) - trampoline + TRAMPOLINE)

.text
.code16
.globl trampoline
trampoline:
  cli
  cld
  xorw %ax, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss

  // Protected mode needs a GDT: a small one of its own (below).
  lgdtl REL(tgdtdesc)
  movl %cr0, %eax
  orl $CR0_PE, %eax
  movl %eax, %cr0
  ljmpl $0x08, $REL(tstart32)   // reload CS: now 32-bit code

.code32
tstart32:
  movw $0x10, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss

  // As in entry.S: the kernel's page tables, PAE, long mode, paging.
  movl $boot_pml4, %eax
  movl %eax, %cr3
  movl %cr4, %eax
  orl $CR4_PAE, %eax
  movl %eax, %cr4
  movl $MSR_EFER, %ecx
  rdmsr
  orl $EFER_LME, %eax
  wrmsr
  movl %cr0, %eax
  orl $(CR0_PG | CR0_PE | CR0_WP), %eax
  movl %eax, %cr0

  lgdt gdtdesc                  // the kernel's GDT (entry.S)
  ljmp $SEG_KCODE, $apstart64   // and its 64-bit code segment

.balign 8
tgdt:
  .quad 0                       // null
  .quad 0x00cf9a000000ffff      // 0x08: 32-bit code, flat
  .quad 0x00cf92000000ffff      // 0x10: 32-bit data, flat
tgdtdesc:
  .word tgdtdesc - tgdt - 1
  .long REL(tgdt)
.globl trampoline_end
trampoline_end:

// ---- 64-bit mode, in the kernel image ---------------------------------------
.code64
apstart64:
  movw $SEG_KDATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  movq ap_stack(%rip), %rsp     // smp.c set it for this CPU
  xorl %ebp, %ebp
  call mpenter                  // never returns
1:
  cli
  hlt
  jmp 1b
