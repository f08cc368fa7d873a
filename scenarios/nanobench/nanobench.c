// nanobench — the virtualization nanobenchmarks of Adams & Agesen, "A
// Comparison of Software and Hardware Techniques for x86 Virtualization"
// (ASPLOS 2006), one marked phase each, n operations (param n, default 100),
// adapted to this 64-bit kernel. The phases, in the paper's order:
//
//   syscall   getpid() from ring 3: into the kernel and back
//   in        a port read in the kernel (the UART's scratch register)
//   cr8wr     a write of CR8, the task-priority register, in the kernel
//   call/ret  a call of an empty function in the kernel
//   pgfault   the first touch of a new heap page: a #PF the kernel serves
//   divzero   a division by zero: a #DE the kernel resumes the program from
//   ptemod    the kernel changes a page-table entry, then invlpg
//
// The rows that must run in ring 0 are one system call each, bench(op, n,
// addr), whose loop the kernel brackets with markers of its own
// (kernel/nanobench.c); the others are loops here, between our markers.
// `ringscope compare nanobench` divides each phase by its n.
#include "ringscope/user.h"

#define PGSIZE 4096
#define NMAX 4096  // pgfault touches n new pages: 16 MiB at most

// One division by zero. `div` raises #DE; the kernel, told by ondivzero()
// where to go on, continues the program at divzero_resume, past the div,
// with rax still 1. Had the division completed, rax would be 0.
long divzero_once(void);
extern char divzero_resume[];
asm(".text\n"
    ".globl divzero_once\n"
    "divzero_once:\n"
    "  mov $1, %eax\n"
    "  xor %edx, %edx\n"
    "  xor %ecx, %ecx\n"
    "  div %rcx\n"          // rdx:rax / 0: #DE
    "  xor %eax, %eax\n"    // not reached
    ".globl divzero_resume\n"
    "divzero_resume:\n"
    "  ret\n");

// The page whose page-table entry the kernel changes (ptemod).
static char ptepage[PGSIZE] __attribute__((aligned(PGSIZE)));

static char label[48];

static void begin(const char *row, long n, const char *unit) {
  snprintf(label, sizeof(label), "%s: %ld %s", row, n, unit);
  marker(MARK_BEGIN, label, (unsigned)n);
}

static void end(long n) { marker(MARK_END, label, (unsigned)n); }

static int syscalls(long n) {
  int pid = getpid(), same = 0;
  begin("syscall", n, "calls");
  for (long i = 0; i < n; i++)
    same += getpid() == pid;
  end(n);
  printf("syscall: %ld getpid() calls from ring 3\n", n);
  return same == n ? 0 : 1;
}

static int pgfaults(long n) {
  char *heap = sbrk(n * PGSIZE);  // maps nothing: each page faults in on first touch
  if (heap == (char *)-1) {
    printf("pgfault: sbrk(%ld) failed\n", n * PGSIZE);
    return 1;
  }
  begin("pgfault", n, "faults");
  for (long i = 0; i < n; i++)
    heap[i * PGSIZE] = 1;  // #PF, the kernel maps a zeroed page, the store is retried
  end(n);
  long sum = 0;
  for (long i = 0; i < n; i++)
    sum += heap[i * PGSIZE];
  printf("pgfault: %ld new heap pages touched, each a page fault\n", n);
  return sum == n ? 0 : 1;
}

static int divzeros(long n) {
  long resumed = 0;
  if (ondivzero((void (*)(void))divzero_resume) < 0) {
    printf("divzero: ondivzero failed\n");
    return 1;
  }
  begin("divzero", n, "faults");
  for (long i = 0; i < n; i++)
    resumed += divzero_once();
  end(n);
  ondivzero(0);
  printf("divzero: %ld divisions by zero, each resumed by the kernel\n", n);
  return resumed == n ? 0 : 1;
}

// A row the kernel does (kernel/nanobench.c).
static int inkernel(int op, long n, void *addr, const char *what) {
  if (bench(op, n, addr) < 0) {
    printf("nanobench: bench(%d, %ld) failed\n", op, n);
    return 1;
  }
  printf("%s\n", what);
  return 0;
}

int main(int argc, char **argv) {
  long n = getparam(argc, argv, "n", 100);
  char what[4][64];
  if (n < 1 || n > NMAX) {
    printf("nanobench: n=%ld out of range 1..%d\n", n, NMAX);
    return 2;
  }
  ptepage[0] = 1;
  printf("nanobench: %ld operations per row (Adams & Agesen, ASPLOS 2006)\n", n);
  snprintf(what[0], sizeof(what[0]), "in: %ld port reads in the kernel", n);
  snprintf(what[1], sizeof(what[1]), "cr8wr: %ld writes of CR8 in the kernel", n);
  snprintf(what[2], sizeof(what[2]), "call/ret: %ld calls in the kernel", n);
  snprintf(what[3], sizeof(what[3]), "ptemod: %ld page-table entry changes in the kernel", n);
  int bad = 0;
  bad |= syscalls(n);
  bad |= inkernel(BENCH_IN, n, 0, what[0]);
  bad |= inkernel(BENCH_CR8, n, 0, what[1]);
  bad |= inkernel(BENCH_CALLRET, n, 0, what[2]);
  bad |= pgfaults(n);
  bad |= divzeros(n);
  bad |= inkernel(BENCH_PTEMOD, n, ptepage, what[3]);
  printf("nanobench: %s\n", bad ? "SOME ROWS FAILED" : "all rows done");
  return bad;
}
