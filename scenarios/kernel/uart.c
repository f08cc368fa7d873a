// uart.c — a 16550 UART on COM1 (I/O ports 0x3f8..0x3ff), polled.
//
// Every register access here is an `in` or `out` instruction, which a
// hypervisor must intercept: under full virtualisation each one is a VM exit
// handled by the VMM's UART model. Sending one byte costs two exits: read
// LSR to see that the transmitter is empty, then write THR.
//
// No "\n" -> "\r\n" translation: the bytes on the wire are exactly the bytes
// the program wrote, so the trace's output events and expected.txt match.

#include "types.h"
#include "x86.h"
#include "defs.h"

#define COM1 0x3f8
#define THR  0   // transmit holding register (write)
#define IER  1   // interrupt enable
#define FCR  2   // FIFO control (write)
#define LCR  3   // line control
#define MCR  4   // modem control
#define RBR  0   // receive buffer (read)
#define LSR  5   // line status
#define DLL  0   // divisor latch, low byte (when LCR.DLAB = 1)
#define DLM  1   // divisor latch, high byte (when LCR.DLAB = 1)

#define LCR_DLAB  0x80
#define LCR_8N1   0x03
#define LSR_DR    0x01   // data ready: RBR holds a received byte
#define LSR_THRE  0x20   // transmit holding register empty

void uartinit(void) {
  outb(COM1 + IER, 0x00);       // no interrupts: we poll
  outb(COM1 + LCR, LCR_DLAB);   // expose the divisor latch
  outb(COM1 + DLL, 1);          // 115200 baud (divisor 1)
  outb(COM1 + DLM, 0);
  outb(COM1 + LCR, LCR_8N1);    // 8 data bits, no parity, 1 stop bit
  outb(COM1 + FCR, 0x07);       // enable and clear the FIFOs
  outb(COM1 + MCR, 0x03);       // DTR, RTS
}

void uartputc(int c) {
  // Bounded: a machine without a UART reads 0xff and must not hang us.
  for (int i = 0; i < 10000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
    ;
  outb(COM1 + THR, (uint8)c);
}

// The next received byte, or -1 if none is waiting. Two exits per byte
// under full-virt (LSR, then RBR), and one more to learn there is none.
// We never wait for typing: ringscope hands the whole input over before
// the run, so "nothing waiting" means the input has ended.
int uartgetc(void) {
  if (!(inb(COM1 + LSR) & LSR_DR))
    return -1;
  return inb(COM1 + RBR);
}
