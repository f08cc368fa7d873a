// ulib.c — a tiny C library for user programs: strings, formatted output,
// and parameters from the command line. Everything runs in ring 3 except
// the write() at the end of printf: one system call per printf.

#include "ringscope/user.h"

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

long atol(const char *s) {
  long n = 0, sign = 1;
  if (*s == '-')
    sign = -1, s++;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}

long getparam(int argc, char **argv, const char *key, long dflt) {
  size_t k = strlen(key);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    size_t j = 0;
    while (j < k && a[j] == key[j])
      j++;
    if (j == k && a[k] == '=')
      return atol(a + k + 1);
  }
  return dflt;
}

// ---- formatting: %d %u %x %p %s %c %%, 0 flag, width, l ---------------
struct buf {
  char *p;
  size_t size, len;
};

static void put(struct buf *b, char c) {
  if (b->len + 1 < b->size)
    b->p[b->len] = c;
  b->len++;
}

static void putnum(struct buf *b, unsigned long x, int base, int neg, int width, char pad) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = "0123456789abcdef"[x % base];
    x /= base;
  } while (x);
  if (neg)
    tmp[i++] = '-';
  for (int w = i; w < width; w++)
    put(b, pad);
  while (--i >= 0)
    put(b, tmp[i]);
}

static int vformat(char *out, size_t size, const char *fmt, __builtin_va_list ap) {
  struct buf b = {out, size, 0};
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(&b, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, islong = 0;
    if (*fmt == '0')
      pad = '0', fmt++;
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l')
      islong = 1, fmt++;
    switch (*fmt) {
    case 'd': {
      long v = islong ? __builtin_va_arg(ap, long) : __builtin_va_arg(ap, int);
      putnum(&b, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      putnum(&b, islong ? __builtin_va_arg(ap, unsigned long) : __builtin_va_arg(ap, unsigned), 10, 0, width, pad);
      break;
    case 'x':
      putnum(&b, islong ? __builtin_va_arg(ap, unsigned long) : __builtin_va_arg(ap, unsigned), 16, 0, width, pad);
      break;
    case 'p':
      put(&b, '0');
      put(&b, 'x');
      putnum(&b, (unsigned long)__builtin_va_arg(ap, void *), 16, 0, width, pad);
      break;
    case 'c':
      put(&b, (char)__builtin_va_arg(ap, int));
      break;
    case 's': {
      const char *s = __builtin_va_arg(ap, const char *);
      for (s = s ? s : "(null)"; *s; s++)
        put(&b, *s);
      break;
    }
    case 0:
      fmt--;
      break;
    default:
      put(&b, '%');
      put(&b, *fmt);
    }
  }
  if (size > 0)
    out[b.len < size ? b.len : size - 1] = 0;
  return (int)b.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vformat(buf, size, fmt, ap);
  __builtin_va_end(ap);
  return n;
}

int printf(const char *fmt, ...) {
  char buf[512];
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vformat(buf, sizeof(buf), fmt, ap);
  __builtin_va_end(ap);
  if (n > (int)sizeof(buf) - 1)
    n = sizeof(buf) - 1;
  return (int)write(1, buf, n);
}

int puts(const char *s) {
  char buf[512];
  size_t n = strlen(s);
  if (n > sizeof(buf) - 1)
    n = sizeof(buf) - 1;
  memcpy(buf, s, n);
  buf[n] = '\n';
  return (int)write(1, buf, n + 1);
}
