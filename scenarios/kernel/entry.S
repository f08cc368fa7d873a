// entry.S — the two ways into the kernel, and the boot page tables.
//
// A loader can start us in one of two ways (docs/boot-protocol.md):
//
//  1. Xen PVH (QEMU -kernel, any PVH loader): 32-bit protected mode, paging
//     off, EBX = physical address of struct hvm_start_info. We must turn on
//     PAE paging and long mode ourselves: pvh_start32 below.
//  2. ringscope's VMM: already in 64-bit long mode with the VMM's own page
//     tables and GDT, RBX = the same hvm_start_info. start64 below just
//     swaps in our own tables.
//
// Both converge on start64_common, which sets up a stack and calls main().
// Which notes describe these entries is at the end of this file.

#include "mmu.h"

.section .text.entry, "ax"

// ---- 1. PVH: 32-bit protected mode, paging off ---------------------------
.code32
.globl pvh_start32
pvh_start32:
  cli
  cld
  movl %ebx, boot_start_info        // high half stays 0 (it lives in .data)

  // Long mode needs PAE paging. Point CR3 at the boot tables (an identity
  // map of the first 1 GiB in 2 MiB pages), then PAE, then EFER.LME, then
  // paging on: the CPU is now in long mode's 32-bit compatibility submode.
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

  // A far jump through a 64-bit code segment (L=1) finally puts us in
  // 64-bit mode. In 32-bit mode lgdt reads a 32-bit base: the low half
  // of our 64-bit descriptor, which is all we need below 4 GiB.
  lgdt gdtdesc
  ljmp $SEG_KCODE, $start64_common

// ---- 2. ringscope VMM: already 64-bit, paging on -------------------------
.code64
.globl start64
start64:
  cli
  cld
  movq %rbx, boot_start_info(%rip)
  leaq boot_stack_top(%rip), %rsp   // the VMM leaves RSP undefined

  // Leave the VMM's page tables and GDT behind: from here on the kernel
  // only relies on memory it owns.
  movq $boot_pml4, %rax
  movq %rax, %cr3
  lgdt gdtdesc(%rip)
  pushq $SEG_KCODE                  // reload CS with our selector
  leaq start64_common(%rip), %rax
  pushq %rax
  lretq

// ---- both: 64-bit mode with our GDT and page tables ----------------------
start64_common:
  movw $SEG_KDATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs

  // Zero .bss. Loaders zero it too (p_memsz > p_filesz), but a kernel
  // that does not trust its loader is easier to debug. The boot stack is
  // in .bss, so nothing may be on it yet. One rep stosq: on a host that
  // emulates ring 0 instruction by instruction, a loop would cost more.
  leaq __bss_start(%rip), %rdi
  leaq __bss_end(%rip), %rcx
  subq %rdi, %rcx
  shrq $3, %rcx
  xorl %eax, %eax
  rep stosq

  leaq boot_stack_top(%rip), %rsp
  xorl %ebp, %ebp
  call main
1:
  cli
  hlt
  jmp 1b

// ---- data: GDT, start_info pointer, boot page tables ---------------------
.section .data
.balign 16
// The GDT. Order matters for SYSRET (see mmu.h). The TSS descriptor is
// filled in by seginit() because its base address is split across fields
// in a way the linker cannot compute.
.globl gdt
gdt:
  .quad 0                       // 0x00 null
  .quad 0x00af9a000000ffff      // 0x08 kernel code: 64-bit (L=1), DPL 0
  .quad 0x00cf92000000ffff      // 0x10 kernel data: DPL 0
  .quad 0x00cff2000000ffff      // 0x18 user data:  DPL 3
  .quad 0x00affa000000ffff      // 0x20 user code:  64-bit (L=1), DPL 3
  .quad 0, 0                    // 0x28 TSS (16 bytes, seginit())
gdt_end:

.globl gdtdesc
gdtdesc:
  .word gdt_end - gdt - 1
  .quad gdt

.globl boot_start_info
.balign 8
boot_start_info:
  .quad 0

// Boot page tables: PML4[0] -> PDPT[0] -> one page directory of 512 2 MiB
// pages = identity map of 0..1 GiB. Supervisor-only (no PTE_U). Built by
// the assembler, not by code, so booting costs no instructions. These stay
// the kernel's page tables for good: every process's PML4 shares slot 0.
.balign 4096
.globl boot_pml4
boot_pml4:
  .quad boot_pdpt + (PTE_P | PTE_W)
  .fill 511, 8, 0
.balign 4096
.globl boot_pdpt
boot_pdpt:
  .quad boot_pd + (PTE_P | PTE_W)
  .fill 511, 8, 0
.balign 4096
boot_pd:
  .set i, 0
  .rept 512
  .quad (i << 21) + (PTE_P | PTE_W | PTE_PS)
  .set i, i + 1
  .endr

.section .bss
.balign 16
boot_stack:
  .space 16384
.globl boot_stack_top
boot_stack_top:

// ---- ELF notes: how loaders find the entries ------------------------------
// Xen PVH: XEN_ELFNOTE_PHYS32_ENTRY (18), the 32-bit entry's physical address.
.section .note.Xen, "a", @note
.balign 4
  .long 4                       // namesz: "Xen\0"
  .long 8                       // descsz
  .long 18                      // type: XEN_ELFNOTE_PHYS32_ENTRY
  .asciz "Xen"
  .balign 4
  .quad pvh_start32
  .balign 4

// ringscope: type 1, the 64-bit entry's address (docs/boot-protocol.md).
.section .note.ringscope, "a", @note
.balign 4
  .long 10                      // namesz: "ringscope\0"
  .long 8                       // descsz
  .long 1                       // type: RINGSCOPE_NOTE_ENTRY64
  .asciz "ringscope"
  .balign 4
  .quad start64
  .balign 4
