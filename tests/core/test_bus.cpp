// Tests of the device bus: routing by interval, overlap refusal, unclaimed
// accesses reported.
#include <gtest/gtest.h>

#include "ringscope/bus.h"

namespace ringscope {
namespace {

class RecordingDevice : public Device {
 public:
  explicit RecordingDevice(std::string_view n) : name_(n) {}
  std::string_view name() const override { return name_; }
  uint64_t read(DeviceContext&, uint64_t offset, uint8_t) override {
    last_offset = offset;
    return 0x40 + offset;
  }
  void write(DeviceContext&, uint64_t offset, uint8_t, uint64_t value) override {
    last_offset = offset;
    last_value = value;
  }
  uint64_t last_offset = ~0ull, last_value = 0;

 private:
  std::string_view name_;
};

TEST(Bus, RoutesToTheDeviceWithAnOffset) {
  Bus bus;
  RecordingDevice a("a"), b("b");
  ASSERT_TRUE(bus.add(AddressSpace::Pio, 0x3f8, 8, &a).ok());
  ASSERT_TRUE(bus.add(AddressSpace::Pio, 0xf0, 8, &b).ok());
  DeviceContext ctx;
  bool claimed = false;
  bus.write(ctx, AddressSpace::Pio, 0x3fd, 1, 0x99, &claimed);
  EXPECT_TRUE(claimed);
  EXPECT_EQ(a.last_offset, 5u);
  EXPECT_EQ(a.last_value, 0x99u);
  EXPECT_EQ(bus.read(ctx, AddressSpace::Pio, 0xf4, 1, &claimed), 0x44u);
  EXPECT_EQ(b.last_offset, 4u);
}

TEST(Bus, RefusesOverlappingWindows) {
  Bus bus;
  RecordingDevice a("a"), b("b"), c("c");
  ASSERT_TRUE(bus.add(AddressSpace::Pio, 0x100, 0x10, &a).ok());
  EXPECT_FALSE(bus.add(AddressSpace::Pio, 0x10f, 1, &b).ok());     // overlaps the end
  EXPECT_FALSE(bus.add(AddressSpace::Pio, 0xf8, 0x10, &b).ok());   // overlaps the start
  EXPECT_FALSE(bus.add(AddressSpace::Pio, 0x104, 2, &b).ok());     // inside
  EXPECT_TRUE(bus.add(AddressSpace::Pio, 0x110, 4, &b).ok());      // adjacent is fine
  EXPECT_TRUE(bus.add(AddressSpace::Mmio, 0x100, 0x10, &c).ok());  // other space is fine
  auto err = bus.add(AddressSpace::Pio, 0x100, 1, &c);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("overlaps a"), std::string::npos) << err.error().message;
}

TEST(Bus, UnclaimedAccessesAreReportedAndReadAllOnes) {
  Bus bus;
  DeviceContext ctx;
  bool claimed = true;
  EXPECT_EQ(bus.read(ctx, AddressSpace::Pio, 0x80, 1, &claimed), 0xffu);
  EXPECT_FALSE(claimed);
  EXPECT_EQ(bus.read(ctx, AddressSpace::Mmio, 0xd0000000, 4, &claimed), 0xffffffffu);
  EXPECT_FALSE(claimed);
  claimed = true;
  bus.write(ctx, AddressSpace::Pio, 0x80, 1, 0, &claimed);
  EXPECT_FALSE(claimed);
}

}  // namespace
}  // namespace ringscope

namespace ringscope {
namespace {

TEST(Bus, UnclaimedAccessesBecomeDeviceEventsInTheTrace) {
  struct Sink : EventSink {
    std::vector<Event> events;
    void emit(Event& e) override { events.push_back(e); }
  } sink;
  Bus bus;
  DeviceContext ctx;
  ctx.sink = &sink;
  ctx.vcpu = 2;
  bus.write(ctx, AddressSpace::Pio, 0x80, 1, 0x42, nullptr);
  (void)bus.read(ctx, AddressSpace::Mmio, 0xfee00000, 4, nullptr);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].kind, EventKind::Device);
  EXPECT_EQ(sink.events[0].device, "unclaimed");
  EXPECT_EQ(sink.events[0].port, 0x80);
  EXPECT_EQ(sink.events[0].direction, Direction::Out);
  EXPECT_EQ(sink.events[0].value, 0x42u);
  EXPECT_EQ(sink.events[0].vcpu, 2u);
  EXPECT_EQ(sink.events[1].gpa, 0xfee00000u);
  EXPECT_EQ(sink.events[1].direction, Direction::Read);
  EXPECT_EQ(sink.events[1].value, 0xffffffffu);
}

}  // namespace
}  // namespace ringscope
