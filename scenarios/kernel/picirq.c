// picirq.c — the two Intel 8259A interrupt controllers of a PC.
//
// At reset the PICs would deliver IRQ 0-7 at vectors 8-15, on top of the
// CPU's own exceptions (#DF is 8), so the first thing a kernel does is
// program them with the four initialisation words: vectors T_IRQ0.. for
// the master, T_IRQ0+8.. for the slave, the slave cascaded on IRQ 2.
// Then every line is masked until a driver enables its own (picenable).
//
// A handler must end its interrupt with an EOI, or the PIC delivers
// nothing of the same or lower priority again.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "x86.h"

#define IO_PIC1 0x20  // master: command port, data port at +1
#define IO_PIC2 0xa0  // slave
#define PIC_EOI 0x20  // OCW2: non-specific end of interrupt
#define PIC_READ_ISR 0x0b  // OCW3: the command port reads the in-service register

static uint16 irqmask = 0xffff & ~(1 << IRQ_SLAVE);

static void setmask(uint16 mask) {
  irqmask = mask;
  outb(IO_PIC1 + 1, mask);
  outb(IO_PIC2 + 1, mask >> 8);
}

void picinit(void) {
  outb(IO_PIC1 + 1, 0xff);  // mask everything while we reprogram
  outb(IO_PIC2 + 1, 0xff);

  // ICW1: edge triggered, cascaded, ICW4 follows.
  outb(IO_PIC1, 0x11);
  // ICW2: vector base (the low three bits are the line number).
  outb(IO_PIC1 + 1, T_IRQ0);
  // ICW3 (master): a slave hangs on IR2.
  outb(IO_PIC1 + 1, 1 << IRQ_SLAVE);
  // ICW4: 8086 mode, normal (not automatic) EOI.
  outb(IO_PIC1 + 1, 0x01);

  outb(IO_PIC2, 0x11);
  outb(IO_PIC2 + 1, T_IRQ0 + 8);
  outb(IO_PIC2 + 1, IRQ_SLAVE);  // ICW3 (slave): my cascade identity is 2
  outb(IO_PIC2 + 1, 0x01);

  setmask(irqmask);
}

void picenable(int irq) { setmask(irqmask & ~(1 << irq)); }
void picdisable(int irq) { setmask(irqmask | (1 << irq)); }

// End of interrupt for `irq`. Returns 0, or -1 if it was spurious: a line
// that dropped before the CPU took it makes the PIC answer with IRQ 7 (or
// 15) without setting its in-service bit, and that must not be EOI'd.
int piceoi(int irq) {
  uint16 port = irq >= 8 ? IO_PIC2 : IO_PIC1;
  if ((irq & 7) == 7) {
    outb(port, PIC_READ_ISR);
    int inservice = inb(port) & 0x80;
    outb(port, 0x0a);  // back to reading IRR
    if (!inservice) {
      if (irq >= 8)
        outb(IO_PIC1, PIC_EOI);  // the master did see the cascade
      return -1;
    }
  }
  if (irq >= 8)
    outb(IO_PIC2, PIC_EOI);
  outb(IO_PIC1, PIC_EOI);
  return 0;
}

// Every hardware interrupt (trap.c sends vectors T_IRQ0..T_IRQ0+15 here).
// Which chip answered the CPU does not matter to us: ringscope's own 8259A
// model, KVM's in-kernel one, or QEMU's all speak the same protocol.
void irq(struct trapframe *tf) {
  int n = (int)(tf->trapno - T_IRQ0);
  if (piceoi(n) < 0)
    return;  // spurious: nothing to do, no EOI
  if (n == IRQ_TIMER)
    timerintr();
#ifdef VIRTIO
  if (n == IRQ_VIRTIO0 || n == IRQ_VIRTIO0 + 1)
    virtio_intr(n - IRQ_VIRTIO0);  // virtio.c: acknowledge at the device
  if (n == IRQ_VIRTIO0 + 2)
    vballoon_intr();  // virtio_balloon.c: the host changed its target
#endif
}
