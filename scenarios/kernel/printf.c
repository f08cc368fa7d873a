// printf.c — formatted output to the console (the UART), and panic().
//
// Supports %d %u %x %p %s %c %%, an optional 0 flag and width, and the l
// modifier (64-bit). One formatter serves both cprintf (to the UART) and
// snprintf (to a buffer), through a tiny output callback.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "x86.h"

struct out {
  void (*put)(struct out *, char);
  char *buf;
  int size, len;
};

static void put_uart(struct out *o, char c) {
  consputc(c);
  o->len++;
}

static void put_buf(struct out *o, char c) {
  if (o->len + 1 < o->size)
    o->buf[o->len] = c;
  o->len++;
}

static void putnum(struct out *o, uint64 x, int base, int neg, int width, char pad) {
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = digits[x % base];
    x /= base;
  } while (x != 0);
  if (neg)
    tmp[i++] = '-';
  for (int w = i; w < width; w++)
    o->put(o, pad);
  while (--i >= 0)
    o->put(o, tmp[i]);
}

static void vformat(struct out *o, const char *fmt, __builtin_va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      o->put(o, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, islong = 0;
    if (*fmt == '0') {
      pad = '0';
      fmt++;
    }
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      islong = 1;
      fmt++;
    }
    switch (*fmt) {
    case 'd': {
      int64 v = islong ? __builtin_va_arg(ap, int64) : __builtin_va_arg(ap, int);
      putnum(o, v < 0 ? -(uint64)v : (uint64)v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      putnum(o, islong ? __builtin_va_arg(ap, uint64) : __builtin_va_arg(ap, uint32), 10, 0, width, pad);
      break;
    case 'x':
      putnum(o, islong ? __builtin_va_arg(ap, uint64) : __builtin_va_arg(ap, uint32), 16, 0, width, pad);
      break;
    case 'p':
      o->put(o, '0');
      o->put(o, 'x');
      putnum(o, (uint64)__builtin_va_arg(ap, void *), 16, 0, width, pad);
      break;
    case 'c':
      o->put(o, (char)__builtin_va_arg(ap, int));
      break;
    case 's': {
      const char *s = __builtin_va_arg(ap, const char *);
      if (!s)
        s = "(null)";
      while (*s)
        o->put(o, *s++);
      break;
    }
    case '%':
      o->put(o, '%');
      break;
    case 0:
      return;
    default:  // unknown: print it as written, so the mistake is visible
      o->put(o, '%');
      o->put(o, *fmt);
    }
  }
}

// One lock keeps two CPUs' lines from mixing (console.c's conslock).
void cprintf(const char *fmt, ...) {
  struct out o = {put_uart, 0, 0, 0};
  __builtin_va_list ap;
  conslock_acquire();
  __builtin_va_start(ap, fmt);
  vformat(&o, fmt, ap);
  __builtin_va_end(ap);
  conslock_release();
}

int snprintf(char *buf, int size, const char *fmt, ...) {
  struct out o = {put_buf, buf, size, 0};
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  vformat(&o, fmt, ap);
  __builtin_va_end(ap);
  if (size > 0)
    buf[o.len < size ? o.len : size - 1] = 0;
  return o.len;
}

void dumpregs(struct trapframe *tf) {
  cprintf("  rip %016lx  cs %04lx  rflags %016lx\n", tf->rip, tf->cs, tf->rflags);
  cprintf("  rsp %016lx  ss %04lx  trap %ld err %lx cr2 %016lx\n", tf->rsp, tf->ss, tf->trapno, tf->err,
          rcr2());
  cprintf("  rax %016lx  rbx %016lx  rcx %016lx\n", tf->rax, tf->rbx, tf->rcx);
  cprintf("  rdx %016lx  rsi %016lx  rdi %016lx\n", tf->rdx, tf->rsi, tf->rdi);
  cprintf("  rbp %016lx  r8  %016lx  r9  %016lx\n", tf->rbp, tf->r8, tf->r9);
  cprintf("  r10 %016lx  r11 %016lx  r12 %016lx\n", tf->r10, tf->r11, tf->r12);
  cprintf("  r13 %016lx  r14 %016lx  r15 %016lx\n", tf->r13, tf->r14, tf->r15);
  cprintf("  cr3 %016lx\n", rcr3());
}

// A kernel bug or an impossible state: say what, then stop the machine with
// status 255 so no test mistakes it for a program's own exit status.
void panic(const char *fmt, ...) {
  struct out o = {put_uart, 0, 0, 0};
  __builtin_va_list ap;
  panicked = 1;  // from now on the console takes no lock: we may hold it
  cprintf("panic: ");
  __builtin_va_start(ap, fmt);
  vformat(&o, fmt, ap);
  __builtin_va_end(ap);
  cprintf("\n");
  marker(MARK_POINT, 255, "panic");
  probe_exit(255);
}
