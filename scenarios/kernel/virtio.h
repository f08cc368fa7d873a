// virtio.h — virtio-mmio and split virtqueues, the driver side (virtio 1.2).
#pragma once
#include "types.h"

#define VIRTIO_MMIO_BASE   0x3f000000UL   // device n at base + n * 0x200
#define VIRTIO_MMIO_STRIDE 0x200

// Register offsets (virtio 1.2, 4.2.2).
#define VIO_MAGIC          0x000
#define VIO_VERSION        0x004
#define VIO_DEVICE_ID      0x008
#define VIO_DEV_FEATURES   0x010
#define VIO_DEV_FEAT_SEL   0x014
#define VIO_DRV_FEATURES   0x020
#define VIO_DRV_FEAT_SEL   0x024
#define VIO_QUEUE_SEL      0x030
#define VIO_QUEUE_NUM_MAX  0x034
#define VIO_QUEUE_NUM      0x038
#define VIO_QUEUE_READY    0x044
#define VIO_QUEUE_NOTIFY   0x050
#define VIO_INT_STATUS     0x060
#define VIO_INT_ACK        0x064
#define VIO_STATUS         0x070
#define VIO_QUEUE_DESC     0x080
#define VIO_QUEUE_DRIVER   0x090
#define VIO_QUEUE_DEVICE   0x0a0
#define VIO_CONFIG         0x100

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define QSZ 32   // descriptors per queue: enough for 64 KiB in 4 KiB pieces

struct virtq_desc { uint64 addr; uint32 len; uint16 flags; uint16 next; };
struct virtq_avail { uint16 flags; uint16 idx; uint16 ring[QSZ]; uint16 used_event; };
struct virtq_used_elem { uint32 id; uint32 len; };
struct virtq_used { uint16 flags; uint16 idx; struct virtq_used_elem ring[QSZ]; uint16 avail_event; };

struct virtq {
  struct virtq_desc desc[QSZ] __attribute__((aligned(16)));
  struct virtq_avail avail __attribute__((aligned(2)));
  struct virtq_used used __attribute__((aligned(4)));
  uint64 base;        // the device's MMIO window
  uint32 index;       // queue number
  uint16 ndesc;       // descriptors handed out in the current batch
  uint16 last_used;   // used.idx we have seen
};

extern volatile uint64 virtio_irqs[2];
int virtio_dev_init(uint64 base, uint32 devid, uint32 features);
int virtq_init(struct virtq *q, uint64 base, uint32 index, int interrupts);
void virtio_driver_ok(uint64 base);
int virtq_add(struct virtq *q, const uint64 *pa, const uint32 *len, const uint16 *flags, int n);
int virtq_space(struct virtq *q);
void virtq_kick(struct virtq *q);
int virtq_done(struct virtq *q);
void virtq_reap(struct virtq *q);
