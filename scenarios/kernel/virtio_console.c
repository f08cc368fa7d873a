// virtio_console.c — the PV console: virtio-console port 0 (virtio 1.2, 5.3).
//
// Output goes through the transmit queue (queue 1): each buffer of output
// is one descriptor pointing at the bytes where they already are (a user
// page, a kernel buffer), so nothing is copied. Many descriptors, one
// QueueNotify: one exit for up to QSZ pieces, where the UART pays two exits
// per byte. The transmit queue is polled (VIRTQ_AVAIL_F_NO_INTERRUPT), as
// Linux's virtio_console does: a device that finishes during the notify
// exit has said so by the time we look; one on its own thread (run --io
// offload) a little later, and we spin until it has.
//
// Input comes through the receive queue (queue 0): we post one empty,
// device-writable buffer; the device fills it with what it has during the
// notify exit and puts it on the used ring. Polled as well: by the time a
// kick returns, the used ring says whether there was input. None means the
// input has ended (ringscope hands it all over before the run).

#include "types.h"
#include "defs.h"
#include "virtio.h"

#define VCONS_BASE (VIRTIO_MMIO_BASE + 0 * VIRTIO_MMIO_STRIDE)
#define VIRTIO_ID_CONSOLE 3

static struct virtq rxq, txq;
static char rxbuf[64];
static uint32 rxlen, rxoff;  // bytes the device put in rxbuf; how many we have taken
static int rxposted;         // rxbuf is on the ring, owned by the device

static void post_rxbuf(void) {
  uint64 pa = (uint64)rxbuf;  // identity map: the address is physical
  uint32 len = sizeof(rxbuf);
  uint16 fl = VIRTQ_DESC_F_WRITE;
  virtq_add(&rxq, &pa, &len, &fl, 1);
  virtq_kick(&rxq);
  rxposted = 1;
}

int vcons_init(void) {
  if (virtio_dev_init(VCONS_BASE, VIRTIO_ID_CONSOLE, 0) < 0)
    return -1;
  if (virtq_init(&rxq, VCONS_BASE, 0, 0) < 0 || virtq_init(&txq, VCONS_BASE, 1, 0) < 0)
    return -1;
  virtio_driver_ok(VCONS_BASE);
  post_rxbuf();
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
  // Done at once when the VMM serves the notify during its exit; a device
  // thread beside the vCPU (run --io offload) takes a little longer.
  for (int i = 0; i < (1 << 24) && !virtq_done(&txq); i++)
    asm volatile("pause" ::: "memory");
  virtq_reap(&txq);
}

// The next byte of input, or -1 if there is none. When the buffer we hold
// is used up, post it again; the device fills it during that kick or not
// at all. The length the device reports is hostile: capped at the buffer.
int vcons_getc(void) {
  if (rxoff == rxlen) {
    if (!rxposted)
      post_rxbuf();
    if (!virtq_done(&rxq))
      return -1;
    uint32 len = rxq.used.ring[rxq.last_used % QSZ].len;
    virtq_reap(&rxq);
    rxposted = 0;
    rxlen = len < sizeof(rxbuf) ? len : sizeof(rxbuf);
    rxoff = 0;
    if (rxlen == 0)
      return -1;
  }
  return (uint8)rxbuf[rxoff++];
}
