// test_rtc.cpp — the MC146818 RTC model on a clock the test controls: BCD
// and binary, 12- and 24-hour, the UIP window, setting the clock with SET,
// CMOS RAM, and hostile values.
#include <gtest/gtest.h>

#include "ringscope/devices/rtc.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

// 2024-02-29 13:05:09 UTC, a Thursday, as a Unix time.
constexpr uint64_t kLeapDay = 1709211909;
constexpr uint64_t kNs = 1'000'000'000ull;

struct RtcFixture : ::testing::Test {
  uint64_t now_ns = kLeapDay * kNs + 500'000'000;  // mid-second: no update near
  RecordingSink sink;
  DeviceContext ctx;
  Rtc rtc{[this] { return now_ns; }};
  void SetUp() override { ctx.sink = &sink; }
  uint8_t get(uint8_t reg) {
    rtc.write(ctx, Rtc::kIndexPort, 1, reg);
    return static_cast<uint8_t>(rtc.read(ctx, Rtc::kDataPort, 1));
  }
  void put(uint8_t reg, uint8_t v) {
    rtc.write(ctx, Rtc::kIndexPort, 1, reg);
    rtc.write(ctx, Rtc::kDataPort, 1, v);
  }
};

TEST_F(RtcFixture, ResetStateIsBcd24HourWithValidTime) {
  EXPECT_EQ(get(Rtc::kStatusB), Rtc::kB24Hour);
  EXPECT_EQ(get(Rtc::kStatusD), Rtc::kDVrt);
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, 0);
  EXPECT_EQ(get(Rtc::kSeconds), 0x09);
  EXPECT_EQ(get(Rtc::kMinutes), 0x05);
  EXPECT_EQ(get(Rtc::kHours), 0x13);
  EXPECT_EQ(get(Rtc::kDayOfMonth), 0x29);
  EXPECT_EQ(get(Rtc::kMonth), 0x02);
  EXPECT_EQ(get(Rtc::kYear), 0x24);
  EXPECT_EQ(get(Rtc::kCentury), 0x20);
  EXPECT_EQ(get(Rtc::kDayOfWeek), 5);  // Sunday = 1
}

TEST_F(RtcFixture, BinaryAnd12HourModesFollowStatusB) {
  put(Rtc::kStatusB, Rtc::kBBinary);  // binary, 12-hour
  EXPECT_EQ(get(Rtc::kSeconds), 9);
  EXPECT_EQ(get(Rtc::kYear), 24);
  EXPECT_EQ(get(Rtc::kHours), 1 | Rtc::kHourPm);  // 13:05 is 1 PM
  put(Rtc::kStatusB, 0);                          // BCD, 12-hour
  EXPECT_EQ(get(Rtc::kHours), 0x01 | Rtc::kHourPm);
  now_ns -= 13 * 3600 * kNs;  // 00:05: 12 AM
  EXPECT_EQ(get(Rtc::kHours), 0x12);
}

TEST_F(RtcFixture, UipIsSetAroundTheSecondBoundaryOnly) {
  uint64_t second = kLeapDay * kNs;
  now_ns = second + kNs - Rtc::kUipLeadNs - 1;
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, 0);
  now_ns = second + kNs - Rtc::kUipLeadNs;
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, Rtc::kAUip);
  now_ns = second + kNs + Rtc::kUpdateNs - 1;
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, Rtc::kAUip);
  EXPECT_EQ(get(Rtc::kSeconds), 0x10);  // the update has happened
  now_ns = second + kNs + Rtc::kUpdateNs;
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, 0);
  EXPECT_EQ(get(Rtc::kStatusA) & 0x7f, 0x26);  // divider and rate as at reset
}

TEST_F(RtcFixture, SettingTheClockWithSetHoldsThenRunsFromTheNewTime) {
  put(Rtc::kStatusB, Rtc::kB24Hour | Rtc::kBSet | Rtc::kBUie);
  EXPECT_EQ(get(Rtc::kStatusB), Rtc::kB24Hour | Rtc::kBSet);  // SET clears UIE
  put(Rtc::kYear, 0x31);
  put(Rtc::kMonth, 0x12);
  put(Rtc::kDayOfMonth, 0x31);
  put(Rtc::kHours, 0x23);
  put(Rtc::kMinutes, 0x59);
  put(Rtc::kSeconds, 0x58);
  now_ns += 5 * kNs;  // held: does not move while SET is on
  EXPECT_EQ(get(Rtc::kSeconds), 0x58);
  EXPECT_EQ(get(Rtc::kStatusA) & Rtc::kAUip, 0);
  put(Rtc::kStatusB, Rtc::kB24Hour);
  now_ns += 3 * kNs;
  EXPECT_EQ(get(Rtc::kSeconds), 0x01);
  EXPECT_EQ(get(Rtc::kYear), 0x32);  // 2031-12-31 23:59:58 + 3 s
  EXPECT_EQ(get(Rtc::kMonth), 0x01);
  EXPECT_EQ(rtc.guest_seconds(), Rtc::unix_of({2032, 1, 1, 0, 0, 1}));
}

TEST_F(RtcFixture, HostileValuesAreRefusedAndReported) {
  put(Rtc::kSeconds, 0x7a);  // not BCD
  put(Rtc::kMonth, 0x13);    // month 13
  put(Rtc::kHours, 0x24);    // hour 24
  EXPECT_EQ(get(Rtc::kSeconds), 0x09);
  EXPECT_EQ(get(Rtc::kMonth), 0x02);
  int errors = 0;
  for (const auto& e : sink.events()) errors += e.reg.starts_with("error:");
  EXPECT_EQ(errors, 3);
  put(Rtc::kStatusB, Rtc::kBBinary);  // 12-hour binary: 0 is not an hour
  put(Rtc::kHours, 0);
  EXPECT_EQ(get(Rtc::kHours), 1 | Rtc::kHourPm);
  // Read-only registers stay as they are; any index is safe (7 bits).
  put(Rtc::kStatusD, 0);
  EXPECT_EQ(get(Rtc::kStatusD), Rtc::kDVrt);
  EXPECT_EQ(get(Rtc::kStatusC), 0);
  rtc.write(ctx, Rtc::kIndexPort, 1, 0xff);  // NMI off, register 0x7f
  rtc.write(ctx, Rtc::kDataPort, 1, 0x5a);
  EXPECT_EQ(get(0x7f), 0x5a);
}

TEST_F(RtcFixture, CmosRamKeepsBytesAndAccessesAreTraced) {
  put(0x40, 0xab);
  EXPECT_EQ(get(0x40), 0xab);
  EXPECT_EQ(rtc.read(ctx, Rtc::kIndexPort, 1), 0xffu);  // the index port is write-only
  // outw 0x70: index in the low byte, data in the high byte.
  rtc.write(ctx, Rtc::kIndexPort, 2, 0xcd41);
  EXPECT_EQ(get(0x41), 0xcd);
  get(Rtc::kSeconds);
  const Event& last = sink.events().back();
  EXPECT_EQ(last.device, "rtc");
  EXPECT_EQ(last.reg, "Seconds");
  EXPECT_EQ(last.value, 0x09u);
}

TEST(RtcDates, CivilConversionsRoundTrip) {
  for (int64_t t :
       {int64_t(0), int64_t(951782400) /* 2000-02-29 */, int64_t(kLeapDay), int64_t(4102444799), int64_t(-1)}) {
    Rtc::Date d = Rtc::date_of(t);
    EXPECT_EQ(Rtc::unix_of(d), t);
  }
  Rtc::Date d = Rtc::date_of(0);
  EXPECT_EQ(d.year, 1970);
  EXPECT_EQ(d.weekday, 5);  // Thursday
  d = Rtc::date_of(-1);
  EXPECT_EQ(d.year, 1969);
  EXPECT_EQ(d.second, 59);
  EXPECT_EQ(d.weekday, 4);
}

}  // namespace
}  // namespace ringscope
