// ide.c — the legacy disk: ATA PIO on the primary channel, as in xv6.
//
// Port 0x1f0 is the data port, 0x1f1..0x1f7 the task-file registers:
// sector count, LBA bits 0..23 in three byte registers, drive/head with
// LBA bits 24..27, and the command/status register; 0x3f6 is device
// control. Every one of these is an `in` or `out`, and every 512-byte
// sector moves through the data port 4 bytes at a time, so under full
// virtualisation a sector costs over a hundred VM exits. Compare
// virtio_blk.c, where a request of any size costs one notify.
//
// Polled, not interrupt-driven: nIEN is set in device control.
//
// The protocol, as the ATA standard gives it and as QEMU's IDE model
// enforces it: select the drive first, wait 400 ns, and only then trust
// the status register, because status always describes the *selected*
// drive. A firmware (SeaBIOS under QEMU) may leave drive 1 selected; an
// absent drive's status reads 0, DRDY never comes, and a driver that polls
// before selecting waits in vain. The 400 ns are four reads of the
// alternate status register (each ISA read takes at least 100 ns), which
// has no side effects; the same wait follows the command.

#include "types.h"
#include "defs.h"
#include "x86.h"

#define IDE_DATA    0x1f0
#define IDE_COUNT   0x1f2
#define IDE_LBA0    0x1f3
#define IDE_LBA1    0x1f4
#define IDE_LBA2    0x1f5
#define IDE_DRIVE   0x1f6
#define IDE_CMD     0x1f7   // status when read
#define IDE_CTRL    0x3f6   // device control when written, alternate status when read

#define IDE_BSY  0x80
#define IDE_DRDY 0x40
#define IDE_DF   0x20
#define IDE_DRQ  0x08
#define IDE_ERR  0x01

#define IDE_NIEN  0x02   // device control: no interrupts

#define ATA_READ  0x20
#define ATA_WRITE 0x30

static inline void insl(uint16 port, void *addr, uint64 cnt) {
  asm volatile("cld; rep insl" : "+D"(addr), "+c"(cnt) : "d"(port) : "memory", "cc");
}
static inline void outsl(uint16 port, const void *addr, uint64 cnt) {
  asm volatile("cld; rep outsl" : "+S"(addr), "+c"(cnt) : "d"(port) : "cc");
}

// Wait until the drive is not busy and shows `want`; bounded so a
// missing disk cannot hang us. The bound is generous: a real disk, or
// QEMU's IDE on a busy host (its writes go through a host I/O thread), can
// stay BSY for tens of milliseconds, and 2^24 status reads are about a
// second under QEMU's TCG. ringscope's ATA model never stays busy.
static int idewait(uint8 want) {
  for (int i = 0; i < (1 << 24); i++) {
    uint8 r = inb(IDE_CMD);
    if (r & IDE_BSY)
      continue;       // nothing else in the register is valid while BSY
    if (r & (IDE_ERR | IDE_DF))
      return -1;
    if ((r & want) == want)
      return 0;
  }
  return -1;
}

// 400 ns for the drive to put up a status that reflects what we just did.
static void ide400ns(void) {
  for (int i = 0; i < 4; i++)
    inb(IDE_CTRL);
}

int ide_rw(int write, uint64 sector, void *buf, uint32 nsect) {
  if (nsect == 0 || nsect > 255 || sector + nsect > (1ULL << 28))
    return -1;                                  // LBA28 reaches 128 GiB
  outb(IDE_DRIVE, 0xe0 | ((sector >> 24) & 0x0f));  // LBA mode, drive 0, LBA bits 24..27
  ide400ns();
  if (idewait(IDE_DRDY) < 0)
    return -1;
  outb(IDE_CTRL, IDE_NIEN);                     // we poll
  outb(IDE_COUNT, (uint8)nsect);
  outb(IDE_LBA0, sector & 0xff);
  outb(IDE_LBA1, (sector >> 8) & 0xff);
  outb(IDE_LBA2, (sector >> 16) & 0xff);
  outb(IDE_CMD, write ? ATA_WRITE : ATA_READ);
  ide400ns();
  for (uint32 i = 0; i < nsect; i++) {
    char *p = (char *)buf + i * 512;
    if (idewait(IDE_DRQ) < 0)
      return -1;
    if (write)
      outsl(IDE_DATA, p, 512 / 4);
    else
      insl(IDE_DATA, p, 512 / 4);
  }
  return idewait(IDE_DRDY);                     // a write: until the last sector is on the disk
}
