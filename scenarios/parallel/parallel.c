// parallel — CPU-bound work in steps, a progress marker after each step.
//
// The kernel runs `procs` processes of this program at once (procs=N on
// its command line, main.c). Each does `steps` steps of `work` rounds of
// arithmetic and, after each step, writes a point marker labelled with
// its pid whose value is the step just finished: plotted against time,
// one line per process, the markers show who got a CPU when. With as many
// CPUs as processes the lines rise together; with fewer, the scheduler's
// time slices (the local APIC timer, 100 Hz) take turns; with one CPU,
// where nothing preempts a process, they run one after another.
//
// The console output does not depend on the number of CPUs: process 1
// prints what will happen, and the kernel prints each exit in pid order.
#include "ringscope/user.h"

int main(int argc, char **argv) {
  long procs = getparam(argc, argv, "procs", 1);
  long steps = getparam(argc, argv, "steps", 10);
  long work = getparam(argc, argv, "work", 100000);
  int pid = getpid();
  char label[32];

  if (steps < 1 || steps > 1000 || work < 1 || work > 100000000) {
    printf("parallel: steps=%ld (1..1000) or work=%ld (1..100000000) out of range\n", steps, work);
    return 2;
  }
  if (pid == 1)
    printf("parallel: %ld process%s, %ld steps of %ld rounds each, a marker after every step\n", procs,
           procs == 1 ? "" : "es", steps, work);

  // xorshift64: a few instructions a round, nothing the compiler can skip
  // (the result goes out through a volatile).
  unsigned long x = 88172645463325252UL + (unsigned long)pid;
  volatile unsigned long sink;
  snprintf(label, sizeof(label), "pid %d", pid);
  for (long s = 1; s <= steps; s++) {
    for (long i = 0; i < work; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    sink = x;
    marker(MARK_POINT, label, (unsigned)s);
  }
  (void)sink;
  return 0;
}
