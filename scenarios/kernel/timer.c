// timer.c — the tick: the Intel 8254 PIT's channel 0 on IRQ 0.
//
// The PIT counts down at 1193182 Hz. In mode 2 (rate generator) it
// reloads its count and pulses IRQ 0 every `count` ticks, so a count of
// 1193182 / hz interrupts hz times a second. The handler only counts: the
// scheduler's tick, with several CPUs, is each CPU's local APIC timer
// (lapic.c), and with one nothing preempts.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "x86.h"

#define IO_TIMER   0x40          // channel 0 data port
#define TIMER_MODE (IO_TIMER + 3)
#define TIMER_SEL0 0x00          // control word: channel 0
#define TIMER_LSBMSB 0x30        //   count written LSB then MSB
#define TIMER_RATEGEN 0x04       //   mode 2
#define TIMER_FREQ 1193182

volatile uint64 ticks;
static uint64 stopat;  // mask the timer once this many ticks are in (0: never)

// Programs channel 0 for `hz` interrupts a second, to stop by itself after
// `n` ticks (0: run until timerstop); returns the count.
int timerinit(int hz, uint64 n) {
  int count = TIMER_FREQ / hz;
  outb(TIMER_MODE, TIMER_SEL0 | TIMER_LSBMSB | TIMER_RATEGEN);
  outb(IO_TIMER, count & 0xff);
  outb(IO_TIMER, (count >> 8) & 0xff);
  ticks = 0;
  stopat = n;
  picenable(IRQ_TIMER);
  return count;
}

void timerstop(void) { picdisable(IRQ_TIMER); }

// The waiter sleeps in `sti; hlt` and closes interrupts with `cli` as soon
// as it wakes; but between waking and `cli` another tick may already be
// due (a slow, loaded or single-stepped guest), and it would be counted
// too. Masking IRQ 0 at the PIC as soon as the last wanted tick is in
// makes the count exact: the next edge waits in the PIC, unseen.
void timerintr(void) {
  ticks++;
  if (stopat && ticks >= stopat)
    picdisable(IRQ_TIMER);
}
