// Tests of the UART and probe device models, fed register accesses directly.
#include <gtest/gtest.h>

#include <vector>

#include "ringscope/bus.h"
#include "ringscope/devices/probe.h"
#include "ringscope/devices/uart16550.h"

namespace ringscope {
namespace {

struct Recorder : EventSink {
  std::vector<Event> events;
  std::vector<std::string> texts, regs;
  void emit(Event& e) override {
    events.push_back(e);
    texts.emplace_back(e.kind == EventKind::Marker ? e.name : e.text);
    regs.emplace_back(e.reg);
  }
};

TEST(Uart16550, LsrReportsTransmitterEmptySoPollingNeedsOneRead) {
  Uart16550 uart;
  DeviceContext ctx;
  EXPECT_EQ(uart.read(ctx, Uart16550::kLsr, 1) & 0x60, 0x60u);
}

TEST(Uart16550, ThrWritesAreTransmittedAndReportedPerLine) {
  Uart16550 uart;
  Recorder rec;
  DeviceContext ctx;
  ctx.sink = &rec;
  std::string echoed;
  uart.set_echo([&](char c) { echoed.push_back(c); });
  for (char c : std::string("hi\nyo")) uart.write(ctx, Uart16550::kRbrThr, 1, static_cast<uint8_t>(c));
  EXPECT_EQ(uart.transmitted(), "hi\nyo");
  EXPECT_EQ(echoed, "hi\nyo");
  // 5 device events (THR writes) and one output event for the full line.
  int outputs = 0, thr = 0;
  for (size_t i = 0; i < rec.events.size(); i++) {
    if (rec.events[i].kind == EventKind::Output) {
      outputs++;
      EXPECT_EQ(rec.texts[i], "hi\n");
    }
    if (rec.events[i].kind == EventKind::Device && rec.regs[i] == "THR") thr++;
  }
  EXPECT_EQ(outputs, 1);
  EXPECT_EQ(thr, 5);
  uart.finish(ctx);  // the unterminated "yo" is flushed at the end
  EXPECT_EQ(rec.events.back().kind, EventKind::Output);
  EXPECT_EQ(rec.texts.back(), "yo");
}

TEST(Uart16550, ReceivedBytesComeOnePerRbrReadWhileLsrDataReadyIsSet) {
  Uart16550 uart;
  DeviceContext ctx;
  EXPECT_EQ(uart.read(ctx, Uart16550::kLsr, 1) & 0x01, 0u) << "nothing received: DR clear";
  EXPECT_EQ(uart.read(ctx, Uart16550::kRbrThr, 1), 0u);
  uart.set_input("hi");
  EXPECT_EQ(uart.read(ctx, Uart16550::kLsr, 1) & 0x01, 1u);
  EXPECT_EQ(uart.read(ctx, Uart16550::kRbrThr, 1), uint64_t('h'));
  EXPECT_EQ(uart.input_pending(), 1u);
  EXPECT_EQ(uart.read(ctx, Uart16550::kRbrThr, 1), uint64_t('i'));
  EXPECT_EQ(uart.read(ctx, Uart16550::kLsr, 1) & 0x01, 0u) << "all taken: DR clear again";
  EXPECT_EQ(uart.read(ctx, Uart16550::kRbrThr, 1), 0u) << "reading an empty RBR is harmless";
  uart.write(ctx, Uart16550::kLcr, 1, 0x80);  // DLAB: offset 0 is the divisor, not RBR
  uart.set_input("x");
  EXPECT_NE(uart.read(ctx, Uart16550::kRbrThr, 1), uint64_t('x'));
  EXPECT_EQ(uart.input_pending(), 1u);
}

TEST(Uart16550, DlabSelectsTheDivisorLatch) {
  Uart16550 uart;
  DeviceContext ctx;
  uart.write(ctx, Uart16550::kLcr, 1, 0x80);  // DLAB on
  uart.write(ctx, Uart16550::kRbrThr, 1, 0x01);
  uart.write(ctx, Uart16550::kIer, 1, 0x00);
  EXPECT_EQ(uart.divisor(), 1u);  // 115200 baud
  EXPECT_EQ(uart.register_name(0, Direction::Out), "DLL");
  uart.write(ctx, Uart16550::kLcr, 1, 0x03);  // 8N1, DLAB off
  EXPECT_EQ(uart.register_name(0, Direction::Out), "THR");
  EXPECT_EQ(uart.register_name(0, Direction::In), "RBR");
  EXPECT_TRUE(uart.transmitted().empty()) << "divisor writes are not output";
  EXPECT_EQ(uart.read(ctx, Uart16550::kScr, 1), 0u);
  uart.write(ctx, Uart16550::kScr, 1, 0x5a);
  EXPECT_EQ(uart.read(ctx, Uart16550::kScr, 1), 0x5au);
}

TEST(Probe, IdentifiesItselfAndReportsTheExitStatus) {
  ProbeDevice probe;
  DeviceContext ctx;
  EXPECT_EQ(probe.read(ctx, ProbeDevice::kMarker, 4), kProbeMagic);
  // The exit port's write returns the guest's exit; a marker's ends nothing.
  AccessResult r = probe.write_access(ctx, ProbeDevice::kExit, 1, 141);
  EXPECT_TRUE(r.guest_exit);
  EXPECT_EQ(r.guest_status, 141);
  EXPECT_TRUE(probe.exited());
  EXPECT_FALSE(probe.write_access(ctx, ProbeDevice::kMarker, 4, 0x10).guest_exit);
  // Through the bus, as the backends make the access, and with the limit
  // the access ran into added by the context.
  Bus bus;
  ASSERT_TRUE(bus.add(AddressSpace::Pio, 0x500, 8, &probe).ok());
  AccessResult via_bus = bus.write(ctx, AddressSpace::Pio, 0x500 + ProbeDevice::kExit, 4, 0x1234, nullptr);
  EXPECT_TRUE(via_bus.guest_exit);
  EXPECT_EQ(via_bus.guest_status, 0x1234);
  EXPECT_FALSE(bus.write(ctx, AddressSpace::Pio, 0x600, 1, 0, nullptr).guest_exit) << "unclaimed";
  ctx.limit_hit = RunEndReason::WatchdogOutput;
  AccessResult both = ctx.access_result(via_bus);
  EXPECT_TRUE(both.guest_exit);
  EXPECT_EQ(both.limit_hit, RunEndReason::WatchdogOutput);
  // Several accesses in one exit: the last status reported wins.
  AccessResult exit_total;
  exit_total.add(r);
  exit_total.add({});
  exit_total.add(via_bus);
  EXPECT_EQ(exit_total.guest_status, 0x1234);
}

TEST(Probe, MarkerReadsTheStructFromGuestMemoryAndSurvivesBadAddresses) {
  std::vector<uint8_t> ram(0x10000);
  GuestMemory mem(ram.data(), ram.size());
  struct {
    uint32_t phase, value;
    char label[56];
  } m{1, 42, "write x16"};
  mem.write(0x2000, &m, sizeof m);
  ProbeDevice probe;
  Recorder rec;
  DeviceContext ctx;
  ctx.memory = &mem;
  ctx.sink = &rec;
  probe.write(ctx, ProbeDevice::kMarker, 4, 0x2000);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].kind, EventKind::Marker);
  EXPECT_EQ(rec.events[0].phase, MarkerPhase::Begin);
  EXPECT_EQ(rec.events[0].value, 42u);
  EXPECT_EQ(rec.texts[0], "write x16");
  // Off the end of RAM, and straddling the end: a marker saying so, no crash.
  probe.write(ctx, ProbeDevice::kMarker, 4, 0xffffff00);
  probe.write(ctx, ProbeDevice::kMarker, 4, 0x10000 - 8);
  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_NE(rec.texts[1].find("bad marker address"), std::string::npos);
  EXPECT_NE(rec.texts[2].find("bad marker address"), std::string::npos);
  // A label without a terminator is cut at 56 bytes.
  std::memset(m.label, 'x', sizeof m.label);
  mem.write(0x3000, &m, sizeof m);
  probe.write(ctx, ProbeDevice::kMarker, 4, 0x3000);
  EXPECT_EQ(rec.texts[3].size(), 56u);
}

}  // namespace
}  // namespace ringscope
