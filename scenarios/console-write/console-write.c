// console-write — write `bytes` bytes (default 64 KiB) to the console.
//
// The bytes are made in ring 3 (cheap: user code runs natively) and handed
// to the kernel in write() calls of up to 64 KiB. What the kernel does with
// them is the lesson: the native kernel feeds the UART two port accesses
// per byte; the PV kernel hands the pages to virtio-console and rings its
// doorbell once per call. Same pattern as io-burst: 63 characters and a
// newline per line, line k starting at alphabet[k % 62].
#include "ringscope/user.h"

static char buf[64 * 1024];

int main(int argc, char **argv) {
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  long n = getparam(argc, argv, "bytes", 65536);
  char label[48];
  if (n < 0 || n > (1 << 20)) {
    printf("console-write: bytes=%ld out of range 0..1048576\n", n);
    return 2;
  }
  snprintf(label, sizeof(label), "console-write: %ld bytes", n);
  marker(MARK_BEGIN, label, (unsigned)n);
  for (long done = 0; done < n;) {
    long m = n - done < (long)sizeof(buf) ? n - done : (long)sizeof(buf);
    for (long i = 0; i < m; i++) {
      long k = done + i, line = k / 64, col = k % 64;
      buf[i] = col == 63 ? '\n' : alphabet[(line + col) % 62];
    }
    if (write(1, buf, m) != m)
      return 1;
    done += m;
  }
  marker(MARK_END, label, (unsigned)n);
  return 0;
}
