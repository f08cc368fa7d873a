// syscalls — make n write() system calls (param n, default 16).
//
// Each write is one `int $0x40`: a trap from ring 3 into the kernel, the
// kernel's UART writes (VM exits), then iretq back to ring 3. The markers
// bracket the loop so the trace shows exactly what n system calls cost.
#include "ringscope/user.h"

int main(int argc, char **argv) {
  long n = getparam(argc, argv, "n", 16);
  char label[48], line[32];
  snprintf(label, sizeof(label), "syscalls: %ld writes", n);
  marker(MARK_BEGIN, label, (unsigned)n);
  for (long i = 1; i <= n; i++) {
    int len = snprintf(line, sizeof(line), "write %ld of %ld\n", i, n);
    write(1, line, len);
  }
  marker(MARK_END, label, (unsigned)n);
  return 0;
}
