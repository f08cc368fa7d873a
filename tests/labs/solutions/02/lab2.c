// Lab 2, a reference solution: 17 bytes with one write() inside the phase.
#include <ringscope/user.h>

int main(int argc, char **argv) {
  static const char msg[] = "trap and emulate\n";
  marker(MARK_BEGIN, "lab2: print", sizeof(msg) - 1);
  write(1, msg, sizeof(msg) - 1);
  marker(MARK_END, "lab2: print", sizeof(msg) - 1);
  return 0;
}
