// Lab 7, a reference solution: spin in ring 3 for a while, inside the phase.
#include <ringscope/user.h>

int main(int argc, char **argv) {
  volatile unsigned long sum = 0;
  marker(MARK_BEGIN, "lab7: spin", 0);
  for (unsigned long i = 0; i < 100000000UL; i++)
    sum += i;
  marker(MARK_END, "lab7: spin", 0);
  printf("lab7: spun (%lu)\n", (unsigned long)sum);
  return 0;
}
