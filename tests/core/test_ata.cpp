// test_ata.cpp — the legacy ATA PIO disk, driven the way ide.c drives it,
// plus hostile commands. Sectors go to a real (scratch) image file.
#include <gtest/gtest.h>

#include <cstring>

#include "ringscope/devices/ata.h"
#include "ringscope/devices/hypercall.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

struct AtaFixture : ::testing::Test {
  RecordingSink sink;
  DeviceContext ctx;
  std::unique_ptr<DiskImage> image = DiskImage::scratch(32 * kSectorSize).value();
  AtaDisk ata{image.get()};
  void SetUp() override { ctx.sink = &sink; }
  void out(uint8_t reg, uint8_t v) { ata.write(ctx, reg, 1, v); }
  uint8_t status() { return static_cast<uint8_t>(ata.read(ctx, AtaDisk::kStatusCommand, 1)); }
  void command(uint8_t cmd, uint32_t lba, uint8_t count) {
    out(AtaDisk::kSectorCount, count);
    out(AtaDisk::kLbaLow, lba & 0xff);
    out(AtaDisk::kLbaMid, (lba >> 8) & 0xff);
    out(AtaDisk::kLbaHigh, (lba >> 16) & 0xff);
    out(AtaDisk::kDriveHead, 0xe0 | ((lba >> 24) & 0x0f));
    out(AtaDisk::kStatusCommand, cmd);
  }
};

TEST_F(AtaFixture, WriteThenReadThroughTheDataPort) {
  command(AtaDisk::kCmdWriteSectors, 3, 2);
  for (int s = 0; s < 2; s++) {
    ASSERT_TRUE(status() & AtaDisk::kStatusDrq);
    for (uint32_t w = 0; w < 128; w++) ata.write(ctx, AtaDisk::kData, 4, 0x01000000u * s + w);
  }
  EXPECT_EQ(status() & (AtaDisk::kStatusDrq | AtaDisk::kStatusErr), 0);
  uint32_t word = 0;
  uint8_t sector[512];
  ASSERT_TRUE(image->read(4, sector, 1));  // on the host file, not only in memory
  std::memcpy(&word, sector + 4 * 5, 4);
  EXPECT_EQ(word, 0x01000005u);

  command(AtaDisk::kCmdReadSectors, 3, 2);
  for (int s = 0; s < 2; s++) {
    ASSERT_TRUE(status() & AtaDisk::kStatusDrq);
    for (uint32_t w = 0; w < 128; w++) ASSERT_EQ(ata.read(ctx, AtaDisk::kData, 4), 0x01000000u * s + w);
  }
  EXPECT_EQ(status(), AtaDisk::kStatusDrdy | AtaDisk::kStatusDsc);
}

TEST_F(AtaFixture, SectorBeyondTheImageIsIdnf) {
  command(AtaDisk::kCmdReadSectors, 31, 2);  // 31 exists, 32 does not
  EXPECT_TRUE(status() & AtaDisk::kStatusErr);
  EXPECT_EQ(ata.read(ctx, AtaDisk::kErrorFeatures, 1), AtaDisk::kErrorIdnf);
  EXPECT_EQ(ata.read(ctx, AtaDisk::kData, 2), 0xffffu);  // no transfer
  bool reported = false;
  for (const auto& e : sink.events()) reported |= e.reg.starts_with("error: sector beyond");
  EXPECT_TRUE(reported);
}

TEST_F(AtaFixture, UnknownCommandAbortsAndIdentifyWorks) {
  command(0x99, 0, 1);
  EXPECT_TRUE(status() & AtaDisk::kStatusErr);
  EXPECT_EQ(ata.read(ctx, AtaDisk::kErrorFeatures, 1), AtaDisk::kErrorAbrt);
  command(AtaDisk::kCmdIdentify, 0, 1);
  uint16_t words[256];
  for (auto& w : words) w = static_cast<uint16_t>(ata.read(ctx, AtaDisk::kData, 2));
  EXPECT_EQ(words[60] | (uint32_t(words[61]) << 16), 32u);
  EXPECT_EQ(words[27], ('R' << 8) | 'I');
}

TEST_F(AtaFixture, DataWritesOutsideACommandAreIgnored) {
  ata.write(ctx, AtaDisk::kData, 2, 0x1234);
  uint8_t sector[512];
  ASSERT_TRUE(image->read(0, sector, 1));
  EXPECT_EQ(sector[0], 0);
}

TEST(Hypercall, TableAndHostileArguments) {
  std::vector<uint8_t> ram(4096, 'a');
  GuestMemory mem(ram.data(), ram.size());
  RecordingSink sink;
  DeviceContext ctx;
  ctx.memory = &mem;
  ctx.sink = &sink;
  HypercallDevice hc;
  std::string console;
  hc.set_console([&](DeviceContext&, std::string_view s) { console += s; });
  auto call = [&](uint64_t nr, uint64_t a = 0, uint64_t b = 0) {
    auto c = hc.call(ctx, {nr, a, b, 0, 0}, Transport::Port, Source::Vmm, 0, 0);
    EXPECT_EQ(c.access.guest_exit, nr == 3) << "only halt ends the run";
    if (c.access.guest_exit) {
      EXPECT_EQ(c.access.guest_status, static_cast<int>(a & 0xff));
    }
    return static_cast<int64_t>(c.rax);
  };
  EXPECT_EQ(call(0), 1);
  EXPECT_EQ(call(1, 10, 5), 5);
  EXPECT_EQ(console, "aaaaa");
  EXPECT_EQ(call(1, 4090, 100), kHcEFAULT);      // runs off guest RAM
  EXPECT_EQ(call(1, 0, 1ull << 40), kHcEINVAL);  // too long
  EXPECT_EQ(call(12345), kHcENOSYS);
  EXPECT_GT(call(4), 1'600'000'000'000'000'000ll);  // after 2020
  EXPECT_EQ(call(3, 7), 0);                         // halt: its result carries the guest's exit with status 7
  size_t events = 0;
  for (const auto& e : sink.events()) events += e.kind == EventKind::Hypercall && e.transport == Transport::Port;
  EXPECT_EQ(events, 7u);
  ASSERT_NE(find_hypercall(1), nullptr);
  EXPECT_EQ(find_hypercall(1)->name, "console_write");
  EXPECT_EQ(hypercall_from_name("time_ns"), Hypercall::TimeNs);
}

}  // namespace
}  // namespace ringscope
