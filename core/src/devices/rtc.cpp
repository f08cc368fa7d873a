// rtc.cpp — the MC146818 real-time clock and its CMOS RAM (kvmtool's hw/rtc.c
// shape, with the parts of the data sheet a careful driver relies on).
//
// Registers 0x00..0x09 hold the date, each one byte, in BCD or binary and
// the hours in 12- or 24-hour form, as status register B says (a PC's
// firmware leaves B = 0x02: BCD, 24-hour; so does this model at reset).
// The chip updates those registers once a second, and a read that
// straddles the update can mix two dates (59 seconds of the old minute,
// the new minute). Status A's UIP bit warns of it: it rises 244 us before
// the update and falls when the update is done, 1984 us later. A driver
// waits for UIP to clear, then reads the date twice until two reads agree
// (scenarios/kernel/rtc.c).
//
// The date is computed from the host's wall clock at every read, so
// nothing ticks in the background. Setting the clock (status B SET, write
// the registers, clear SET) stores an offset from the host clock. Guest
// values are checked: a time field out of range or not valid BCD is
// refused with a device event, and the clock keeps its value.
//
// Known shortcuts: no interrupts (periodic, alarm and update-ended; IRQ 8
// is not wired, status C reads 0), daylight-saving (DSE) is ignored,
// the day-of-week register is computed from the date and writes to it are
// dropped, changing DM or 24/12 re-encodes the current time instead of
// leaving the old bytes as the real chip would.
#include "ringscope/devices/rtc.h"

#include <time.h>

namespace ringscope {

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000ull;
constexpr int64_t kSecondsPerDay = 86'400;

uint64_t host_realtime_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * kNsPerSecond + uint64_t(ts.tv_nsec);
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

Rtc::Rtc(std::function<uint64_t()> realtime_ns) : clock_(std::move(realtime_ns)) {
  if (!clock_) clock_ = host_realtime_ns;
  cmos_[kStatusA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
  cmos_[kStatusB] = kB24Hour;
  cmos_[kStatusD] = kDVrt;
}

Rtc::Date Rtc::date_of(int64_t t) {
  Date d;
  int64_t days = floor_div(t, kSecondsPerDay), secs = t - days * kSecondsPerDay;
  d.hour = int(secs / 3600), d.minute = int(secs / 60 % 60), d.second = int(secs % 60);
  d.weekday = int(((days % 7) + 11) % 7) + 1;  // day 0 was a Thursday (5)
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d.day = int(doy - (153 * mp + 2) / 5 + 1);
  d.month = int(mp < 10 ? mp + 3 : mp - 9);
  d.year = yoe + era * 400 + (d.month <= 2);
  return d;
}

int64_t Rtc::unix_of(const Date& d) {
  return days_from_civil(d.year, d.month, d.day) * kSecondsPerDay + d.hour * 3600 + d.minute * 60 + d.second;
}

int64_t Rtc::guest_seconds() const {
  if (cmos_[kStatusB] & kBSet) return unix_of(frozen_);
  return int64_t(clock_() / kNsPerSecond) + offset_s_;
}

bool Rtc::update_in_progress() const {
  if (cmos_[kStatusB] & kBSet) return false;  // SET holds the update cycle
  uint64_t phase = clock_() % kNsPerSecond;   // the offset is whole seconds
  return phase >= kNsPerSecond - kUipLeadNs || phase < kUpdateNs;
}

uint8_t Rtc::encode(int v) const {
  if (cmos_[kStatusB] & kBBinary) return uint8_t(v);
  return uint8_t(((v / 10) << 4) | (v % 10));
}

bool Rtc::decode(uint8_t raw, int* v) const {
  if (cmos_[kStatusB] & kBBinary) {
    *v = raw;
    return true;
  }
  if ((raw & 0x0f) > 9 || (raw >> 4) > 9) return false;
  *v = (raw >> 4) * 10 + (raw & 0x0f);
  return true;
}

uint8_t Rtc::encode_hour(int hour) const {
  if (cmos_[kStatusB] & kB24Hour) return encode(hour);
  int h12 = hour % 12 == 0 ? 12 : hour % 12;
  return uint8_t(encode(h12) | (hour >= 12 ? kHourPm : 0));
}

bool Rtc::decode_hour(uint8_t raw, int* hour) const {
  if (cmos_[kStatusB] & kB24Hour) return decode(raw, hour) && *hour <= 23;
  int h12 = 0;
  if (!decode(raw & ~kHourPm, &h12) || h12 < 1 || h12 > 12) return false;
  *hour = h12 % 12 + ((raw & kHourPm) ? 12 : 0);
  return true;
}

std::string_view Rtc::register_name(uint64_t offset, Direction) const {
  if (offset == kIndexPort) return "Index";
  switch (index_) {
    case kSeconds: return "Seconds";
    case kSecondsAlarm: return "SecondsAlarm";
    case kMinutes: return "Minutes";
    case kMinutesAlarm: return "MinutesAlarm";
    case kHours: return "Hours";
    case kHoursAlarm: return "HoursAlarm";
    case kDayOfWeek: return "DayOfWeek";
    case kDayOfMonth: return "DayOfMonth";
    case kMonth: return "Month";
    case kYear: return "Year";
    case kStatusA: return "StatusA";
    case kStatusB: return "StatusB";
    case kStatusC: return "StatusC";
    case kStatusD: return "StatusD";
    case kCentury: return "Century";
  }
  return "CMOS RAM";
}

void Rtc::trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value) const {
  ctx.trace_device(name(), reg, dir, value, 1);
}

uint8_t Rtc::read_register(DeviceContext& ctx, uint8_t reg) {
  (void)ctx;
  reads_++;
  switch (reg) {
    case kStatusA: return uint8_t((cmos_[kStatusA] & ~kAUip) | (update_in_progress() ? kAUip : 0));
    case kStatusC: return 0;  // no interrupt flags: nothing is wired to IRQ 8
    case kSeconds:
    case kMinutes:
    case kHours:
    case kDayOfWeek:
    case kDayOfMonth:
    case kMonth:
    case kYear:
    case kCentury: break;
    default: return cmos_[reg];  // status B and D, alarms, CMOS RAM
  }
  Date d = (cmos_[kStatusB] & kBSet) ? frozen_ : date_of(guest_seconds());
  switch (reg) {
    case kSeconds: return encode(d.second);
    case kMinutes: return encode(d.minute);
    case kHours: return encode_hour(d.hour);
    case kDayOfWeek: return encode(d.weekday);
    case kDayOfMonth: return encode(d.day);
    case kMonth: return encode(d.month);
    case kYear: return encode(int(d.year % 100));
    default: return encode(int(d.year / 100 % 100));  // century
  }
}

// A write to a date register: into the held date while SET is on (the
// driver's intended way), else straight into the running clock.
void Rtc::write_time_field(DeviceContext& ctx, uint8_t reg, uint8_t raw) {
  int v = 0;
  bool ok = reg == kHours ? decode_hour(raw, &v) : decode(raw, &v);
  static constexpr struct {
    uint8_t reg;
    int lo, hi;
  } kRange[] = {{kSeconds, 0, 59}, {kMinutes, 0, 59}, {kHours, 0, 23},  {kDayOfMonth, 1, 31},
                {kMonth, 1, 12},   {kYear, 0, 99},    {kCentury, 0, 99}};
  for (const auto& r : kRange)
    if (r.reg == reg) ok = ok && v >= r.lo && v <= r.hi;
  if (!ok) {
    trace(ctx, "error: date value out of range or not valid BCD, ignored", Direction::Out, raw);
    return;
  }
  bool held = cmos_[kStatusB] & kBSet;
  Date d = held ? frozen_ : date_of(guest_seconds());
  switch (reg) {
    case kSeconds: d.second = v; break;
    case kMinutes: d.minute = v; break;
    case kHours: d.hour = v; break;
    case kDayOfMonth: d.day = v; break;
    case kMonth: d.month = v; break;
    case kYear: d.year = d.year / 100 * 100 + v; break;
    default: d.year = int64_t(v) * 100 + d.year % 100; break;  // century
  }
  if (held) {
    frozen_ = d;  // a day past the month's end is allowed here; it rolls over when SET clears
  } else {
    offset_s_ = unix_of(d) - int64_t(clock_() / kNsPerSecond);
  }
}

void Rtc::write_register(DeviceContext& ctx, uint8_t reg, uint8_t value) {
  switch (reg) {
    case kSeconds:
    case kMinutes:
    case kHours:
    case kDayOfMonth:
    case kMonth:
    case kYear:
    case kCentury: write_time_field(ctx, reg, value); return;
    case kDayOfWeek: return;                                  // computed from the date
    case kStatusA: cmos_[kStatusA] = value & ~kAUip; return;  // UIP is read-only
    case kStatusB: {
      bool was_set = cmos_[kStatusB] & kBSet, set = value & kBSet;
      if (set && !was_set) frozen_ = date_of(guest_seconds());  // hold the clock
      if (set) value &= ~kBUie;                                 // SET clears UIE (data sheet)
      cmos_[kStatusB] = value;
      if (was_set && !set) offset_s_ = unix_of(frozen_) - int64_t(clock_() / kNsPerSecond);  // run again
      return;
    }
    case kStatusC:
    case kStatusD: return;                // read-only
    default: cmos_[reg] = value; return;  // alarms and CMOS RAM
  }
}

uint64_t Rtc::read(DeviceContext& ctx, uint64_t offset, uint8_t width) {
  uint64_t v = 0;
  for (uint8_t i = 0; i < width; i++) {
    uint64_t port = offset + i;
    uint8_t b = 0xff;  // the index port is write-only; past the window floats
    if (port == kDataPort) {
      b = read_register(ctx, index_);
      trace(ctx, register_name(kDataPort, Direction::In), Direction::In, b);
    } else if (port == kIndexPort) {
      trace(ctx, "Index", Direction::In, b);
    }
    v |= uint64_t(b) << (8 * i);
  }
  return v;
}

// A 16-bit `out` to 0x70 writes the index and then the data, as on a PC bus.
void Rtc::write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  for (uint8_t i = 0; i < width; i++) {
    uint64_t port = offset + i;
    uint8_t b = uint8_t(value >> (8 * i));
    if (port == kIndexPort) {
      index_ = b & ~kIndexNmiDisable;
      nmi_disabled_ = b & kIndexNmiDisable;
      trace(ctx, "Index", Direction::Out, b);
    } else if (port == kDataPort) {
      trace(ctx, register_name(kDataPort, Direction::Out), Direction::Out, b);
      write_register(ctx, index_, b);
    }
  }
}

}  // namespace ringscope
