// rtc.h — the PC's CMOS real-time clock, a Motorola MC146818, at I/O ports
// 0x70 (index) and 0x71 (data).
//
// The guest writes a register number to the index port, then reads or
// writes that register through the data port: two port accesses, two VM
// exits under full virtualisation, for every byte of the date. The clock
// itself is the host's wall clock (plus whatever offset the guest set), so
// the guest sees real time, as under QEMU and kvmtool.
#pragma once

#include <cstdint>
#include <functional>

#include "ringscope/device.h"

namespace ringscope {

inline constexpr uint16_t kRtcBase = 0x70;
inline constexpr uint16_t kRtcWindow = 2;

class Rtc final : public Device {
 public:
  enum Port : uint8_t { kIndexPort = 0, kDataPort = 1 };
  // Registers (the index written to port 0x70, bit 7 masks NMI).
  enum Reg : uint8_t {
    kSeconds = 0x00,
    kSecondsAlarm = 0x01,
    kMinutes = 0x02,
    kMinutesAlarm = 0x03,
    kHours = 0x04,
    kHoursAlarm = 0x05,
    kDayOfWeek = 0x06,
    kDayOfMonth = 0x07,
    kMonth = 0x08,
    kYear = 0x09,
    kStatusA = 0x0a,
    kStatusB = 0x0b,
    kStatusC = 0x0c,
    kStatusD = 0x0d,
    kCentury = 0x32,  // not the MC146818's: the PC/ACPI convention (FADT century), as QEMU has it
  };
  static constexpr uint8_t kIndexNmiDisable = 0x80;
  static constexpr uint8_t kAUip = 0x80;  // update in progress
  static constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBSqwe = 0x08, kBBinary = 0x04,
                           kB24Hour = 0x02, kBDse = 0x01;
  static constexpr uint8_t kDVrt = 0x80;    // valid RAM and time: the battery is fine
  static constexpr uint8_t kHourPm = 0x80;  // in 12-hour mode
  // The update cycle (32.768 kHz time base): UIP rises 244 us before the
  // registers change and falls 1984 us after.
  static constexpr uint64_t kUipLeadNs = 244'000, kUpdateNs = 1'984'000;

  // `realtime_ns`: the host clock in ns since the Unix epoch (UTC);
  // default CLOCK_REALTIME. Tests pass a clock they control.
  explicit Rtc(std::function<uint64_t()> realtime_ns = {});

  std::string_view name() const override { return "rtc"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  // The data port is named after the register the index selects.
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // The guest's clock, in seconds since the Unix epoch (host clock + offset).
  int64_t guest_seconds() const;
  uint64_t reads() const { return reads_; }

  // A date, decoded (binary, 24-hour, full year).
  struct Date {
    int64_t year = 1970;
    int month = 1, day = 1, hour = 0, minute = 0, second = 0;
    int weekday = 5;  // 1 = Sunday (1970-01-01 was a Thursday)
  };
  static Date date_of(int64_t unix_seconds);
  static int64_t unix_of(const Date& d);

 private:
  uint8_t read_register(DeviceContext& ctx, uint8_t reg);
  void write_register(DeviceContext& ctx, uint8_t reg, uint8_t value);
  void write_time_field(DeviceContext& ctx, uint8_t reg, uint8_t value);
  bool update_in_progress() const;
  uint8_t encode(int value) const;             // binary or BCD per status B
  bool decode(uint8_t raw, int* value) const;  // false: not valid BCD
  uint8_t encode_hour(int hour) const;         // 12/24-hour per status B
  bool decode_hour(uint8_t raw, int* hour) const;
  void trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value) const;

  std::function<uint64_t()> clock_;
  uint8_t index_ = 0;
  bool nmi_disabled_ = false;
  uint8_t cmos_[128] = {};  // status A..D, alarms, and the battery-backed RAM (0x0e..0x7f)
  int64_t offset_s_ = 0;    // guest time minus host time, set when the guest sets the clock
  Date frozen_;             // the date while status B SET holds the update cycle
  uint64_t reads_ = 0;
};

}  // namespace ringscope
