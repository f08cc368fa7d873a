// fullpml4.S — a hostile guest for mode bt: it fills every one of the 512
// entries of its PML4, then enters ring 3. The monitor then has no slot to
// map its IDT, GDT and TSS into, and must stop with an error that says so.
//
// Position-independent 64-bit ring-0 code on the VMM's 64-bit entry (at
// 1 MiB, identity map of 2 MiB pages, CS = 0x08, interrupts off).
// clang-format off: assembler, one instruction per line.
#define STACK 0x1f0000
#define USER_STACK 0x1e0000
#define GDT 0x1c0000

  .text
  .code64
  .globl _start
_start:
  cli
  mov $STACK, %rsp
  // The low 2 MiB become user-accessible (U at every level), so ring 3 can
  // fetch its code there.
  mov %cr3, %rax
  and $~0xfff, %rax
  orq $4, (%rax)
  mov (%rax), %rbx
  and $~0xfff, %rbx
  orq $4, (%rbx)
  mov (%rbx), %rbx
  and $~0xfff, %rbx
  orq $4, (%rbx)
  // Every PML4 entry present: the whole 256 TiB address space "in use".
  mov (%rax), %rdx
  mov $1, %ecx
1:
  mov %rdx, (%rax,%rcx,8)
  inc %ecx
  cmp $512, %ecx
  jb 1b
  // A GDT with user segments: null, kernel code 0x08, kernel data 0x10,
  // user code 0x1b, user data 0x23.
  mov $GDT, %rdi
  movq $0, (%rdi)
  movabs $0x00af9a000000ffff, %rax
  mov %rax, 8(%rdi)
  movabs $0x00cf92000000ffff, %rax
  mov %rax, 16(%rdi)
  movabs $0x00affa000000ffff, %rax
  mov %rax, 24(%rdi)
  movabs $0x00cff2000000ffff, %rax
  mov %rax, 32(%rdi)
  lgdt gdtr(%rip)
  // iretq to ring 3.
  pushq $0x23
  pushq $USER_STACK
  pushq $0x2
  pushq $0x1b
  lea user(%rip), %rax
  push %rax
  iretq
user:
  jmp user

gdtr:
  .word 39
  .quad GDT
