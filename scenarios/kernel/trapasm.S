// trapasm.S — the way into the kernel from a trap, and the way back out.
//
// Two doors lead in:
//  * the IDT: exceptions and `int $0x40`. The CPU switches to TSS.RSP0 when
//    coming from ring 3, pushes ss, rsp, rflags, cs, rip (and an error code
//    for some vectors); a per-vector stub below pushes the rest.
//  * the `syscall` instruction (syscallentry): the CPU only swaps CS/SS and
//    jumps to LSTAR, leaving RSP alone, so we switch stacks by hand and
//    build the same trapframe, so trap() sees one shape either way.
// Both meet in trap() (trap.c) with a struct trapframe * (traps.h).

#include "mmu.h"


// One stub per vector. Where the CPU pushes no error code itself the stub
// pushes a 0, so every trapframe has the same layout; then the vector
// number, so trap() knows what happened.
.text
.macro VECTOR n
  .globl vector\n
vector\n:
  .if !((\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30))
  pushq $0
  .endif
  pushq $\n
  jmp alltraps
.endm

VECTOR 0
VECTOR 1
VECTOR 2
VECTOR 3
VECTOR 4
VECTOR 5
VECTOR 6
VECTOR 7
VECTOR 8
VECTOR 9
VECTOR 10
VECTOR 11
VECTOR 12
VECTOR 13
VECTOR 14
VECTOR 15
VECTOR 16
VECTOR 17
VECTOR 18
VECTOR 19
VECTOR 20
VECTOR 21
VECTOR 22
VECTOR 23
VECTOR 24
VECTOR 25
VECTOR 26
VECTOR 27
VECTOR 28
VECTOR 29
VECTOR 30
VECTOR 31
VECTOR 64
// The PIC's sixteen lines (picirq.c puts IRQ 0-15 at vectors 32-47).
VECTOR 32
VECTOR 33
VECTOR 34
VECTOR 35
VECTOR 36
VECTOR 37
VECTOR 38
VECTOR 39
VECTOR 40
VECTOR 41
VECTOR 42
VECTOR 43
VECTOR 44
VECTOR 45
VECTOR 46
VECTOR 47
// The local APIC's timer, IPI and spurious vectors (traps.h).
VECTOR 48
VECTOR 49
VECTOR 63

// Save every general-purpose register: trap() may change any of them
// (a system call's result goes in rax), and the program must find the rest
// exactly as it left them.
.macro SAVE_REGS
  pushq %rax
  pushq %rbx
  pushq %rcx
  pushq %rdx
  pushq %rsi
  pushq %rdi
  pushq %rbp
  pushq %r8
  pushq %r9
  pushq %r10
  pushq %r11
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
.endm
.macro RESTORE_REGS
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %r11
  popq %r10
  popq %r9
  popq %r8
  popq %rbp
  popq %rdi
  popq %rsi
  popq %rdx
  popq %rcx
  popq %rbx
  popq %rax
.endm

alltraps:
  SAVE_REGS
  movq %rsp, %rdi
  call trap
// A new process starts here too (proc.c builds a trapframe and a context
// whose rip is trapret): the first "return" from a trap starts ring 3.
.globl trapret
trapret:
  RESTORE_REGS
  addq $16, %rsp          // trapno and err
  iretq

// The syscall instruction: RCX = user RIP, R11 = user RFLAGS, RSP = user
// stack (untouched!). SFMASK already cleared IF, so nothing can interrupt
// us while we are still on the user's stack.
//
// Which kernel stack? Each CPU runs its own process, so the answer is in
// this CPU's struct cpu (proc.h), and there is no free register to find
// it with. `swapgs` swaps GS's base with MSR_KERNEL_GS_BASE, which seg.c
// pointed at the struct cpu: %gs:0 is then cpu->kstack, %gs:8 a place to
// keep the user's rsp. A second swapgs gives the user its GS back.
.globl syscallentry
syscallentry:
  swapgs
  movq %rsp, %gs:8                // cpu->user_rsp
  movq %gs:0, %rsp                // cpu->kstack
  pushq $(SEG_UDATA | DPL_USER)   // ss
  pushq %gs:8                     // rsp
  swapgs
  pushq %r11                      // rflags
  pushq $(SEG_UCODE | DPL_USER)   // cs
  pushq %rcx                      // rip
  pushq $0                        // err
  pushq $256                      // trapno: T_SYSCALL_INSN (traps.h)
  SAVE_REGS
  movq %rsp, %rdi
  call trap
  RESTORE_REGS
  addq $16, %rsp
  popq %rcx                       // rip -> RCX for sysret
  addq $8, %rsp                   // cs (sysret sets it from STAR)
  popq %r11                       // rflags -> R11 for sysret
  popq %rsp                       // back on the user's stack
  sysretq

// Table of the 32 exception stubs, for idtinit().
.section .rodata
.balign 8
.globl irqvectors
irqvectors:
  .quad vector32, vector33, vector34, vector35, vector36, vector37, vector38, vector39
  .quad vector40, vector41, vector42, vector43, vector44, vector45, vector46, vector47
.globl lapicvectors
lapicvectors:
  .quad vector48, vector49, vector63
.globl trapvectors
trapvectors:
  .quad vector0
  .quad vector1
  .quad vector2
  .quad vector3
  .quad vector4
  .quad vector5
  .quad vector6
  .quad vector7
  .quad vector8
  .quad vector9
  .quad vector10
  .quad vector11
  .quad vector12
  .quad vector13
  .quad vector14
  .quad vector15
  .quad vector16
  .quad vector17
  .quad vector18
  .quad vector19
  .quad vector20
  .quad vector21
  .quad vector22
  .quad vector23
  .quad vector24
  .quad vector25
  .quad vector26
  .quad vector27
  .quad vector28
  .quad vector29
  .quad vector30
  .quad vector31
