// usys.S — system call stubs. Arguments are already in rdi, rsi, rdx (the C
// calling convention's first three), so a stub only loads the number.
//
// `int $0x40` traps to vector 64 through the IDT. On this project's PVM
// host it arrives as #UD instead and the kernel emulates it (trap.c); the
// program cannot tell the difference.
#include "ringscope/sysnum.h"

#define SYSCALL(name, num) \
  .globl name;             \
  name:                    \
  movl $num, %eax;         \
  int $T_SYSCALL;          \
  ret

.text
SYSCALL(exit, SYS_exit)
SYSCALL(write, SYS_write)
SYSCALL(getpid, SYS_getpid)
SYSCALL(sbrk, SYS_sbrk)
SYSCALL(marker, SYS_marker)
SYSCALL(time, SYS_time)
SYSCALL(read, SYS_read)
SYSCALL(nproc, SYS_nproc)
SYSCALL(yield, SYS_yield)
SYSCALL(cpuid, SYS_cpuid)
SYSCALL(bench, SYS_bench)
SYSCALL(ondivzero, SYS_ondivzero)
