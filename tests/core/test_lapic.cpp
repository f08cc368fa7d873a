// The local APIC model (devices/lapic.h), register by register, on a clock
// the test controls: start-up by INIT and STARTUP, fixed IPIs, the timer,
// priorities and EOI, and a guest writing junk to every register.
#include <gtest/gtest.h>

#include <random>

#include "ringscope/devices/lapic.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

struct Clock {
  uint64_t ns = 1'000'000;
  std::function<uint64_t()> fn() {
    return [this] { return ns; };
  }
};

using L = LocalApics;

void send(LocalApics& apics, DeviceContext& ctx, uint32_t dest, uint32_t low) {
  apics.write(ctx, L::kIcrHigh, 4, uint64_t{dest} << 24);
  apics.write(ctx, L::kIcrLow, 4, low);
}

TEST(Lapic, IdAndVersionAreThoseOfEachCpu) {
  Clock clock;
  LocalApics apics(4, clock.fn());
  DeviceContext ctx;
  for (uint32_t cpu = 0; cpu < 4; cpu++) {
    ctx.vcpu = cpu;
    EXPECT_EQ(apics.read(ctx, L::kId, 4), uint64_t{cpu} << 24);
    EXPECT_EQ((apics.read(ctx, L::kVersion, 4) >> 16) & 0xff, 5u);
  }
  EXPECT_TRUE(apics.accepts_pic(0)) << "the boot CPU's LINT0 is the PIC's virtual wire";
  EXPECT_FALSE(apics.accepts_pic(1));
}

TEST(Lapic, InitThenStartupStartsTheApAtTheStartupVectorsPage) {
  Clock clock;
  LocalApics apics(2, clock.fn());
  RecordingSink sink;
  DeviceContext ctx;
  ctx.sink = &sink;
  ctx.now_ns = [] { return uint64_t{42}; };
  EXPECT_TRUE(apics.waiting_for_startup(1));
  EXPECT_FALSE(apics.waiting_for_startup(0));
  send(apics, ctx, 1, 0x0000c500);  // INIT, level, assert
  send(apics, ctx, 1, 0x00008500);  // INIT de-assert: nothing
  send(apics, ctx, 1, 0x00000607);  // STARTUP, page 7 (0x7000)
  send(apics, ctx, 1, 0x00000607);  // the second STARTUP: already running, ignored
  auto s = apics.take_startups(1);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].mode, L::Delivery::Init);
  EXPECT_EQ(s[1].mode, L::Delivery::Startup);
  EXPECT_EQ(s[1].vector, 0x07);
  EXPECT_EQ(uint64_t{s[1].vector} << 12, 0x7000u);
  EXPECT_EQ(s[1].from, 0u);
  EXPECT_EQ(s[1].sent_ns, 42u);
  EXPECT_FALSE(apics.waiting_for_startup(1));
  EXPECT_TRUE(apics.take_startups(1).empty());
  // Every ICR write is a device event on the sender's lane, destination and vector in its value.
  size_t icr = 0;
  for (const auto& e : sink.events())
    if (e.kind == EventKind::Device && e.reg == "ICR") {
      icr++;
      EXPECT_EQ(e.vcpu, 0u);
      EXPECT_EQ(e.value >> 56, 1u);
      EXPECT_EQ(e.time_ns, 42u);
    }
  EXPECT_EQ(icr, 4u);
}

TEST(Lapic, AFixedIpiIsPendingOnTheTargetAndSaysWhoSentIt) {
  Clock clock;
  LocalApics apics(3, clock.fn());
  DeviceContext ctx;
  ctx.vcpu = 2;
  send(apics, ctx, 1, 49);
  EXPECT_FALSE(apics.pending(0));
  EXPECT_FALSE(apics.pending(2));
  ASSERT_TRUE(apics.pending(1));
  EXPECT_EQ(*apics.pending(1), 49);
  LocalApics::Taken t = apics.acknowledge(1);
  EXPECT_EQ(t.vector, 49);
  EXPECT_TRUE(t.ipi);
  EXPECT_EQ(t.from, 2u);
  EXPECT_FALSE(apics.pending(1)) << "in service now";
  ctx.vcpu = 1;
  EXPECT_EQ(apics.read(ctx, L::kIsr + 0x10, 4), 1u << (49 - 32));
  apics.write(ctx, L::kEoi, 4, 0);
  EXPECT_EQ(apics.read(ctx, L::kIsr + 0x10, 4), 0u);
  // Shorthand "all excluding self" from CPU 0.
  ctx.vcpu = 0;
  apics.write(ctx, L::kIcrLow, 4, (3u << 18) | 50);
  EXPECT_FALSE(apics.pending(0));
  EXPECT_EQ(apics.pending(1).value_or(0), 50);
  EXPECT_EQ(apics.pending(2).value_or(0), 50);
  EXPECT_EQ(apics.ipis_sent(), 2u);
}

TEST(Lapic, TaskPriorityAndInServiceVectorsHoldLowerOnesBack) {
  Clock clock;
  LocalApics apics(2, clock.fn());
  DeviceContext ctx;
  apics.write(ctx, L::kTpr, 4, 0x40);
  send(apics, ctx, 0, 0x35);
  EXPECT_FALSE(apics.pending(0)) << "class 3 is below TPR class 4";
  apics.write(ctx, L::kTpr, 4, 0);
  EXPECT_EQ(apics.pending(0).value_or(0), 0x35);
  apics.acknowledge(0);
  send(apics, ctx, 0, 0x31);
  EXPECT_FALSE(apics.pending(0)) << "same class as the one in service";
  apics.write(ctx, L::kEoi, 4, 0);
  EXPECT_EQ(apics.pending(0).value_or(0), 0x31);
}

TEST(Lapic, TheTimerFiresAfterTheProgrammedCountAndPeriodicReloads) {
  Clock clock;
  LocalApics apics(2, clock.fn());
  DeviceContext ctx;
  ctx.vcpu = 1;
  apics.write(ctx, L::kTimerDivide, 4, 0xb);  // divide by 1: one count per ns at 1 GHz
  apics.write(ctx, L::kLvtTimer, 4, 48);      // one-shot, vector 48
  uint64_t start = clock.ns;
  apics.write(ctx, L::kTimerInitial, 4, 1000);
  ASSERT_TRUE(apics.next_deadline_ns(1));
  EXPECT_EQ(*apics.next_deadline_ns(1), start + 1000);
  clock.ns = start + 400;
  EXPECT_EQ(apics.read(ctx, L::kTimerCurrent, 4), 600u);
  clock.ns = start + 999;
  EXPECT_FALSE(apics.pending(1));
  clock.ns = start + 1000;
  EXPECT_EQ(apics.pending(1).value_or(0), 48);
  EXPECT_EQ(apics.timer_fires(1), 1u);
  EXPECT_FALSE(apics.next_deadline_ns(1)) << "one-shot: disarmed";
  EXPECT_EQ(apics.read(ctx, L::kTimerCurrent, 4), 0u);
  apics.acknowledge(1);
  apics.write(ctx, L::kEoi, 4, 0);

  // Periodic, divide by 2: every 2 * 10,000,000 ns (the kernel's 100 Hz is divide 1, count 10,000,000).
  apics.write(ctx, L::kTimerDivide, 4, 0x0);
  apics.write(ctx, L::kLvtTimer, 4, (1u << 17) | 48);
  start = clock.ns;
  apics.write(ctx, L::kTimerInitial, 4, 10'000'000);
  EXPECT_EQ(*apics.next_deadline_ns(1), start + 20'000'000);
  clock.ns = start + 20'000'000 * 3 + 5;  // three periods pass unseen: one interrupt (IRR merges them)
  EXPECT_EQ(apics.pending(1).value_or(0), 48);
  EXPECT_EQ(*apics.next_deadline_ns(1), start + 20'000'000 * 4);
  // Masked: it counts on, but interrupts nobody and wakes nobody.
  apics.acknowledge(1);
  apics.write(ctx, L::kEoi, 4, 0);
  apics.write(ctx, L::kLvtTimer, 4, (1u << 17) | (1u << 16) | 48);
  clock.ns += 100'000'000;
  EXPECT_FALSE(apics.pending(1));
  EXPECT_FALSE(apics.next_deadline_ns(1));
}

TEST(Lapic, JunkFromAGuestNeverCrashesOrFloodsTheVmm) {
  Clock clock;
  LocalApics apics(2, clock.fn());
  DeviceContext ctx;
  // A fixed IPI at an illegal vector: an error, nothing delivered.
  send(apics, ctx, 1, 5);
  EXPECT_FALSE(apics.pending(1));
  apics.write(ctx, L::kEsr, 4, 0);
  EXPECT_NE(apics.read(ctx, L::kEsr, 4) & (1u << 5), 0u);
  // A destination no CPU has: nobody.
  send(apics, ctx, 7, 49);
  EXPECT_FALSE(apics.pending(0));
  EXPECT_FALSE(apics.pending(1));
  // The largest count at the slowest divide: a finite deadline, no overflow.
  apics.write(ctx, L::kTimerDivide, 4, 0xa);  // divide by 128
  apics.write(ctx, L::kLvtTimer, 4, (1u << 17) | 48);
  apics.write(ctx, L::kTimerInitial, 4, 0xffffffffu);
  ASSERT_TRUE(apics.next_deadline_ns(0));
  EXPECT_EQ(*apics.next_deadline_ns(0) - clock.ns, 0xffffffffull * 128);
  // The smallest periodic count: never faster than the floor.
  apics.write(ctx, L::kTimerDivide, 4, 0xb);
  apics.write(ctx, L::kTimerInitial, 4, 1);
  EXPECT_EQ(*apics.next_deadline_ns(0) - clock.ns, LocalApics::kMinPeriodNs);
  // A timer vector below 16: an error instead of an interrupt.
  apics.write(ctx, L::kLvtTimer, 4, 3);
  apics.write(ctx, L::kTimerInitial, 4, 10);
  clock.ns += 10;
  EXPECT_FALSE(apics.pending(0));
  // Random values at random offsets and widths, from CPUs that exist and
  // one that does not: the model stays bounded and answers.
  std::mt19937_64 rng(15);
  for (int i = 0; i < 50'000; i++) {
    ctx.vcpu = static_cast<uint32_t>(rng() % 3);
    uint64_t offset = rng() % kLapicWindow;
    if (rng() % 2) offset &= ~0xfull;
    static constexpr uint8_t kWidths[] = {1, 2, 4, 8};
    uint8_t width = kWidths[rng() % 4];
    if (rng() % 2)
      apics.write(ctx, offset, width, rng());
    else
      (void)apics.read(ctx, offset, width);
    clock.ns += rng() % 1000;
    for (uint32_t cpu = 0; cpu < 3; cpu++) {
      if (apics.pending(cpu)) apics.acknowledge(cpu);
      if (auto d = apics.next_deadline_ns(cpu)) {
        EXPECT_GT(*d, clock.ns);
      }
    }
    (void)apics.take_startups(static_cast<uint32_t>(rng() % 3));
  }
  EXPECT_EQ(apics.read(ctx, L::kId, 4), ctx.vcpu < 2 ? uint64_t{ctx.vcpu} << 24 : 0u);
}

}  // namespace
}  // namespace ringscope
