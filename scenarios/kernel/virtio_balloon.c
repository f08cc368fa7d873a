// virtio_balloon.c — the memory balloon: virtio-balloon (virtio 1.2, 5.5).
//
// The host wants memory back. It cannot take it by force: only the guest
// knows which of its pages are free. So it writes a number of 4 KiB pages
// into the config field num_pages and raises a configuration change
// interrupt (IRQ 7, IRQ_VIRTIO0 + 2). We "inflate the balloon": take that
// many pages from kalloc, so nothing in the guest can use them, and hand
// their page frame numbers to the device on the inflate queue. The VMM then
// tells its own kernel those pages are free (madvise MADV_DONTNEED), and
// the host's resident set shrinks. When the host lowers num_pages we
// deflate: tell the device on the deflate queue, then kfree the pages.
// Either way we report how many pages we hold in the config field actual.
//
// kalloc hands out pages from its free list first, so a balloon inflated
// right after a program freed memory takes exactly those pages: the ones
// the host has backed with real memory. That is the point of ballooning.
//
// The work is not done in the interrupt handler: kalloc takes a lock the
// interrupted code may hold. The handler only notes that the target
// changed; vballoon_poll does the work where no lock is held: on the way
// back to a user program after an interrupt (trap.c), and between
// programs (main.c), as xv6 yields on a timer interrupt from user space.
//
// We remember the pages we gave away in an array of our own, not in the
// pages themselves: the host has dropped their contents.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "spinlock.h"
#include "traps.h"
#include "virtio.h"

#define VBAL_BASE (VIRTIO_MMIO_BASE + 2 * VIRTIO_MMIO_STRIDE)
#define VIRTIO_ID_BALLOON 5
#define CFG_NUM_PAGES (VIO_CONFIG + 0)  // le32: pages the host wants
#define CFG_ACTUAL    (VIO_CONFIG + 4)  // le32: pages we hold
#define BATCH 256                      // PFNs per request, as Linux's driver
#define MAXPAGES 16384                 // the most we hold: 64 MiB

static struct virtq inflateq, deflateq;
static uint32 batch[BATCH];    // the PFNs of one request
static uint32 held[MAXPAGES];  // every page in the balloon
static uint32 nheld;
static int present;
static volatile int pending;   // the target changed; vballoon_poll has work
static struct spinlock lock = {0, "balloon", 0};

static inline uint32 rd(uint32 off) { return *(volatile uint32 *)(VBAL_BASE + off); }
static inline void wr(uint32 off, uint32 v) { *(volatile uint32 *)(VBAL_BASE + off) = v; }

int vballoon_init(void) {
  if (virtio_dev_init(VBAL_BASE, VIRTIO_ID_BALLOON, 0) < 0)
    return -1;  // no balloon: the host did not ask for one
  // Both queues polled: the device is done with a request when the
  // notify exit returns.
  if (virtq_init(&inflateq, VBAL_BASE, 0, 0) < 0 || virtq_init(&deflateq, VBAL_BASE, 1, 0) < 0)
    return -1;
  virtio_driver_ok(VBAL_BASE);
  picenable(IRQ_VIRTIO0 + 2);
  present = 1;
  pending = 1;  // the host may have set a target before we started
  return 0;
}

// IRQ 7: acknowledge at the device; a configuration change is our cue.
void vballoon_intr(void) {
  uint32 st = rd(VIO_INT_STATUS);
  wr(VIO_INT_ACK, st);
  if (st & 2)  // InterruptStatus bit 1: configuration change
    pending = 1;
}

// Hand n PFNs from batch[] to the device on q; it is done when the kick returns.
static void tell(struct virtq *q, uint32 n) {
  uint64 pa = (uint64)batch;  // identity map: the address is physical
  uint32 len = n * sizeof(batch[0]);
  uint16 fl = 0;
  virtq_add(q, &pa, &len, &fl, 1);
  virtq_kick(q);
  for (int i = 0; i < 1000000 && !virtq_done(q); i++)
    ;
  virtq_reap(q);
}

static void inflate(uint32 target) {
  while (nheld < target) {
    uint32 n = 0;
    while (n < BATCH && nheld + n < target) {
      void *pa = kalloc();
      if (!pa)
        break;  // the guest has no more to give; the host asked too much
      batch[n++] = (uint32)((uint64)pa / PGSIZE);
    }
    if (n == 0)
      break;
    tell(&inflateq, n);
    for (uint32 i = 0; i < n; i++)
      held[nheld++] = batch[i];
  }
}

static void deflate(uint32 target) {
  while (nheld > target) {
    uint32 n = 0;
    while (n < BATCH && nheld > target)
      batch[n++] = held[--nheld];
    // Tell the host first, then use the pages (VIRTIO_BALLOON_F_MUST_TELL_HOST
    // would oblige us to; telling first is correct either way).
    tell(&deflateq, n);
    for (uint32 i = 0; i < n; i++)
      kfree((void *)((uint64)batch[i] * PGSIZE));
  }
}

// Bring the balloon to the host's target. Called with no lock held.
void vballoon_poll(void) {
  if (!present || !pending)
    return;
  acquire(&lock);
  pending = 0;
  uint32 target = rd(CFG_NUM_PAGES);
  if (target > MAXPAGES)
    target = MAXPAGES;
  if (target > nheld) {
    marker(MARK_BEGIN, target - nheld, "balloon: inflate");
    inflate(target);
    marker(MARK_END, nheld, "balloon: inflate");
  } else if (target < nheld) {
    marker(MARK_BEGIN, nheld - target, "balloon: deflate");
    deflate(target);
    marker(MARK_END, nheld, "balloon: deflate");
  }
  wr(CFG_ACTUAL, nheld);
  release(&lock);
}
