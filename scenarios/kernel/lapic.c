// lapic.c — the local APIC: each CPU's own interrupt controller.
//
// Every x86 CPU has a local APIC, a small device reached by memory-mapped
// registers at 0xfee00000 (each CPU sees its own there). It does three
// jobs this kernel needs once there is more than one CPU:
//  * a timer per CPU, which lets each CPU's scheduler take the CPU away
//    from a process (the 8254 PIT is one chip, wired to one CPU);
//  * inter-processor interrupts (IPIs): a CPU writes the interrupt
//    command register (ICR) and another CPU takes an interrupt;
//  * starting the other CPUs: INIT, then STARTUP IPIs (smp.c).
//
// With one CPU the kernel never touches it: the PIT and the 8259A PIC do,
// as they always did (timer.c, picirq.c). With several, the boot CPU keeps
// the PIC wired through its LINT0 pin ("virtual wire" mode, how firmware
// leaves it), so task=tick works as before, and masks it on the others.
//
// Why the local APIC timer rather than the PIT plus IPIs from the boot
// CPU: each CPU then ticks by itself, with no CPU waiting on another, and
// KVM's in-kernel irqchip and QEMU both run it at a 1 GHz bus clock, so
// the same count gives the same 100 Hz on both without calibrating it.

#include "types.h"
#include "defs.h"
#include "memlayout.h"
#include "traps.h"
#include "x86.h"

// Register offsets, in 32-bit words (the registers are 16 bytes apart).
#define ID      (0x0020 / 4)   // ID: bits 31-24
#define VER     (0x0030 / 4)   // version; bits 23-16: the last LVT entry
#define TPR     (0x0080 / 4)   // task priority: 0 lets every interrupt in
#define EOI     (0x00b0 / 4)   // write 0: end of interrupt
#define SVR     (0x00f0 / 4)   // spurious interrupt vector, and the enable bit
#define   ENABLE   0x00000100
#define ESR     (0x0280 / 4)   // error status
#define ICRLO   (0x0300 / 4)   // interrupt command: writing it sends the IPI
#define   INIT     0x00000500  //   delivery mode INIT
#define   STARTUP  0x00000600  //   delivery mode STARTUP (SIPI)
#define   DELIVS   0x00001000  //   delivery status: still sending
#define   ASSERT   0x00004000
#define   LEVEL    0x00008000
#define ICRHI   (0x0310 / 4)   // interrupt command: bits 31-24, the target's ID
#define TIMER   (0x0320 / 4)   // LVT timer
#define   PERIODIC 0x00020000
#define   MASKED   0x00010000
#define PCINT   (0x0340 / 4)   // LVT performance counter
#define LINT0   (0x0350 / 4)   // LVT local interrupt pin 0
#define LINT1   (0x0360 / 4)   // LVT local interrupt pin 1
#define ERROR   (0x0370 / 4)   // LVT error
#define TICR    (0x0380 / 4)   // timer initial count
#define TDCR    (0x03e0 / 4)   // timer divide configuration
#define   X1       0x0000000b  //   divide the bus clock by 1

// 10,000,000 bus cycles at 1 GHz: 100 timer interrupts a second.
#define TIMER_COUNT 10000000

volatile uint32 *lapic;  // 0 until smp.c finds one (acpi.c)

static void lapicw(int index, uint32 value) {
  lapic[index] = value;
  (void)lapic[ID];  // a read waits for the write to finish
}

// Set up this CPU's local APIC. bsp: the boot CPU, which keeps LINT0.
void lapicinit(int bsp) {
  lapicw(SVR, ENABLE | T_SPURIOUS);  // on; spurious interrupts at T_SPURIOUS

  // The timer counts TICR down at the bus clock and, periodic, reloads
  // and interrupts at T_LTIMER each time it reaches 0.
  lapicw(TDCR, X1);
  lapicw(TIMER, PERIODIC | T_LTIMER);
  lapicw(TICR, TIMER_COUNT);

  if (!bsp) {
    lapicw(LINT0, MASKED);
    lapicw(LINT1, MASKED);
  }
  if (((lapic[VER] >> 16) & 0xff) >= 4)
    lapicw(PCINT, MASKED);
  lapicw(ERROR, MASKED);
  lapicw(ESR, 0);  // clear errors (a write first, as the SDM asks)
  lapicw(ESR, 0);
  lapicw(EOI, 0);  // in case an interrupt was left in service
  lapicw(TPR, 0);
}

uint32 lapicid(void) { return lapic[ID] >> 24; }

// Stop (0) or restart (1) this CPU's timer: task=ipi wants a CPU that
// only an IPI can wake.
void lapictimer(int on) { lapicw(TIMER, (on ? 0 : MASKED) | PERIODIC | T_LTIMER); }

void lapiceoi(void) { lapicw(EOI, 0); }

// A short wait, counted in loop turns, not time. Real hardware wants
// 10 ms after INIT and 200 us after each STARTUP (MultiProcessor
// Specification B.4); virtual CPUs, under KVM or QEMU, need none, and this
// kernel has no calibrated clock to measure microseconds with.
static void microdelay(int n) {
  for (int i = 0; i < n * 10; i++)
    asm volatile("pause");
}

static void sendipi(uint32 apicid, uint32 icrlo) {
  lapicw(ICRHI, apicid << 24);
  lapicw(ICRLO, icrlo);  // this write sends it
  while (lapic[ICRLO] & DELIVS)
    ;
}

// Interrupt the CPU whose local APIC has ID apicid, at vector.
void lapicipi(uint32 apicid, int vector) { sendipi(apicid, (uint32)vector); }

// Start the CPU with local APIC apicid at physical address addr (a page
// boundary below 1 MiB): INIT resets it and leaves it waiting; STARTUP
// (SIPI) starts it in 16-bit real mode at CS:IP = (addr >> 4):0, its
// vector field being addr's page number. Intel's recipe sends STARTUP
// twice: a CPU that missed the first gets the second, and a CPU already
// running ignores it.
void lapicstartap(uint32 apicid, uint64 addr) {
  sendipi(apicid, INIT | LEVEL | ASSERT);
  microdelay(200);
  sendipi(apicid, INIT | LEVEL);  // de-assert
  microdelay(100);
  for (int i = 0; i < 2; i++) {
    sendipi(apicid, STARTUP | (uint32)(addr >> 12));
    microdelay(200);
  }
}
