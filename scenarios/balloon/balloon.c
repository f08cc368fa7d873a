// balloon — touch n pages, give them back, and let the host take them
// (param pages, default 256: 1 MiB).
//
// Three phases, each between markers:
//   touch: sbrk(n pages), one store per page: n page faults; the kernel
//          maps a zeroed page each time, and the host backs it with real
//          memory (its resident set grows by about n pages).
//   free:  sbrk(-n pages): the kernel unmaps the pages and puts them on its
//          free list. The host still backs them: it cannot know they are free.
//   then:  a host that gave the guest a virtio-balloon and a target
//          (`run --balloon-target MiB --balloon-after "balloon: free"`, or
//          QMP `balloon`) asks for memory back when the free phase ends; the
//          PV kernel inflates the balloon with the pages it just got back
//          and the VMM drops them (madvise): the resident set shrinks.
// Without a balloon (or in full-virt) the program prints the same thing.
#include "ringscope/user.h"

#define PGSIZE 4096

int main(int argc, char **argv) {
  long pages = getparam(argc, argv, "pages", 256);
  char touch[48], give[48];
  snprintf(touch, sizeof(touch), "balloon: touch %ld pages", pages);
  snprintf(give, sizeof(give), "balloon: free %ld pages", pages);

  char *heap = sbrk(pages * PGSIZE);
  if (heap == (char *)-1) {
    printf("balloon: sbrk(%ld) failed\n", pages * PGSIZE);
    return 1;
  }
  marker(MARK_BEGIN, touch, (unsigned)pages);
  for (long i = 0; i < pages; i++)
    heap[i * PGSIZE] = (char)(i + 1);  // first touch: #PF, a zeroed page
  marker(MARK_END, touch, (unsigned)pages);

  long sum = 0;
  for (long i = 0; i < pages; i++)
    sum += (unsigned char)heap[i * PGSIZE];

  marker(MARK_BEGIN, give, (unsigned)pages);
  if (sbrk(-pages * PGSIZE) == (char *)-1) {
    printf("balloon: sbrk(-%ld) failed\n", pages * PGSIZE);
    return 1;
  }
  marker(MARK_END, give, (unsigned)pages);

  printf("balloon: touched %ld pages (checksum %ld), gave them back to the kernel\n", pages, sum);
  return 0;
}
