// compute — n iterations of integer arithmetic in ring 3 (param n).
//
// No system calls and no device access between the markers: only user
// code. Under KVM it runs natively on the CPU (no exits); under emulation
// every instruction is translated and executed in software. So the time
// per iteration is the price of emulation itself, with nothing else mixed
// in. `syscalls` is the kernel-heavy counterpart.
#include "ringscope/user.h"

int main(int argc, char **argv) {
  long n = getparam(argc, argv, "n", 100000);
  char label[48];
  unsigned long x = 1;

  if (n < 0 || n > 1000000000L) {
    printf("compute: n=%ld out of range 0..1000000000\n", n);
    return 2;
  }
  snprintf(label, sizeof(label), "compute: %ld iterations", n);
  marker(MARK_BEGIN, label, (unsigned)n);
  // A 64-bit linear congruential step (Knuth's MMIX constants): the result
  // is printed, so the compiler cannot drop the loop.
  for (long i = 0; i < n; i++)
    x = x * 6364136223846793005UL + 1442695040888963407UL;
  marker(MARK_END, label, (unsigned)n);
  printf("compute: %ld iterations, x = %lx\n", n, x);
  return 0;
}
