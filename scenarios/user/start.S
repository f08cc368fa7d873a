// start.S — where a user program starts. The kernel enters here in ring 3
// with rdi = argc, rsi = argv and rsp on a fresh, 16-byte aligned stack.
// main's return value becomes the exit status.
.text
.globl _start
_start:
  xorl %ebp, %ebp         // end of the frame-pointer chain, for debuggers
  call main
  movl %eax, %edi
  call exit
1:
  jmp 1b
