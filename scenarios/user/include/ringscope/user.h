// user.h — everything a ringscope user program can call.
//
// A program is one C file with int main(int argc, char **argv); argv holds
// the program's name, then the words of the kernel command line, e.g.
// "n=16" (use getparam). See docs/syscalls.md.
#pragma once

#include "ringscope/sysnum.h"

typedef unsigned long size_t;
typedef long ssize_t;

// System calls (usys.S): `int $0x40`, number in rax.
void exit(int status) __attribute__((noreturn));
ssize_t write(int fd, const void *buf, size_t n);
int getpid(void);
void *sbrk(long n);
int marker(int phase, const char *label, unsigned value);
long time(void);  // seconds since 1970-01-01 00:00 UTC, or -1
ssize_t read(int fd, void *buf, size_t n);  // fd 0: console input; 0 at its end
int nproc(void);  // how many CPUs run the kernel
int yield(void);  // let another process run first; 0
int cpuid(void);  // which CPU (0 .. nproc()-1) runs me right now
// The kernel does operation op (BENCH_IN ...) n times, between markers of
// its own; addr: a page of the caller's (BENCH_PTEMOD). 0, or -1.
int bench(int op, long n, void *addr);
// On a divide error (#DE) in this program, continue at resume instead of
// being killed (0: be killed again). 0, or -1 if resume is not the program's.
int ondivzero(void (*resume)(void));

// ulib.c
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
long atol(const char *s);
int snprintf(char *buf, size_t size, const char *fmt, ...);
int printf(const char *fmt, ...);  // one write() per call
int puts(const char *s);           // s and "\n", one write()
// The value of key=value in argv as a number, or dflt if absent.
long getparam(int argc, char **argv, const char *key, long dflt);
