// usys.c — the SDK's system calls for a host build of a user program: each
// one becomes the Linux system call that does the same work, so a program
// compiled from the same source, with the same flags and the same ulib.c,
// does the same work as a plain Linux process ("native" in
// `ringscope experiment efficiency`, docs/experiments.md).
//
//   exit, write, read, getpid, time, yield   the Linux call of that name
//   sbrk                                      Linux brk
//   nproc, cpuid                              sched_getaffinity, getcpu
//   marker                                    CLOCK_MONOTONIC, kept in memory;
//                                             written to fd 3 at exit (stderr
//                                             when fd 3 is not open)
//   bench, ondivzero                          -1: ring-0 work has no host twin
//
// A marker costs one clock_gettime system call here, as it costs one
// system call (and a port write) in the guest.
#include "ringscope/user.h"

#define LINUX_read 0
#define LINUX_write 1
#define LINUX_brk 12
#define LINUX_sched_yield 24
#define LINUX_getpid 39
#define LINUX_time 201
#define LINUX_sched_getaffinity 204
#define LINUX_clock_gettime 228
#define LINUX_exit_group 231
#define LINUX_getcpu 309
#define CLOCK_MONOTONIC 1

static long sys3(long num, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(num), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

ssize_t write(int fd, const void *buf, size_t n) {
  long r = sys3(LINUX_write, fd, (long)buf, (long)n);
  return r < 0 ? -1 : r;
}

ssize_t read(int fd, void *buf, size_t n) {
  long r = sys3(LINUX_read, fd, (long)buf, (long)n);
  return r < 0 ? -1 : r;
}

int getpid(void) { return (int)sys3(LINUX_getpid, 0, 0, 0); }

long time(void) { return sys3(LINUX_time, 0, 0, 0); }

int yield(void) {
  sys3(LINUX_sched_yield, 0, 0, 0);
  return 0;
}

int nproc(void) {
  unsigned long mask[16];
  long n = sys3(LINUX_sched_getaffinity, 0, sizeof(mask), (long)mask);
  int count = 0;
  for (long i = 0; n > 0 && i < n / 8; i++)
    for (unsigned long m = mask[i]; m; m &= m - 1)
      count++;
  return count ? count : 1;
}

int cpuid(void) {
  unsigned cpu = 0;
  return sys3(LINUX_getcpu, (long)&cpu, 0, 0) < 0 ? 0 : (int)cpu;
}

void *sbrk(long n) {
  static long brk;
  if (!brk)
    brk = sys3(LINUX_brk, 0, 0, 0);
  long old = brk;
  if (n && sys3(LINUX_brk, old + n, 0, 0) != old + n)
    return (void *)-1;
  brk = old + n;
  return (void *)old;
}

int bench(int op, long n, void *addr) { return -1; }

int ondivzero(void (*resume)(void)) { return -1; }

// ---- markers -------------------------------------------------------------

#define NMARK 64
static struct mark {
  int phase;
  unsigned value;
  unsigned long ns;
  char label[64];
} marks[NMARK];
static int nmarks;

int marker(int phase, const char *label, unsigned value) {
  struct { long sec, nsec; } ts;
  sys3(LINUX_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0);
  if (nmarks == NMARK || phase < MARK_POINT || phase > MARK_END)
    return -1;
  struct mark *m = &marks[nmarks++];
  m->phase = phase;
  m->value = value;
  m->ns = (unsigned long)ts.sec * 1000000000UL + (unsigned long)ts.nsec;
  int i = 0;
  for (; label[i] && i < (int)sizeof(m->label) - 1; i++)
    m->label[i] = label[i] == '\n' ? ' ' : label[i];
  m->label[i] = 0;
  return 0;
}

// One line per marker: "marker begin|end|point NS VALUE LABEL".
static void flushmarks(void) {
  static const char *names[] = {"point", "begin", "end"};
  char line[128];
  int fd = 3;
  for (int i = 0; i < nmarks; i++) {
    int len = snprintf(line, sizeof(line), "marker %s %lu %u %s\n", names[marks[i].phase], marks[i].ns,
                       marks[i].value, marks[i].label);
    if (write(fd, line, len) < 0 && fd == 3) {
      fd = 2;
      i--;
    }
  }
}

void exit(int status) {
  flushmarks();
  for (;;)
    sys3(LINUX_exit_group, status, 0, 0);
}
