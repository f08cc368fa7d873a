// i8254.h — the PC's Intel 8254 programmable interval timer at I/O ports
// 0x40-0x43: three 16-bit down-counters clocked at 1.193182 MHz, and a
// control port. Channel 0's output is wired to IRQ 0: programmed as a rate
// generator (mode 2) or square wave (mode 3) with count N it interrupts
// 1193182 / N times a second, the tick of every PC operating system.
//
// Time comes from a clock read when the guest reads a counter or a backend
// polls the timer (Machine::pending_irq), so nothing ticks in the
// background. Under KVM that clock is the host's monotonic clock; the
// emulation backend gives it guest time instead, counted in instructions
// (set_clock, docs/interrupts.md), so its timer is deterministic.
// Edges that happen between two polls are merged into one, as the PIC's
// edge-triggered request register merges them on a real PC.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "ringscope/device.h"

namespace ringscope {

inline constexpr uint16_t kPitBase = 0x40;
inline constexpr uint16_t kPitWindow = 4;
inline constexpr uint64_t kPitHz = 1'193'182;  // the PC's 14.31818 MHz crystal / 12
inline constexpr uint8_t kPitIrq = 0;

class I8254 final : public Device {
 public:
  enum Port : uint8_t { kChannel0 = 0, kChannel1 = 1, kChannel2 = 2, kControl = 3 };
  // Control word: SC (7-6), RW (5-4), mode (3-1), BCD (0).
  enum Access : uint8_t { kLatch = 0, kLsb = 1, kMsb = 2, kLsbMsb = 3 };
  static constexpr uint8_t kReadBack = 3;  // SC = 11
  // Read-back command bits (SC = 11): 5 = do NOT latch count, 4 = do NOT latch status, 3-1 = channels.
  static constexpr uint8_t kRbNoCount = 0x20, kRbNoStatus = 0x10;

  // `monotonic_ns`: the clock the counters run on; default the host's
  // CLOCK_MONOTONIC. Tests pass a clock they control.
  explicit I8254(std::function<uint64_t()> monotonic_ns = {});
  // A backend's own notion of time, in ns. Set it before the guest programs
  // the timer: counts already loaded keep the start time of the old clock.
  void set_clock(std::function<uint64_t()> ns);

  std::string_view name() const override { return "pit"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // Brings channel 0 up to now: true if its output gave IRQ 0 at least one
  // rising edge since the last poll.
  bool poll();
  // When channel 0 will next give IRQ 0 an edge (host monotonic ns), or
  // nothing if it is not counting periodically or one-shot pending.
  std::optional<uint64_t> next_edge_ns() const;
  // Channel 0's period in ns (modes 2 and 3), 0 if not periodic.
  uint64_t period_ns() const;
  // The counter as the guest would read it now (binary), for tests.
  uint32_t current_count(int channel) const;
  uint64_t edges() const { return edges_; }

 private:
  struct Channel {
    uint8_t access = kLsbMsb;  // RW bits of the last control word
    uint8_t mode = 0;          // 0..5
    bool bcd = false;
    bool armed = false;         // a full count was written since the control word
    uint32_t reload = 0x10000;  // the count, 1..65536 (0 written means 65536; 10000 in BCD)
    uint64_t start_ns = 0;      // when counting began with `reload`
    uint64_t periods = 0;       // edges already given (channel 0), counted from start_ns
    bool write_msb = false;     // LSB/MSB access: the next write is the MSB
    uint8_t write_lsb = 0;
    bool read_msb = false;  // LSB/MSB access: the next read is the MSB
    bool latched = false;   // counter latch: reads return `latch` until read out
    uint16_t latch = 0;
    int latch_bytes = 0;  // bytes of the latch still to read
    bool status_latched = false;
    uint8_t status = 0;
  };
  void control(DeviceContext& ctx, uint8_t value);
  void load(DeviceContext& ctx, int ch, uint32_t count);
  void note(DeviceContext& ctx, std::string_view reg, uint64_t value);
  uint64_t ticks_since(const Channel& c, uint64_t now) const;
  uint16_t count_at(const Channel& c, uint64_t now) const;  // as the counter reads (binary)
  bool output_at(const Channel& c, uint64_t now) const;
  uint8_t status_of(const Channel& c, uint64_t now) const;
  uint64_t ns_of_ticks(uint64_t ticks) const;

  std::function<uint64_t()> clock_;
  Channel ch_[3];
  uint64_t edges_ = 0;
};

}  // namespace ringscope
