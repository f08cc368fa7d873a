// sysnum.h — system call numbers: the one table shared by the kernel
// (scenarios/kernel/syscall.c) and user programs (usys.S).
// ABI: number in rax; arguments in rdi, rsi, rdx; result in rax.
// See docs/syscalls.md.
#pragma once

#include "guest_abi.h"  // marker phases MARK_POINT, MARK_BEGIN, MARK_END (docs/probe-port.md)

#define SYS_exit    1   // exit(status)                      never returns
#define SYS_write   2   // write(fd, buf, n)                 -> n, or -1
#define SYS_getpid  3   // getpid()                          -> pid (1, 2, ...)
#define SYS_sbrk    4   // sbrk(n)                           -> old break, or -1
#define SYS_marker  5   // marker(phase, label, value)       -> 0, or -1
#define SYS_time    6   // time()                            -> seconds since 1970 (UTC), or -1
#define SYS_read    7   // read(fd, buf, n)                  -> bytes read, 0 at end of input, or -1
#define SYS_nproc   8   // nproc()                           -> how many CPUs run the kernel
#define SYS_yield   9   // yield()                           -> 0, after other processes had a turn
#define SYS_cpuid  10   // cpuid()                           -> the running CPU's index, 0 .. nproc()-1
#define SYS_bench  11   // bench(op, n, addr)                -> 0, or -1 (nanobench: n kernel-side operations)
#define SYS_ondivzero 12 // ondivzero(resume)                -> 0, or -1 (on a #DE continue at resume)

// bench()'s operations: the nanobenchmarks that need ring 0
// (scenarios/kernel/nanobench.c, the nanobench scenario).
#define BENCH_IN      1   // in from a port: the UART's scratch register
#define BENCH_CR8     2   // mov to CR8, the task-priority register
#define BENCH_CALLRET 3   // call and ret of an empty function
#define BENCH_PTEMOD  4   // change the PTE of the page at addr, then invlpg
#define BENCH_MAX 100000  // the most operations one bench() call does

// The vector of `int $0x40`, the system-call trap (as in xv6).
#define T_SYSCALL 64
