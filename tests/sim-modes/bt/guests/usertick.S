// usertick.S — the timer interrupts ring 3 under mode bt: the kernel sets
// up an IDT, a TSS (RSP0), the PIC and the PIT, and enters ring 3 with
// interrupts on, where the program spins. Each tick must kick direct
// execution out of KVM_RUN and be delivered to the ring-0 handler in the
// translator; at TICKS the handler reports exit status 0.
#include "../../emulation/guests/guest.h"
#define TICKS 20
#define COUNT 1193                      // ~1 kHz: a tick every millisecond
#define USER_STACK 0x1e0000
#define GDT 0x1c0000
#define TSS 0x1c1000

  .text
  .code64
  .globl _start
_start:
  SETUP_IDT
  mov $32, %edi
  lea tick(%rip), %rsi
  call set_gate
  movq $0, COUNTERS
  // The low 2 MiB user-accessible (U at every level) for ring 3's code.
  mov %cr3, %rax
  and $~0xfff, %rax
  orq $4, (%rax)
  mov (%rax), %rbx
  and $~0xfff, %rbx
  orq $4, (%rbx)
  mov (%rbx), %rbx
  and $~0xfff, %rbx
  orq $4, (%rbx)
  // A TSS whose RSP0 is the kernel stack.
  mov $TSS, %rdi
  xor %eax, %eax
  mov $13, %ecx
  rep stosq
  movq $STACK, TSS+4
  // GDT: null, kernel code 0x08, data 0x10, user code 0x1b, user data 0x23, TSS 0x28.
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
  movabs $0x0000891c10000067, %rax
  mov %rax, 40(%rdi)
  movq $0, 48(%rdi)
  lgdt gdtr(%rip)
  mov $0x28, %ax
  ltr %ax
  SETUP_PIC
  SETUP_PIT(COUNT)
  // iretq to ring 3, interrupts on.
  pushq $0x23
  pushq $USER_STACK
  pushq $0x202
  pushq $0x1b
  lea user(%rip), %rax
  push %rax
  iretq
user:
  jmp user

tick:
  push %rax
  incq COUNTERS
  mov $0x20, %al                        // EOI to the master PIC
  out %al, $0x20
  cmpq $TICKS, COUNTERS
  jb 1f
  xor %eax, %eax
  out %al, $PROBE_EXIT
1:
  pop %rax
  iretq

gdtr:
  .word 55
  .quad GDT

DEFINE_SET_GATE
