// echo — read a line from the console and print it back in capitals.
//
// read(0, ...) is the console's input: what `ringscope run --input FILE`
// or `--input-text STRING` hands the machine before it starts. The native
// kernel takes it from the UART's receive register one byte at a time
// (LSR.DR, then RBR: two exits per byte); the PV kernel from
// virtio-console's receive queue, a buffer at a time. The program is the
// same, and so is its output. With no input, read() returns 0 at once
// (end of file) and the program says so.
#include "ringscope/user.h"

int main(void) {
  char line[128];
  size_t n = 0;
  // read() returns at most one line; a long line comes in pieces.
  marker(MARK_BEGIN, "read a line", 0);
  while (n < sizeof(line) - 1) {
    ssize_t r = read(0, line + n, sizeof(line) - 1 - n);
    if (r < 0) {
      printf("echo: read failed\n");
      return 1;
    }
    if (r == 0)
      break;  // end of the input
    n += (size_t)r;
    if (line[n - 1] == '\n')
      break;
  }
  marker(MARK_END, "read a line", (unsigned)n);
  if (n == 0) {
    printf("echo: no input (read returned 0: end of file)\n");
    return 0;
  }
  if (line[n - 1] == '\n')
    n--;
  line[n] = 0;
  for (size_t i = 0; i < n; i++)
    if (line[i] >= 'a' && line[i] <= 'z')
      line[i] = (char)(line[i] - 'a' + 'A');
  printf("echo: %s\n", line);
  return 0;
}
