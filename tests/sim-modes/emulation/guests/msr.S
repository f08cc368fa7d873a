// msr.S — rdmsr and wrmsr of an MSR no CPU model implements must raise
// #GP(0); known MSRs must not. The #GP handler counts at COUNTERS+0, keeps
// the error code at COUNTERS+8 and the faulting RIP at COUNTERS+16, and
// skips the 2-byte instruction. Exit status: the number of #GPs.
#include "guest.h"
#define NO_SUCH_MSR 0x4b564d99          // in no vendor's range

  .text
  .code64
  .globl _start
_start:
  SETUP_IDT
  mov $13, %edi
  lea gp(%rip), %rsi
  call set_gate
  movq $0, COUNTERS
  movq $-1, COUNTERS+8
  mov $NO_SUCH_MSR, %ecx
  mov $0x1111, %eax
  mov $0x2222, %edx
  rdmsr                                 // #GP(0); EAX, EDX unchanged
  cmp $0x1111, %eax
  jne bad
  cmp $0x2222, %edx
  jne bad
  wrmsr                                 // #GP(0)
  mov $0xc0000082, %ecx                 // IA32_LSTAR: known
  mov $0x12345678, %eax
  xor %edx, %edx
  wrmsr
  xor %eax, %eax
  rdmsr
  cmp $0x12345678, %eax
  jne bad
  mov $0xc0000080, %ecx                 // IA32_EFER: known
  rdmsr
  mov COUNTERS, %rax
  out %al, $PROBE_EXIT
  hlt
bad:
  mov $0xbd, %al
  out %al, $PROBE_EXIT
  hlt

gp:
  incq COUNTERS
  push %rbx
  mov 8(%rsp), %rbx                     // the error code
  mov %rbx, COUNTERS+8
  mov 16(%rsp), %rbx                    // the RIP pushed
  mov %rbx, COUNTERS+16
  addq $2, 16(%rsp)                     // past the 2-byte rdmsr/wrmsr
  pop %rbx
  add $8, %rsp                          // drop the error code
  iretq

DEFINE_SET_GATE
