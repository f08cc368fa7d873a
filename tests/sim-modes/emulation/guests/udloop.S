// udloop.S — a #UD handler that returns to the ud2 that raised it: a
// fault loop that never ends by itself. Counts at COUNTERS+0.
#include "guest.h"

  .text
  .code64
  .globl _start
_start:
  SETUP_IDT
  mov $6, %edi
  lea ud(%rip), %rsi
  call set_gate
  movq $0, COUNTERS
again:
  ud2

ud:
  incq COUNTERS
  iretq

DEFINE_SET_GATE
