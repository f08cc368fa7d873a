// kalloc.c — the physical page allocator.
//
// Free memory is the RAM in the PVH memory map, minus what is already in
// use: everything below 1 MiB (firmware, start_info, the VMM's boot page
// tables), the kernel image, and the boot modules. Pages are handed out by
// bumping through those ranges; freed pages go on a list and are reused
// first. Unlike xv6 we do not put every page on the free list at boot: that
// walk would touch 16,000 pages in ring 0, which is slow where ring 0 is
// emulated (docs/hosts.md).

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "memlayout.h"
#include "spinlock.h"

struct memrange {
  uint64 start, end;
};
extern struct memrange bootram[];
extern int nbootram;
extern char __kernel_start[], __kernel_end[];

#define MAXRANGES 32
static struct memrange ranges[MAXRANGES];
static int nranges, cur;

struct run {
  struct run *next;
};
static struct run *freelist;
static uint64 nfree;
// Two CPUs may take a page fault at once: one lock around the lists.
static struct spinlock kmem = {0, "kmem", 0};

// Remove [s, e) from every free range, splitting a range in two if needed.
static void reserve(uint64 s, uint64 e) {
  for (int i = 0; i < nranges; i++) {
    struct memrange r = ranges[i];
    if (e <= r.start || s >= r.end)
      continue;
    if (s > r.start && e < r.end && nranges < MAXRANGES) {
      ranges[i].end = s;
      ranges[nranges].start = e;
      ranges[nranges].end = r.end;
      nranges++;
    } else if (s > r.start) {
      ranges[i].end = s;
    } else {
      ranges[i].start = e < r.end ? e : r.end;
    }
  }
}

void kinit(void) {
  for (int i = 0; i < nbootram && nranges < MAXRANGES; i++) {
    uint64 s = PGROUNDUP(bootram[i].start), e = PGROUNDDOWN(bootram[i].end);
    if (s < KERNBASE)
      s = KERNBASE;
    if (e > PHYSTOP)  // only the identity-mapped first 1 GiB is usable
      e = PHYSTOP;
    if (s < e) {
      ranges[nranges].start = s;
      ranges[nranges].end = e;
      nranges++;
    }
  }
  reserve((uint64)__kernel_start, (uint64)__kernel_end);
  struct bootmodule *mods;
  int n = bootmodules(&mods);
  for (int i = 0; i < n; i++)
    reserve(PGROUNDDOWN(mods[i].paddr), PGROUNDUP(mods[i].paddr + mods[i].size));
  for (int i = 0; i < nranges; i++)
    if (ranges[i].end > ranges[i].start)
      nfree += (ranges[i].end - ranges[i].start) / PGSIZE;
  if (nfree == 0)
    panic("kinit: no free memory in the PVH memory map");
}

// One 4 KiB page of physical memory, not zeroed, or 0 if none is left.
void *kalloc(void) {
  void *p = 0;
  acquire(&kmem);
  if (freelist) {
    struct run *r = freelist;
    freelist = r->next;
    nfree--;
    p = r;
  }
  for (; !p && cur < nranges; cur++) {
    if (ranges[cur].start < ranges[cur].end) {
      p = (void *)ranges[cur].start;
      ranges[cur].start += PGSIZE;
      nfree--;
      break;
    }
  }
  release(&kmem);
  return p;
}

void kfree(void *pa) {
  if ((uint64)pa % PGSIZE || (uint64)pa < KERNBASE || (uint64)pa >= PHYSTOP)
    panic("kfree: bad page %p", pa);
  struct run *r = pa;
  acquire(&kmem);
  r->next = freelist;
  freelist = r;
  nfree++;
  release(&kmem);
}

uint64 kfree_pages(void) { return nfree; }
