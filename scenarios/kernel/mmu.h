// mmu.h — segment selectors, control-register bits, page-table bits.
// Shared by C and assembly (entry.S, trapasm.S), so only #defines here.
#pragma once

// GDT layout. The order kernel code, kernel data, user data, user code is
// forced by SYSRET: it loads CS from STAR[63:48]+16 and SS from
// STAR[63:48]+8, so user data must sit just below user code.
#define SEG_KCODE  0x08
#define SEG_KDATA  0x10
#define SEG_UDATA  0x18   // selector used by user mode: 0x18|3 = 0x1b
#define SEG_UCODE  0x20   // selector used by user mode: 0x20|3 = 0x23
#define SEG_TSS    0x28   // a 16-byte system descriptor (two slots)
#define DPL_USER   3

// Control registers and MSRs.
#define CR0_PE     0x00000001
#define CR0_WP     0x00010000
#define CR0_PG     0x80000000
#define CR4_PAE    0x00000020
#define MSR_EFER   0xc0000080
#define EFER_SCE   0x00000001   // SYSCALL/SYSRET enable
#define EFER_LME   0x00000100   // long mode enable
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102  // what `swapgs` swaps GS's base with

// Page-table entry bits.
#define PTE_P      0x001   // present
#define PTE_W      0x002   // writable
#define PTE_U      0x004   // user may access
#define PTE_PWT    0x008   // write-through
#define PTE_PCD    0x010   // cache disabled (device registers)
#define PTE_A      0x020   // accessed: the CPU sets it on the first use of the entry
#define PTE_PS     0x080   // 2 MiB page (in a page directory entry)
#define PTE_ADDR(pte) ((pte) & 0x000ffffffffff000UL)

#define PGSIZE     4096
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~(uint64)(PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~(uint64)(PGSIZE - 1))

// Index of va in the page table at level 4 (PML4) .. 1 (page table).
#define PX(level, va) ((((uint64)(va)) >> (12 + 9 * ((level) - 1))) & 0x1ff)

// RFLAGS bits.
#define FL_IF      0x200
#define FL_TF      0x100
#define FL_DF      0x400
#define FL_AC      0x40000
