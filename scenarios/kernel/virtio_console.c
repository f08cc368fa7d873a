// virtio_console.c — the PV console: virtio-console port 0 (virtio 1.2, 5.3).
//
// Output goes through the transmit queue (queue 1): each buffer of output
// is one descriptor pointing at the bytes where they already are (a user
// page, a kernel buffer), so nothing is copied. Many descriptors, one
// QueueNotify: one exit for up to QSZ pieces, where the UART pays two exits
// per byte. The transmit queue is polled (VIRTQ_AVAIL_F_NO_INTERRUPT), as
// Linux's virtio_console does: the device finishes during the notify exit,
// so by the time we look, the used ring already says so.
//
// The receive queue (queue 0) is set up with interrupts on and posts one
// buffer for input; nothing in the scenarios reads it yet.

#include "types.h"
#include "defs.h"
#include "virtio.h"

#define VCONS_BASE (VIRTIO_MMIO_BASE + 0 * VIRTIO_MMIO_STRIDE)
#define VIRTIO_ID_CONSOLE 3

static struct virtq rxq, txq;
static char rxbuf[64];

int vcons_init(void) {
  if (virtio_dev_init(VCONS_BASE, VIRTIO_ID_CONSOLE, 0) < 0)
    return -1;
  if (virtq_init(&rxq, VCONS_BASE, 0, 1) < 0 || virtq_init(&txq, VCONS_BASE, 1, 0) < 0)
    return -1;
  virtio_driver_ok(VCONS_BASE);
  uint64 pa = (uint64)rxbuf;
  uint32 len = sizeof(rxbuf);
  uint16 fl = VIRTQ_DESC_F_WRITE;
  virtq_add(&rxq, &pa, &len, &fl, 1);
  virtq_kick(&rxq);
  return 0;
}

// Queue one piece of output (physical address, length); sends the batch
// first if the ring is full.
void vcons_queue(uint64 pa, uint32 len) {
  if (virtq_space(&txq) == 0)
    vcons_send();
  uint16 fl = 0;
  virtq_add(&txq, &pa, &len, &fl, 1);
}

// Notify once for everything queued, then wait until it is used.
void vcons_send(void) {
  if (txq.ndesc == 0)
    return;
  virtq_kick(&txq);
  for (int i = 0; i < 1000000 && !virtq_done(&txq); i++)
    ;
  virtq_reap(&txq);
}
