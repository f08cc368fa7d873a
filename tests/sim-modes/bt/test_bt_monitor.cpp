// The monitor's pages (sim-modes/bt/monitor.h): where they go in a guest's
// address space, and the clear refusal when a hostile guest leaves no room.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bt/monitor.h"

namespace ringscope::bt {
namespace {

constexpr uint64_t kPml4 = 0x1000;

struct Ram {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(1 << 20);
  GuestMemory memory{bytes.data(), bytes.size()};
  uint64_t entry(int i) const {
    uint64_t e;
    std::memcpy(&e, bytes.data() + kPml4 + 8 * i, 8);
    return e;
  }
  void set(int i, uint64_t e) { std::memcpy(bytes.data() + kPml4 + 8 * i, &e, 8); }
};

TEST(BtMonitor, TakesAFreeSlotAndGivesItBack) {
  Ram ram;
  ram.set(0, 0x2003);  // the kernel's identity map
  ram.set(1, 0x3007);  // user programs
  MonitorPages m;
  m.set_gpa(1ull << 32);
  ASSERT_TRUE(m.install(ram.memory, kPml4).ok());
  EXPECT_EQ(m.slot(), 511);
  EXPECT_EQ(m.base(), 0xffffff8000000000ull);  // slot 511, canonical
  EXPECT_EQ(ram.entry(511) & ~0xfffull, (1ull << 32));
  EXPECT_EQ(ram.entry(0), 0x2003u);
  m.remove(ram.memory);
  EXPECT_EQ(ram.entry(511), 0u);  // the guest's PML4 as it was
  EXPECT_EQ(ram.entry(1), 0x3007u);
}

TEST(BtMonitor, MovesWhenTheGuestTakesItsSlot) {
  Ram ram;
  MonitorPages m;
  m.set_gpa(1ull << 32);
  ASSERT_TRUE(m.install(ram.memory, kPml4).ok());
  m.remove(ram.memory);
  ram.set(511, 0x5003);
  ASSERT_TRUE(m.install(ram.memory, kPml4).ok());
  EXPECT_EQ(m.slot(), 510);
  EXPECT_EQ(ram.entry(511), 0x5003u);  // the guest's own entry untouched
}

TEST(BtMonitor, RefusesAGuestThatUsesEverySlot) {
  Ram ram;
  for (int i = 0; i < 512; i++) ram.set(i, 0x2003);
  MonitorPages m;
  m.set_gpa(1ull << 32);
  auto st = m.install(ram.memory, kPml4);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("all 512 PML4 slots"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("--mode full-virt"), std::string::npos) << st.error().message;
  for (int i = 0; i < 512; i++) EXPECT_EQ(ram.entry(i), 0x2003u);  // nothing written
}

TEST(BtMonitor, TrampolinesExitWithoutTouchingAGeneralRegister) {
  Ram ram;
  MonitorPages m;
  m.set_gpa(1ull << 32);
  ASSERT_TRUE(m.install(ram.memory, kPml4).ok());
  // Mapped after the three page-table pages: vector 14 pushes no dummy
  // error code (the CPU pushed one), vector 0x40 does.
  const uint8_t* stubs = m.host() + 3 * 4096;
  const uint8_t pf[] = {0x68, 14, 0, 0, 0, 0xe6, kTrapPort, 0xeb, 0xfe};
  EXPECT_EQ(std::memcmp(stubs + 14 * 16, pf, sizeof pf), 0);
  const uint8_t sc[] = {0x6a, 0, 0x68, 0x40, 0, 0, 0, 0xe6, kTrapPort, 0xeb, 0xfe};
  EXPECT_EQ(std::memcmp(stubs + 0x40 * 16, sc, sizeof sc), 0);
}

}  // namespace
}  // namespace ringscope::bt
