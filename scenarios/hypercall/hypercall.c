// hypercall — ask the kernel for the time with time(), and watch it tick.
//
// The program is the same in every mode; the kernel is not. The native
// kernel reads the CMOS real-time clock register by register (two port
// accesses per register, each a VM exit under full-virt); the PV kernel
// makes one hypercall. One query is bracketed by markers so the trace
// shows exactly what one answer cost.
//
// That query is made just after the clock ticked, not at a random moment:
// once a second the clock updates its registers, and a query that meets
// the update (status A's update-in-progress bit, or two readings that
// disagree) reads more registers. Right after a tick the next update is
// almost a second away, so the bracketed query is always the plain one.
//
// The console shows only what is the same in every run: that the year is
// plausible and that the clock moves forward. The time itself goes into
// the trace, as the value of the `time` marker.
#include "ringscope/user.h"

static int leap(long y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// The year (UTC) of a Unix time.
static long year_of(long t) {
  long days = t / 86400, y = 1970;
  while (days >= (leap(y) ? 366 : 365))
    days -= leap(y++) ? 366 : 365;
  return y;
}

// Burn n iterations in ring 3: no exits, cheap in every mode.
static void spin(long n) {
  for (long i = 0; i < n; i++)
    asm volatile("");
}

int main(void) {
  long t0 = time();
  if (t0 < 0) {
    printf("hypercall: time() failed\n");
    return 1;
  }

  // Ask again until the second changes: at most a second of waiting, in
  // growing spins so that a slow mode (emulation) asks as rarely as a
  // fast one. Bounded: a stopped clock ends the loop. The bound must allow
  // more than a second even where ring 3 runs natively and a 2^24-iteration
  // spin takes only ~5 ms (KVM): 1000 queries is seconds in every mode.
  // A reading that is not after t0 (the same second, or a failed or
  // backwards answer) means "ask again"; failed and backwards ones are
  // counted and reported in a marker, so a flaky clock shows in the trace
  // without changing the console.
  long t1 = t0, n = 1 << 16, queries = 0, bad = 0;
  marker(MARK_BEGIN, "wait for the next second", 0);
  while (t1 <= t0 && queries < 1000) {
    spin(n);
    if (n < (1 << 24))
      n *= 2;
    t1 = time();
    if (t1 < t0)
      bad++;
    queries++;
  }
  marker(MARK_END, "wait for the next second", (unsigned)queries);
  if (bad)
    marker(MARK_POINT, "bad time readings", (unsigned)bad);

  // The clock just ticked: this query meets no update (see the top).
  marker(MARK_BEGIN, "time()", 0);
  long t2 = time();
  marker(MARK_END, "time()", 0);
  marker(MARK_POINT, "time", (unsigned)t2);
  long y = year_of(t2);
  int plausible = y >= 2024 && y <= 2099;
  printf("hypercall: the year is between 2024 and 2099: %s\n", plausible ? "yes" : "NO");
  int forward = t1 > t0 && t2 >= t1;
  printf("hypercall: the clock moves forward: %s\n", forward ? "yes" : "NO");
  return plausible && forward ? 0 : 1;
}
