// memlayout.h — where things live in physical and virtual memory.
#pragma once

// The kernel runs on an identity map (virtual == physical) of the first
// 1 GiB, built from 2 MiB pages in entry.S. It is supervisor-only: no U bit,
// so user code touching it takes a #PF.
#define KERNBASE   0x100000UL       // kernel image load address (1 MiB)
#define PHYSTOP    0x40000000UL     // end of the identity map (1 GiB)

// User programs live in a separate high region: PML4 slot 1 (512 GiB).
// Keeping them far from the kernel makes addresses in a trace easy to tell
// apart: 0x80_0000_xxxx is user, anything below 1 GiB is kernel.
#define USERBASE   0x8000000000UL   // programs are linked here (user.ld)
#define USERTOP    0x8040000000UL   // end of the user region (1 GiB)
#define USTACKTOP  USERTOP          // the stack grows down from here
#define USTACKSIZE (256 * 1024UL)   // pages below the top page fault in on demand
#define UHEAPMAX   (64 * 1024 * 1024UL)  // the most sbrk() will hand out
