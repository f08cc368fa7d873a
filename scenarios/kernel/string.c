// string.c — the few libc string functions the kernel needs.
//
// memset/memcpy use `rep stos`/`rep movs`: one instruction however long
// the buffer. Where ring 0 is emulated instruction by instruction (PVM,
// docs/hosts.md) a byte loop would cost a thousand times more.

#include "types.h"
#include "defs.h"

// Whole 8-byte words go by `rep stosq`/`rep movsq` when the buffers allow:
// an instruction emulator (KVM's, on PVM) repeats a rep instruction once
// per element, so a page costs 512 steps instead of 4096.
void *memset(void *dst, int c, uint64 n) {
  void *d = dst;
  if (((uint64)dst | n) % 8 == 0) {
    uint64 w = (uint8)c * 0x0101010101010101UL, q = n / 8;
    asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(w) : "memory");
  } else {
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  }
  return dst;
}

void *memcpy(void *dst, const void *src, uint64 n) {
  void *d = dst;
  if (((uint64)dst | (uint64)src | n) % 8 == 0) {
    uint64 q = n / 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
  } else {
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  }
  return dst;
}

void *memmove(void *dst, const void *src, uint64 n) {
  if ((uint64)dst <= (uint64)src || (uint64)dst >= (uint64)src + n)
    return memcpy(dst, src, n);
  // Overlapping, destination above source: copy backwards.
  char *d = (char *)dst + n;
  const char *s = (const char *)src + n;
  while (n-- > 0)
    *--d = *--s;
  return dst;
}

int memcmp(const void *a, const void *b, uint64 n) {
  const uint8 *x = a, *y = b;
  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

uint64 strlen(const char *s) {
  uint64 n = 0;
  while (s[n])
    n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return (uint8)*a - (uint8)*b;
}

int strncmp(const char *a, const char *b, uint64 n) {
  while (n > 0 && *a && *a == *b)
    n--, a++, b++;
  return n == 0 ? 0 : (uint8)*a - (uint8)*b;
}

// Like strncpy but always NUL-terminates.
char *safestrcpy(char *dst, const char *src, int size) {
  char *d = dst;
  if (size <= 0)
    return dst;
  while (--size > 0 && (*d++ = *src++) != 0)
    ;
  *d = 0;
  return dst;
}
