// start.S — where a user program starts when it is built for the host (a
// plain Linux process, docs/experiments.md "efficiency"): Linux puts argc at
// (%rsp) and argv right above it. Same contract as ../start.S: main's
// return value becomes the exit status.
.text
.globl _start
_start:
  xorl %ebp, %ebp
  movq (%rsp), %rdi       // argc
  leaq 8(%rsp), %rsi      // argv
  andq $-16, %rsp         // the ABI's alignment at a call
  call main
  movl %eax, %edi
  call exit
1:
  jmp 1b
.section .note.GNU-stack,"",@progbits
