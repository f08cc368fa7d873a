// syscall-insn — system calls through the `syscall` instruction instead
// of `int $0x40`.
//
// syscall is the fast way into the kernel: no IDT lookup and no stack
// pushed by the CPU; it jumps to the address in the LSTAR MSR and the
// kernel returns with sysretq. It clobbers rcx (return address) and r11
// (saved rflags). The ABI is otherwise the same: number in rax, arguments
// in rdi, rsi, rdx.
#include "ringscope/user.h"

static long sys(long num, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(num), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static void say(const char *s) { sys(SYS_write, 1, (long)s, (long)strlen(s)); }

int main(void) {
  char line[64];
  sys(SYS_marker, MARK_BEGIN, (long)"syscall-insn: 4 calls", 4);
  say("syscall-insn: this line came through the syscall instruction\n");
  long pid = sys(SYS_getpid, 0, 0, 0);
  snprintf(line, sizeof(line), "syscall-insn: getpid() = %ld, back by sysretq\n", pid);
  say(line);
  sys(SYS_marker, MARK_END, (long)"syscall-insn: 4 calls", 4);
  sys(SYS_exit, 0, 0, 0);
  return 1;  // not reached
}
