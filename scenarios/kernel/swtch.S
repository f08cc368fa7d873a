// swtch.S — switch kernel stacks, xv6 style.
//
//   void swtch(struct context **old, struct context *new);
//
// Push the callee-saved registers (the C ABI says the caller saved the
// rest), save the stack pointer in *old, load new's stack pointer, pop the
// registers it saved, and return on its stack. A CPU's scheduler uses it
// to run a process (proc.c), and a process to give the CPU back.
.text
.globl swtch
swtch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
