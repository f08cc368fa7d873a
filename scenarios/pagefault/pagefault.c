// pagefault — grow the heap by n pages with sbrk() and touch each one
// (param pages, default 8).
//
// sbrk() only moves the program break; no memory is mapped. The first touch
// of each page raises a page fault (#PF, vector 14) in ring 3, the kernel
// maps a zeroed page and returns, and the store is retried: demand paging.
// Expect exactly n user-mode #PF between the markers.
#include "ringscope/user.h"

#define PGSIZE 4096

int main(int argc, char **argv) {
  long pages = getparam(argc, argv, "pages", 8);
  char label[48];
  snprintf(label, sizeof(label), "pagefault: touch %ld pages", pages);

  char *heap = sbrk(pages * PGSIZE);
  if (heap == (char *)-1) {
    printf("pagefault: sbrk(%ld) failed\n", pages * PGSIZE);
    return 1;
  }
  printf("pagefault: sbrk gave %ld pages; none is mapped yet\n", pages);

  marker(MARK_BEGIN, label, (unsigned)pages);
  for (long i = 0; i < pages; i++)
    heap[i * PGSIZE] = (char)(i + 1);  // first touch: #PF, then retried
  marker(MARK_END, label, (unsigned)pages);

  long sum = 0;
  for (long i = 0; i < pages; i++)
    sum += heap[i * PGSIZE];
  printf("pagefault: touched %ld pages, checksum %ld\n", pages, sum);
  return 0;
}
