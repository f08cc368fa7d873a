// i8254.cpp — the programmable interval timer (kvmtool's device shape; the
// Intel 8254 data sheet's modes, access modes, latch and read-back).
//
// A channel is programmed by a control word on port 0x43 (which channel,
// how its count is written and read: LSB, MSB or LSB then MSB, the mode,
// binary or BCD), then a count on its own port. From then on the counter
// is a function of time: ticks = elapsed ns * 1193182 / 1e9, on the clock
// the backend chose (host time under KVM, guest time under emulation).
//
//   mode 0  interrupt on terminal count: OUT rises once, after N ticks
//   mode 2  rate generator: OUT pulses low for one tick every N ticks
//   mode 3  square wave: OUT high for N/2 ticks, low for N/2 (counts by 2)
//   mode 4  software-triggered strobe: one low pulse after N ticks
//   mode 1, 5  hardware-triggered: wait for a rising edge on GATE, which on
//           a PC is tied high for channel 0, so they never start here
//
// Guest values are checked: a count of 0 means 65536 (10000 in BCD), a
// count of 1 in modes 2 and 3 (which the chip forbids) is taken as 2 with a
// `device` event, invalid BCD digits count as 9. The fastest timer a guest
// can ask for therefore ticks every 1.7 us; the backends merge edges that
// come faster than they poll, so a storm costs the host nothing more.
//
// Known shortcuts: channels 1 and 2 count but drive nothing (no DRAM
// refresh, no speaker, no port 0x61 gate); a new count takes effect at once
// rather than at the end of the current period (modes 2 and 3).
#include "ringscope/devices/i8254.h"

#include <algorithm>

#include "ringscope/backend.h"

namespace ringscope {

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000ull;

uint32_t from_bcd(uint32_t v) {
  uint32_t out = 0, scale = 1;
  for (int i = 0; i < 4; i++, v >>= 4, scale *= 10) out += std::min<uint32_t>(v & 0xf, 9) * scale;
  return out;
}

uint16_t to_bcd(uint32_t v) {
  uint16_t out = 0;
  for (int i = 0; i < 4; i++, v /= 10) out = static_cast<uint16_t>(out | ((v % 10) << (4 * i)));
  return out;
}
}  // namespace

I8254::I8254(std::function<uint64_t()> clock) : clock_(std::move(clock)) {
  if (!clock_) clock_ = monotonic_ns;
}

void I8254::set_clock(std::function<uint64_t()> ns) {
  clock_ = ns ? std::move(ns) : std::function<uint64_t()>(monotonic_ns);
}

void I8254::note(DeviceContext& ctx, std::string_view reg, uint64_t value) {
  ctx.trace_device(name(), reg, Direction::Write, value, 1);
}

std::string_view I8254::register_name(uint64_t offset, Direction) const {
  static constexpr std::string_view kNames[] = {"counter 0", "counter 1", "counter 2", "control"};
  return offset < 4 ? kNames[offset] : "";
}

// ---- time -------------------------------------------------------------------

uint64_t I8254::ticks_since(const Channel& c, uint64_t now) const {
  if (now <= c.start_ns) return 0;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(now - c.start_ns) * kPitHz / kNsPerSecond);
}

uint64_t I8254::ns_of_ticks(uint64_t ticks) const {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * kNsPerSecond + kPitHz - 1) / kPitHz);
}

// How many rising edges OUT has given since the count was loaded.
static uint64_t edges_by(uint8_t mode, uint32_t n, uint64_t ticks) {
  switch (mode) {
    case 2:
    case 3: return ticks / n;
    case 0: return ticks >= n ? 1 : 0;
    case 4: return ticks >= uint64_t(n) + 1 ? 1 : 0;
    default: return 0;  // modes 1 and 5 wait for GATE
  }
}

uint16_t I8254::count_at(const Channel& c, uint64_t now) const {
  if (!c.armed) return 0;
  uint64_t t = ticks_since(c, now);
  uint32_t n = c.reload;
  switch (c.mode) {
    case 2: return static_cast<uint16_t>(n - t % n);  // N, N-1, ..., 1, N, ...
    case 3: {
      uint32_t half = n / 2 ? n / 2 : 1;
      return static_cast<uint16_t>(n - 2 * (t % half));  // N, N-2, ..., 2, twice a period
    }
    case 1:
    case 5: return static_cast<uint16_t>(n);
    default: return static_cast<uint16_t>((n - t) & 0xffff);  // 0 and 4 wrap past zero and go on
  }
}

bool I8254::output_at(const Channel& c, uint64_t now) const {
  if (!c.armed) return c.mode != 0;
  uint64_t t = ticks_since(c, now);
  uint32_t n = c.reload;
  switch (c.mode) {
    case 0: return t >= n;
    case 2: return t % n != n - 1;
    case 3: return t % n < (n + 1) / 2;
    case 4: return t != n;
    default: return true;
  }
}

uint8_t I8254::status_of(const Channel& c, uint64_t now) const {
  return static_cast<uint8_t>((output_at(c, now) ? 0x80 : 0) | (c.armed ? 0 : 0x40) | (c.access << 4) | (c.mode << 1) |
                              (c.bcd ? 1 : 0));
}

bool I8254::poll() {
  Channel& c = ch_[0];
  if (!c.armed) return false;
  uint64_t total = edges_by(c.mode, c.reload, ticks_since(c, clock_()));
  if (total <= c.periods) return false;
  c.periods = total;
  edges_++;
  return true;
}

std::optional<uint64_t> I8254::next_edge_ns() const {
  const Channel& c = ch_[0];
  if (!c.armed) return std::nullopt;
  switch (c.mode) {
    case 2:
    case 3: return c.start_ns + ns_of_ticks((c.periods + 1) * c.reload);
    case 0: return c.periods ? std::nullopt : std::optional<uint64_t>(c.start_ns + ns_of_ticks(c.reload));
    case 4: return c.periods ? std::nullopt : std::optional<uint64_t>(c.start_ns + ns_of_ticks(c.reload + 1ull));
    default: return std::nullopt;
  }
}

uint64_t I8254::period_ns() const {
  const Channel& c = ch_[0];
  if (!c.armed || (c.mode != 2 && c.mode != 3)) return 0;
  return ns_of_ticks(c.reload);
}

uint32_t I8254::current_count(int channel) const {
  if (channel < 0 || channel > 2) return 0;
  return count_at(ch_[channel], clock_());
}

// ---- registers ----------------------------------------------------------------

void I8254::control(DeviceContext& ctx, uint8_t v) {
  uint8_t sc = v >> 6;
  uint64_t now = clock_();
  if (sc == kReadBack) {
    // Read-back (8254 only): latch the count and/or status of every
    // selected channel; a channel already latched keeps its first latch.
    for (int i = 0; i < 3; i++) {
      if (!(v & (2u << i))) continue;
      Channel& c = ch_[i];
      if (!(v & kRbNoStatus) && !c.status_latched) {
        c.status_latched = true;
        c.status = status_of(c, now);
      }
      if (!(v & kRbNoCount) && !c.latched) {
        c.latched = true;
        c.latch = count_at(c, now);
        c.latch_bytes = c.access == kLsbMsb ? 2 : 1;
      }
    }
    note(ctx, "read-back", v);
    return;
  }
  Channel& c = ch_[sc];
  uint8_t access = (v >> 4) & 3;
  if (access == kLatch) {
    // Counter latch: the count is frozen for reading; counting goes on.
    if (!c.latched) {
      c.latched = true;
      c.latch = count_at(c, now);
      c.latch_bytes = c.access == kLsbMsb ? 2 : 1;
    }
    return;
  }
  c.access = access;
  c.mode = (v >> 1) & 7;
  if (c.mode > 5) c.mode -= 4;  // 6 and 7 are aliases of 2 and 3
  c.bcd = v & 1;
  c.armed = false;  // "null count" until the new count is written
  c.periods = 0;
  c.write_msb = false, c.read_msb = false, c.latched = false, c.status_latched = false;
  note(ctx, "control", v);
}

void I8254::load(DeviceContext& ctx, int ch, uint32_t count) {
  Channel& c = ch_[ch];
  if (c.bcd) count = from_bcd(count);
  if (count == 0) count = c.bcd ? 10000 : 0x10000;
  if (count == 1 && (c.mode == 2 || c.mode == 3)) {
    note(ctx, "error: a count of 1 is not allowed in modes 2 and 3; using 2", count);
    count = 2;
  }
  c.reload = count;
  c.start_ns = clock_();
  c.periods = 0;
  c.armed = true;
  note(ctx, ch == 0 ? "counter 0" : ch == 1 ? "counter 1" : "counter 2", count);
}

uint64_t I8254::read(DeviceContext&, uint64_t offset, uint8_t) {
  if (offset >= kControl) return 0xff;  // the control port is write-only
  Channel& c = ch_[offset];
  if (c.status_latched) {
    c.status_latched = false;
    return c.status;
  }
  uint16_t value;
  if (c.latched) {
    value = c.latch;
  } else {
    value = count_at(c, clock_());
  }
  if (c.bcd) value = to_bcd(value);
  uint8_t byte;
  switch (c.access) {
    case kLsb: byte = value & 0xff; break;
    case kMsb: byte = value >> 8; break;
    default:
      byte = c.read_msb ? value >> 8 : value & 0xff;
      c.read_msb = !c.read_msb;
      break;
  }
  if (c.latched && --c.latch_bytes <= 0) c.latched = false;
  return byte;
}

void I8254::write(DeviceContext& ctx, uint64_t offset, uint8_t, uint64_t value) {
  uint8_t v = static_cast<uint8_t>(value);
  if (offset == kControl) {
    control(ctx, v);
    return;
  }
  if (offset > kControl) return;
  int ch = static_cast<int>(offset);
  Channel& c = ch_[ch];
  switch (c.access) {
    case kLsb: load(ctx, ch, v); break;
    case kMsb: load(ctx, ch, uint32_t(v) << 8); break;
    default:
      if (!c.write_msb) {
        c.write_lsb = v;
        c.write_msb = true;
      } else {
        c.write_msb = false;
        load(ctx, ch, uint32_t(c.write_lsb) | uint32_t(v) << 8);
      }
      break;
  }
}

}  // namespace ringscope
