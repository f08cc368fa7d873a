// storm.S — the PIT at its fastest (count 2: a tick every 1.7 us), a main
// loop in `sti; hlt`, and a handler that spins longer than a period, so
// that by its iretq the next interrupt is always pending.
//
// COUNTERS+0: interrupts taken; at INTERRUPTS the guest reports status 0.
#include "guest.h"
#define INTERRUPTS 200000
#define SPIN 1000                       // loop iterations inside the handler

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
  SETUP_PIT(2)
idle:
  sti
  hlt
  jmp idle

tick:
  push %rax
  push %rcx
  incq COUNTERS
  mov $0x20, %al
  out %al, $0x20
  cmpq $INTERRUPTS, COUNTERS
  jb 1f
  xor %eax, %eax
  out %al, $PROBE_EXIT
1:
  mov $SPIN, %ecx
2:
  dec %ecx
  jnz 2b
  pop %rcx
  pop %rax
  iretq

DEFINE_SET_GATE
