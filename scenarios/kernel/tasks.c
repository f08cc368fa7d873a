// tasks.c — work the kernel does by itself, chosen with task=NAME on the
// command line. No user program involved: these show what ring-0 device
// access costs on its own.

#include "types.h"
#include "defs.h"

// task=hello: a greeting, written by ring 0 one UART register at a time.
static int hello(void) {
  marker(MARK_BEGIN, 0, "hello");
  cprintf("Hello from the ringscope teaching kernel!\n");
  cprintf("Every byte of this line cost two port accesses: LSR, then THR.\n");
  marker(MARK_END, 0, "hello");
  return 0;
}

// task=io-burst bytes=N: N bytes of a fixed printable pattern, a newline
// every 64 bytes. Byte i of line k is alphabet[(k + i) % 62], so every line
// is different and a lost or doubled byte shows in a diff.
static int ioburst(void) {
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  int64 n = cmdline_int("bytes", 4096);
  char label[56];
  if (n < 0 || n > (1 << 20)) {
    cprintf("kernel: io-burst: bytes=%ld out of range 0..1048576\n", n);
    return 2;
  }
  snprintf(label, sizeof(label), "io-burst: %ld bytes", n);
  marker(MARK_BEGIN, (uint32)n, label);
  for (int64 i = 0; i < n; i++) {
    int64 line = i / 64, col = i % 64;
    uartputc(col == 63 ? '\n' : alphabet[(line + col) % 62]);
  }
  marker(MARK_END, (uint32)n, label);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(void);
} tasks[] = {
  {"hello", hello},
  {"io-burst", ioburst},
};

int runtask(const char *name) {
  for (uint64 i = 0; i < NELEM(tasks); i++)
    if (strcmp(tasks[i].name, name) == 0)
      return tasks[i].fn();
  cprintf("kernel: unknown task '%s' (known: hello io-burst)\n", name);
  return 2;
}
