// virtio.c — the virtio-mmio transport and split virtqueues, driver side.
//
// Bring-up (virtio 1.2, 3.1.1): reset, ACKNOWLEDGE, DRIVER, read the
// device's features, write the ones we accept (always VERSION_1: this is
// a modern, version 2 device), FEATURES_OK and check it stuck, set up each
// queue's three ring addresses, QueueReady, then DRIVER_OK.
//
// Every register access below is an MMIO exit. That is fine here: it
// happens once at boot. The point of virtio is what happens afterwards:
// requests travel through rings in our own memory, and the only register
// touched per batch is QueueNotify.
//
// Descriptors are handed out from 0 in each batch, because every batch is
// waited for before the next one starts (virtq_reap); a driver with
// requests in flight would keep a free list instead.

#include "types.h"
#include "defs.h"
#include "virtio.h"

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8

static inline uint32 rd(uint64 base, uint32 off) { return *(volatile uint32 *)(base + off); }
static inline void wr(uint64 base, uint32 off, uint32 v) { *(volatile uint32 *)(base + off) = v; }

int virtio_dev_init(uint64 base, uint32 devid, uint32 features) {
  if (rd(base, VIO_MAGIC) != 0x74726976 || rd(base, VIO_VERSION) != 2 || rd(base, VIO_DEVICE_ID) != devid)
    return -1;
  wr(base, VIO_STATUS, 0);  // reset
  wr(base, VIO_STATUS, ST_ACK);
  wr(base, VIO_STATUS, ST_ACK | ST_DRIVER);
  wr(base, VIO_DEV_FEAT_SEL, 1);
  if (!(rd(base, VIO_DEV_FEATURES) & 1))  // VIRTIO_F_VERSION_1 (bit 32)
    return -1;
  wr(base, VIO_DEV_FEAT_SEL, 0);
  uint32 offered = rd(base, VIO_DEV_FEATURES);
  wr(base, VIO_DRV_FEAT_SEL, 0);
  wr(base, VIO_DRV_FEATURES, features & offered);
  wr(base, VIO_DRV_FEAT_SEL, 1);
  wr(base, VIO_DRV_FEATURES, 1);
  wr(base, VIO_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
  if (!(rd(base, VIO_STATUS) & ST_FEATURES_OK))
    return -1;
  return 0;
}

// interrupts = 0 sets VIRTQ_AVAIL_F_NO_INTERRUPT: we will poll this queue,
// so the device must not interrupt us when it uses a buffer.
int virtq_init(struct virtq *q, uint64 base, uint32 index, int interrupts) {
  memset(q, 0, sizeof(*q));
  q->base = base;
  q->index = index;
  q->avail.flags = interrupts ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
  wr(base, VIO_QUEUE_SEL, index);
  if (rd(base, VIO_QUEUE_NUM_MAX) < QSZ)
    return -1;
  wr(base, VIO_QUEUE_NUM, QSZ);
  // The kernel's identity map: these addresses are physical.
  wr(base, VIO_QUEUE_DESC, (uint32)(uint64)q->desc);
  wr(base, VIO_QUEUE_DESC + 4, (uint32)((uint64)q->desc >> 32));
  wr(base, VIO_QUEUE_DRIVER, (uint32)(uint64)&q->avail);
  wr(base, VIO_QUEUE_DRIVER + 4, (uint32)((uint64)&q->avail >> 32));
  wr(base, VIO_QUEUE_DEVICE, (uint32)(uint64)&q->used);
  wr(base, VIO_QUEUE_DEVICE + 4, (uint32)((uint64)&q->used >> 32));
  wr(base, VIO_QUEUE_READY, 1);
  return 0;
}

void virtio_driver_ok(uint64 base) { wr(base, VIO_STATUS, rd(base, VIO_STATUS) | ST_DRIVER_OK); }

int virtq_space(struct virtq *q) { return QSZ - q->ndesc; }

// Puts one chain of n buffers into the available ring (not yet visible
// to the device until virtq_kick).
int virtq_add(struct virtq *q, const uint64 *pa, const uint32 *len, const uint16 *flags, int n) {
  if (n <= 0 || n > virtq_space(q))
    return -1;
  uint16 head = q->ndesc;
  for (int i = 0; i < n; i++) {
    struct virtq_desc *d = &q->desc[q->ndesc];
    d->addr = pa[i];
    d->len = len[i];
    d->flags = flags[i] | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
    d->next = i + 1 < n ? q->ndesc + 1 : 0;
    q->ndesc++;
  }
  q->avail.ring[q->avail.idx % QSZ] = head;
  // The ring entry must be visible before the index that publishes it.
  asm volatile("" ::: "memory");
  q->avail.idx++;
  return head;
}

// One exit for the whole batch.
void virtq_kick(struct virtq *q) {
  asm volatile("" ::: "memory");
  wr(q->base, VIO_QUEUE_NOTIFY, q->index);
}

// Has the device used everything we made available?
int virtq_done(struct virtq *q) {
  return *(volatile uint16 *)&q->used.idx == q->avail.idx;
}

void virtq_reap(struct virtq *q) {
  q->last_used = q->used.idx;
  q->ndesc = 0;
}

// Interrupts seen per device; a waiter sleeps until its count moves.
volatile uint64 virtio_irqs[2];

// The interrupt handler for device n (IRQ 5 + n, picirq.c has already
// sent the PIC its EOI): acknowledge at the device, InterruptStatus then
// InterruptACK, so the device may interrupt again.
void virtio_intr(int dev) {
  uint64 base = VIRTIO_MMIO_BASE + dev * VIRTIO_MMIO_STRIDE;
  wr(base, VIO_INT_ACK, rd(base, VIO_INT_STATUS));
  virtio_irqs[dev]++;
}
