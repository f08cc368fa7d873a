// spin.S — a guest that spins with interrupts on and counts PIT ticks.
//
// `sti; jmp .` forever: only the timer interrupt can make progress. The
// handler counts at COUNTERS+0 and, at TICKS, reports exit status 0.
#include "guest.h"
#define TICKS 50
#define COUNT 119                       // ~10 kHz: a tick every 100 us

  .text
  .code64
  .globl _start
_start:
  SETUP_IDT
  mov $32, %edi
  lea tick(%rip), %rsi
  call set_gate
  movq $0, COUNTERS
  SETUP_PIC
  SETUP_PIT(COUNT)
  sti
spin:
  jmp spin

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

DEFINE_SET_GATE
