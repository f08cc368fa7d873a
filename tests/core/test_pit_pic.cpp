// The 8254 PIT and the 8259A PIC pair, register by register, on a clock the
// test controls.
#include <gtest/gtest.h>

#include "ringscope/devices/i8254.h"
#include "ringscope/devices/i8259.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

struct Clock {
  uint64_t ns = 1'000'000'000;
  std::function<uint64_t()> fn() {
    return [this] { return ns; };
  }
};

uint64_t ns_of_ticks(uint64_t ticks) { return (ticks * 1'000'000'000ull + kPitHz - 1) / kPitHz; }

void program(I8254& pit, DeviceContext& ctx, uint8_t control, uint16_t count) {
  pit.write(ctx, I8254::kControl, 1, control);
  pit.write(ctx, I8254::kChannel0, 1, count & 0xff);
  pit.write(ctx, I8254::kChannel0, 1, count >> 8);
}

TEST(Pit, Mode2RateGeneratorGivesOneEdgePerPeriod) {
  Clock clock;
  I8254 pit(clock.fn());
  DeviceContext ctx;
  EXPECT_FALSE(pit.poll()) << "silent until programmed";
  EXPECT_FALSE(pit.next_edge_ns());
  program(pit, ctx, 0x34, 11932);  // channel 0, LSB/MSB, mode 2
  uint64_t start = clock.ns;
  EXPECT_EQ(pit.current_count(0), 11932u);
  ASSERT_TRUE(pit.next_edge_ns());
  EXPECT_EQ(*pit.next_edge_ns(), start + ns_of_ticks(11932));
  EXPECT_NEAR(double(pit.period_ns()), 1e9 / 100, 1e3);
  clock.ns = start + ns_of_ticks(11931);
  EXPECT_FALSE(pit.poll());
  EXPECT_EQ(pit.current_count(0), 1u);
  clock.ns = start + ns_of_ticks(11932);
  EXPECT_TRUE(pit.poll());
  EXPECT_FALSE(pit.poll()) << "one edge, reported once";
  EXPECT_EQ(pit.current_count(0), 11932u) << "reloaded";
  // Five periods late: the edges merge into one, as in an edge-triggered IRR.
  clock.ns = start + ns_of_ticks(6 * 11932);
  EXPECT_TRUE(pit.poll());
  EXPECT_FALSE(pit.poll());
  EXPECT_EQ(pit.edges(), 2u);
  EXPECT_EQ(*pit.next_edge_ns(), start + ns_of_ticks(7 * 11932));
}

TEST(Pit, CountZeroMeans65536AndCountOneIsRefusedInMode2) {
  Clock clock;
  I8254 pit(clock.fn());
  RecordingSink sink;
  DeviceContext ctx;
  ctx.sink = &sink;
  program(pit, ctx, 0x34, 0);
  EXPECT_EQ(pit.period_ns(), ns_of_ticks(65536));
  program(pit, ctx, 0x34, 1);
  EXPECT_EQ(pit.period_ns(), ns_of_ticks(2));
  bool refused = false;
  for (const auto& e : sink.events())
    if (e.kind == EventKind::Device && e.reg.starts_with("error:")) refused = true;
  EXPECT_TRUE(refused) << "a device event says the count was not allowed";
}

TEST(Pit, CounterLatchFreezesTheReadValue) {
  Clock clock;
  I8254 pit(clock.fn());
  DeviceContext ctx;
  program(pit, ctx, 0x34, 1000);
  clock.ns += ns_of_ticks(100);
  pit.write(ctx, I8254::kControl, 1, 0x00);  // latch channel 0
  clock.ns += ns_of_ticks(300);              // counting goes on
  uint16_t lo = uint16_t(pit.read(ctx, I8254::kChannel0, 1));
  uint16_t hi = uint16_t(pit.read(ctx, I8254::kChannel0, 1));
  EXPECT_EQ(lo | hi << 8, 900);
  lo = uint16_t(pit.read(ctx, I8254::kChannel0, 1));
  hi = uint16_t(pit.read(ctx, I8254::kChannel0, 1));
  EXPECT_EQ(lo | hi << 8, 600) << "after the latch is read out, reads are live again";
}

TEST(Pit, LsbOnlyAccessAndReadBackStatus) {
  Clock clock;
  I8254 pit(clock.fn());
  DeviceContext ctx;
  pit.write(ctx, I8254::kControl, 1, 0x96);  // channel 2, LSB only, mode 3
  pit.write(ctx, I8254::kChannel2, 1, 100);
  EXPECT_EQ(pit.current_count(2), 100u);
  pit.write(ctx, I8254::kControl, 1, 0xe8);  // read-back: status only (bit 5 set: no count), channel 2
  uint8_t status = uint8_t(pit.read(ctx, I8254::kChannel2, 1));
  EXPECT_EQ(status & 0x3f, 0x16) << "LSB access, mode 3, binary";
  EXPECT_EQ(status & 0x40, 0) << "count loaded (no null count)";
  EXPECT_EQ(pit.read(ctx, I8254::kChannel2, 1), 100u) << "then the live count, LSB";
  EXPECT_FALSE(pit.poll()) << "channel 2 drives no IRQ";
}

TEST(Pit, Mode0InterruptsOnceOnTerminalCount) {
  Clock clock;
  I8254 pit(clock.fn());
  DeviceContext ctx;
  program(pit, ctx, 0x30, 500);
  clock.ns += ns_of_ticks(499);
  EXPECT_FALSE(pit.poll());
  clock.ns += ns_of_ticks(10);
  EXPECT_TRUE(pit.poll());
  clock.ns += ns_of_ticks(100000);
  EXPECT_FALSE(pit.poll()) << "one shot";
  EXPECT_FALSE(pit.next_edge_ns());
}

TEST(Pic, PassesNothingBeforeInitialisation) {
  PicPair pic;
  pic.raise(0);
  EXPECT_FALSE(pic.pending_vector());
  EXPECT_FALSE(pic.unmasked(0));
}

void init_pair(PicPair& pic, DeviceContext& ctx, uint8_t base1, uint8_t base2) {
  pic.master().write(ctx, I8259::kCommand, 1, 0x11);
  pic.master().write(ctx, I8259::kData, 1, base1);
  pic.master().write(ctx, I8259::kData, 1, 0x04);
  pic.master().write(ctx, I8259::kData, 1, 0x01);
  pic.slave().write(ctx, I8259::kCommand, 1, 0x11);
  pic.slave().write(ctx, I8259::kData, 1, base2);
  pic.slave().write(ctx, I8259::kData, 1, 0x02);
  pic.slave().write(ctx, I8259::kData, 1, 0x01);
}

TEST(Pic, InitialisationVectorBaseImrAndEoi) {
  PicPair pic;
  DeviceContext ctx;
  init_pair(pic, ctx, 0x20, 0x28);
  EXPECT_EQ(pic.master().imr(), 0) << "ICW1 clears IMR";
  pic.master().write(ctx, I8259::kData, 1, 0xfa);  // only IRQ 0 and the cascade
  EXPECT_EQ(pic.master().read(ctx, I8259::kData, 1), 0xfau);
  pic.raise(1);
  EXPECT_FALSE(pic.pending_vector()) << "IRQ 1 is masked";
  pic.raise(0);
  ASSERT_TRUE(pic.pending_vector());
  EXPECT_EQ(*pic.pending_vector(), 0x20);
  EXPECT_EQ(pic.master().irr() & 1, 1);
  EXPECT_EQ(pic.acknowledge(), 0x20);
  EXPECT_EQ(pic.master().isr(), 1) << "INTA: IRR -> ISR";
  EXPECT_EQ(pic.master().irr() & 1, 0);
  pic.raise(0);
  EXPECT_FALSE(pic.pending_vector()) << "IRQ 0 in service blocks itself until EOI";
  // OCW3: read ISR, then IRR, from the command port.
  pic.master().write(ctx, I8259::kCommand, 1, 0x0b);
  EXPECT_EQ(pic.master().read(ctx, I8259::kCommand, 1), 1u);
  pic.master().write(ctx, I8259::kCommand, 1, 0x0a);
  EXPECT_EQ(pic.master().read(ctx, I8259::kCommand, 1) & 1, 1u);
  pic.master().write(ctx, I8259::kCommand, 1, 0x20);  // non-specific EOI
  EXPECT_EQ(pic.master().isr(), 0);
  EXPECT_EQ(*pic.pending_vector(), 0x20);
}

TEST(Pic, PriorityAndSlaveCascade) {
  PicPair pic;
  DeviceContext ctx;
  init_pair(pic, ctx, 0x20, 0x28);
  pic.raise(12);  // slave IR4
  pic.raise(5);
  ASSERT_TRUE(pic.pending_vector());
  EXPECT_EQ(*pic.pending_vector(), 0x2c) << "IR2 (the cascade) outranks IR5";
  EXPECT_EQ(pic.acknowledge(), 0x2c);
  EXPECT_EQ(pic.master().isr(), 1u << 2);
  EXPECT_EQ(pic.slave().isr(), 1u << 4);
  EXPECT_FALSE(pic.pending_vector()) << "IR5 is lower than the cascade in service";
  pic.slave().write(ctx, I8259::kCommand, 1, 0x20);
  pic.master().write(ctx, I8259::kCommand, 1, 0x20);
  EXPECT_EQ(*pic.pending_vector(), 0x25);
  pic.raise(0);
  EXPECT_EQ(*pic.pending_vector(), 0x20) << "IR0 is highest";
}

TEST(Pic, SpecificEoiAutoEoiAndSpuriousAcknowledge) {
  PicPair pic;
  DeviceContext ctx;
  EXPECT_EQ(pic.acknowledge() & 7, 7) << "nothing pending: spurious IRQ 7";
  // Single chip, auto-EOI.
  I8259& m = pic.master();
  m.write(ctx, I8259::kCommand, 1, 0x13);  // ICW1: single, ICW4
  m.write(ctx, I8259::kData, 1, 0x40);
  m.write(ctx, I8259::kData, 1, 0x03);  // ICW4: 8086, auto-EOI
  EXPECT_TRUE(m.initialised());
  pic.raise(3);
  EXPECT_EQ(pic.acknowledge(), 0x43);
  EXPECT_EQ(m.isr(), 0) << "auto-EOI";
  EXPECT_EQ(pic.acknowledge(), 0x47) << "spurious: no request left";
  EXPECT_EQ(m.isr(), 0) << "a spurious IRQ 7 sets no ISR bit";
  // Normal EOI mode again, then a specific EOI.
  m.write(ctx, I8259::kCommand, 1, 0x13);
  m.write(ctx, I8259::kData, 1, 0x40);
  m.write(ctx, I8259::kData, 1, 0x01);
  pic.raise(3);
  pic.acknowledge();
  EXPECT_EQ(m.isr(), 1u << 3);
  m.write(ctx, I8259::kCommand, 1, 0x62);  // specific EOI for IR2: not the one in service
  EXPECT_EQ(m.isr(), 1u << 3);
  m.write(ctx, I8259::kCommand, 1, 0x63);
  EXPECT_EQ(m.isr(), 0);
}

}  // namespace
}  // namespace ringscope
