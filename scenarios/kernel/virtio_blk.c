// virtio_blk.c — the PV disk: virtio-blk (virtio 1.2, 5.2).
//
// One request is one chain of three descriptors: a 16-byte header the
// device reads (type, sector), the data (read by the device for a write,
// written by it for a read), and one status byte the device writes. One
// QueueNotify carries it, however many sectors it moves; the ATA disk
// needs a port access per register and per 4 bytes of data.
//
// Completion is signalled by interrupt: the device raises IRQ 6
// (IRQ_VIRTIO0 + 1) at the PIC, which hands the CPU vector T_IRQ0 + 6. We
// wait with `sti; hlt`, which stops this vCPU until the interrupt comes.
// sti's one-instruction shadow makes the pair atomic: an interrupt that
// is already pending wakes the hlt instead of slipping in before it.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "virtio.h"

#define VBLK_BASE (VIRTIO_MMIO_BASE + 1 * VIRTIO_MMIO_STRIDE)
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_T_IN  0
#define VIRTIO_BLK_T_OUT 1

static struct virtq q;
static struct { uint32 type, reserved; uint64 sector; } hdr;
static volatile uint8 status;

int vblk_init(void) {
  if (virtio_dev_init(VBLK_BASE, VIRTIO_ID_BLOCK, 0) < 0)
    return -1;
  if (virtq_init(&q, VBLK_BASE, 0, 1) < 0)
    return -1;
  virtio_driver_ok(VBLK_BASE);
  picenable(IRQ_VIRTIO0 + 1);
  return 0;
}

int vblk_rw(int write, uint64 sector, void *buf, uint32 nsect) {
  hdr.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
  hdr.reserved = 0;
  hdr.sector = sector;
  status = 0xff;
  uint64 pa[3] = {(uint64)&hdr, (uint64)buf, (uint64)&status};
  uint32 len[3] = {sizeof(hdr), nsect * 512, 1};
  uint16 fl[3] = {0, write ? 0 : VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE};
  if (virtq_add(&q, pa, len, fl, 3) < 0)
    return -1;
  uint64 seen = virtio_irqs[1];
  virtq_kick(&q);
  // Sleep until the completion interrupt. This VMM finishes the request
  // during the notify exit, so the interrupt is already pending and the
  // first hlt returns at once; a device working in the background (a disk
  // thread, real hardware) would wake us later. Bounded, so a device that
  // never interrupts cannot hang the kernel.
  for (int i = 0; i < 1000 && virtio_irqs[1] == seen; i++)
    asm volatile("sti; hlt; cli" ::: "memory");
  if (!virtq_done(&q))
    return -1;
  virtq_reap(&q);
  return status == 0 ? 0 : -1;
}
