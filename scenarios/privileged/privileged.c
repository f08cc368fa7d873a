// privileged — execute `hlt` in ring 3.
//
// hlt is privileged: at CPL 3 the CPU refuses it with a general protection
// fault (#GP, vector 13) instead of halting. The kernel's #GP handler sees
// the fault came from user mode and kills the program: exit status
// 128 + 13 = 141.
#include "ringscope/user.h"

int main(void) {
  printf("privileged: pid %d executes hlt in ring 3\n", getpid());
  asm volatile("hlt");
  printf("privileged: still running: the CPU ignored the privilege check!\n");
  return 1;
}
