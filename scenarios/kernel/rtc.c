// rtc.c — what time is it? The CMOS real-time clock (native), or the
// hypervisor (PV build).
//
// The PC's clock chip (an MC146818, ports 0x70/0x71) is read one register
// at a time: write the register number to the index port, read the data
// port. A date is six registers, so under full virtualisation one reading
// costs a dozen VM exits, and a careful driver reads twice (below). The PV
// kernel asks the hypervisor instead: one hypercall, one exit, and the
// answer comes in nanoseconds (hypercall.c, HC_TIME_NS).

#include "types.h"
#include "defs.h"
#include "x86.h"

#define CMOS_INDEX  0x70
#define CMOS_DATA   0x71

#define CMOS_SEC    0x00
#define CMOS_MIN    0x02
#define CMOS_HOUR   0x04
#define CMOS_DAY    0x07
#define CMOS_MON    0x08
#define CMOS_YEAR   0x09
#define CMOS_STATA  0x0a
#define CMOS_STATB  0x0b

#define STATA_UIP    0x80  // update in progress
#define STATB_BINARY 0x04  // else BCD
#define STATB_24H    0x02  // else 12-hour, bit 7 of the hour = PM
#define HOUR_PM      0x80

struct rtcdate {
  uint64 second, minute, hour, day, month, year;
};

static uint8 cmos_read(uint8 reg) {
  outb(CMOS_INDEX, reg);
  return inb(CMOS_DATA);
}

static void fill_rtcdate(struct rtcdate *r) {
  r->second = cmos_read(CMOS_SEC);
  r->minute = cmos_read(CMOS_MIN);
  r->hour = cmos_read(CMOS_HOUR);
  r->day = cmos_read(CMOS_DAY);
  r->month = cmos_read(CMOS_MON);
  r->year = cmos_read(CMOS_YEAR);
}

static uint64 bcd(uint64 v) { return (v >> 4) * 10 + (v & 0xf); }

// The chip updates the registers once a second, and a reading that
// straddles the update mixes two dates (the old minute's 59 seconds, the
// new minute). UIP rises 244 us before an update; under a hypervisor that
// is a handful of exits, too few to read six registers. So: wait until no
// update is in progress, read the date twice, and accept it only when both
// readings agree (as xv6's cmostime does). Bounded: a clock stuck in an
// update must not hang the kernel.
static int cmostime(struct rtcdate *r) {
  struct rtcdate t1, t2;
  uint8 sb = cmos_read(CMOS_STATB);
  int ok = 0;
  for (int tries = 0; tries < 10000 && !ok; tries++) {
    if (cmos_read(CMOS_STATA) & STATA_UIP)
      continue;
    fill_rtcdate(&t1);
    fill_rtcdate(&t2);
    ok = memcmp(&t1, &t2, sizeof(t1)) == 0;
  }
  if (!ok)
    return -1;
  int pm = !(sb & STATB_24H) && (t1.hour & HOUR_PM);
  t1.hour &= ~(uint64)HOUR_PM;
  if (!(sb & STATB_BINARY)) {
    t1.second = bcd(t1.second);
    t1.minute = bcd(t1.minute);
    t1.hour = bcd(t1.hour);
    t1.day = bcd(t1.day);
    t1.month = bcd(t1.month);
    t1.year = bcd(t1.year);
  }
  if (!(sb & STATB_24H))
    t1.hour = t1.hour % 12 + (pm ? 12 : 0);  // 12 AM is 0:00, 12 PM is 12:00
  // The year register has two digits. A real kernel finds the century
  // register through ACPI's FADT; this one assumes the 21st century.
  t1.year += 2000;
  if (t1.second > 59 || t1.minute > 59 || t1.hour > 23 || t1.day < 1 || t1.day > 31 || t1.month < 1 ||
      t1.month > 12)
    return -1;
  *r = t1;
  return 0;
}

// Seconds since 1970-01-01 00:00 UTC of a date (the clock keeps UTC).
static int64 unixtime(struct rtcdate *r) {
  static const uint16 before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  uint64 y = r->year;
  uint64 leaps = (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
  uint64 days = (y - 1970) * 365 + leaps + before[r->month - 1] + r->day - 1;
  if (r->month > 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
    days++;  // this year's 29 February is behind us
  return (int64)(((days * 24 + r->hour) * 60 + r->minute) * 60 + r->second);
}

// The time() system call: seconds since the Unix epoch, or -1.
int64 clocktime(void) {
#ifdef PV
  if (pv) {
    int64 ns = hc_time_ns();
    return ns < 0 ? -1 : ns / 1000000000;
  }
#endif
  struct rtcdate r;
  if (cmostime(&r) < 0)
    return -1;
  return unixtime(&r);
}
