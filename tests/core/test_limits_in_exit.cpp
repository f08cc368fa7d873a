// test_limits_in_exit.cpp — the run's limits hold inside one exit (a
// virtqueue drain stops at the output limit or the watchdog's stop, the
// chains not taken stay in the ring), the per-exit event buffer is bounded
// and gives memory back, and read-only or symlinked disk images are not
// written through. No KVM needed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "ringscope/deferred_sink.h"
#include "ringscope/devices/ata.h"
#include "ringscope/devices/disk_image.h"
#include "ringscope/devices/virtio_blk.h"
#include "ringscope/devices/virtio_console.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

constexpr uint64_t kRam = 4 << 20;
constexpr uint16_t kQ = 16;
constexpr uint64_t kDesc = 0x1000, kAvail = 0x2000, kUsed = 0x3000, kData = 0x100000;
constexpr uint32_t kChain = 256 * 1024;  // bytes per transmit chain

struct Guest {
  std::vector<uint8_t> ram = std::vector<uint8_t>(kRam, 'x');
  GuestMemory mem{ram.data(), kRam};
  RecordingSink sink;
  DeviceContext ctx;
  Guest() {
    std::memset(ram.data(), 0, 0x10000);
    ctx.memory = &mem;
    ctx.sink = &sink;
  }
  template <typename T>
  void put(uint64_t gpa, T v) {
    std::memcpy(&ram[gpa], &v, sizeof v);
  }
  template <typename T>
  T get(uint64_t gpa) const {
    T v;
    std::memcpy(&v, &ram[gpa], sizeof v);
    return v;
  }
  void wr(VirtioMmioDevice& d, uint64_t off, uint32_t v) { d.write(ctx, off, 4, v); }
  uint32_t rd(VirtioMmioDevice& d, uint64_t off) { return static_cast<uint32_t>(d.read(ctx, off, 4)); }
  void bring_up(VirtioMmioDevice& d, uint16_t q) {
    using R = VirtioMmioDevice;
    wr(d, R::kStatus, 0);
    wr(d, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver);
    wr(d, R::kDriverFeaturesSel, 1);
    wr(d, R::kDriverFeatures, 1);
    wr(d, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk);
    wr(d, R::kQueueSel, q);
    wr(d, R::kQueueNum, kQ);
    wr(d, R::kQueueDescLow, kDesc);
    wr(d, R::kQueueDriverLow, kAvail);
    wr(d, R::kQueueDeviceLow, kUsed);
    wr(d, R::kQueueReady, 1);
    wr(d, R::kStatus, rd(d, R::kStatus) | kVirtioStatusDriverOk);
  }
  // kQ chains of kChain bytes each, all published.
  void fill_transmit_ring() {
    for (uint16_t i = 0; i < kQ; i++) {
      put<uint64_t>(kDesc + 16 * i, kData);
      put<uint32_t>(kDesc + 16 * i + 8, kChain);
      put<uint32_t>(kDesc + 16 * i + 12, 0);
      put<uint16_t>(kAvail + 4 + 2 * i, i);
    }
    put<uint16_t>(kAvail + 2, kQ);
  }
};

TEST(LimitsInExit, AConsoleDrainStopsAtTheOutputLimitInsideOneNotify) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  g.bring_up(con, VirtioConsole::kTransmitQ);
  g.fill_transmit_ring();       // 16 x 256 KiB = 4 MiB in one notify
  g.ctx.output_left = 300'000;  // the output budget the backend leaves this exit
  g.wr(con, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  ASSERT_TRUE(g.ctx.limit_hit);
  EXPECT_EQ(*g.ctx.limit_hit, RunEndReason::WatchdogOutput);
  EXPECT_EQ(con.bytes_transmitted(), 300'000u) << "output stops at the budget, inside the second chain";
  // The first chain was handed back; the one that hit the limit was not,
  // and the rest are still in the ring.
  EXPECT_EQ(g.get<uint16_t>(kUsed + 2), 1);
  EXPECT_EQ(con.queue(VirtioConsole::kTransmitQ).last_avail(), 2);
  EXPECT_EQ(con.status() & kVirtioStatusNeedsReset, 0u) << "stopping at a limit is not the driver's fault";
}

TEST(LimitsInExit, TheWatchdogsStopEndsADrainBetweenChains) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  g.bring_up(con, VirtioConsole::kTransmitQ);
  g.fill_transmit_ring();
  std::atomic<bool> stop{true};
  g.ctx.stop_flag = &stop;
  g.wr(con, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  ASSERT_TRUE(g.ctx.limit_hit);
  EXPECT_EQ(*g.ctx.limit_hit, RunEndReason::WatchdogTime);
  EXPECT_EQ(con.bytes_transmitted(), 0u);
  EXPECT_EQ(con.queue(VirtioConsole::kTransmitQ).last_avail(), 0) << "every chain stays in the ring";
}

TEST(LimitsInExit, WithoutALimitTheWholeRingDrains) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  g.bring_up(con, VirtioConsole::kTransmitQ);
  g.fill_transmit_ring();
  g.wr(con, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  EXPECT_FALSE(g.ctx.limit_hit);
  EXPECT_EQ(con.bytes_transmitted(), uint64_t{kQ} * kChain);
  EXPECT_EQ(g.get<uint16_t>(kUsed + 2), kQ);
}

// ---- the per-exit event buffer ------------------------------------------------

Event device_event(uint64_t i) {
  Event e;
  e.kind = EventKind::Device;
  e.device = "ata";
  e.reg = "Data";
  e.value = i;
  return e;
}

TEST(DeferredSinkBound, ABurstPastTheBoundGoesToTheOverflowSinkInOrder) {
  RecordingSink trace;
  DeferredSink d(&trace, 100);
  for (uint64_t i = 0; i < 1000; i++) {
    Event e = device_event(i);
    d.emit(e);
    ASSERT_LE(d.held(), 100u);
  }
  EXPECT_EQ(d.overflows(), 9u);
  d.drain(trace);
  ASSERT_EQ(trace.events().size(), 1000u);
  for (uint64_t i = 0; i < 1000; i++) EXPECT_EQ(trace.events()[i].value, i);
  EXPECT_EQ(d.dropped(), 0u);
}

TEST(DeferredSinkBound, WithoutAnOverflowSinkItDropsAndCounts) {
  DeferredSink d(nullptr, 10);
  for (uint64_t i = 0; i < 25; i++) {
    Event e = device_event(i);
    d.emit(e);
  }
  EXPECT_EQ(d.held(), 10u);
  EXPECT_EQ(d.dropped(), 15u);
  RecordingSink trace;
  d.drain(trace);
  ASSERT_EQ(trace.events().size(), 11u);
  EXPECT_EQ(trace.events().back().kind, EventKind::Counter);
  EXPECT_EQ(trace.events().back().name, DeferredSink::kDroppedCounter);
  EXPECT_EQ(trace.events().back().value, 15u) << "the trace says what it lacks";
}

TEST(DeferredSinkBound, ItGivesABurstsMemoryBack) {
  RecordingSink trace;
  DeferredSink d(&trace);
  for (uint64_t i = 0; i < DeferredSink::kMaxHeld; i++) {
    Event e = device_event(i);
    d.emit(e);
  }
  EXPECT_GE(d.capacity(), DeferredSink::kMaxHeld);
  d.drain(trace);
  EXPECT_LE(d.capacity(), DeferredSink::kKeepHeld);
}

// ---- read-only and symlinked disk images ----------------------------------------

struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ringscope-disk-test-" + std::to_string(::getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::filesystem::path make_image(const std::filesystem::path& p, char fill, mode_t mode) {
  std::ofstream(p, std::ios::binary) << std::string(64 * kSectorSize, fill);
  chmod(p.c_str(), mode);
  return p;
}

TEST(DiskImageSafety, AnImageWithoutWriteBitsIsReadOnlyEvenForRoot) {
  TempDir dir;
  auto p = make_image(dir.path / "ro.img", 'r', 0444);
  auto image = DiskImage::open(p, 1 << 20);
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_TRUE(image.value()->read_only());
  EXPECT_EQ(image.value()->sectors(), 64u) << "a read-only image is not resized";
  uint8_t sector[kSectorSize];
  std::memset(sector, 'w', sizeof sector);
  EXPECT_FALSE(image.value()->write(0, sector, 1));
  ASSERT_TRUE(image.value()->read(0, sector, 1));
  EXPECT_EQ(sector[0], 'r');
  std::ifstream f(p, std::ios::binary);
  EXPECT_EQ(f.get(), 'r') << "the file is untouched";
}

TEST(DiskImageSafety, AWritableImageStaysWritable) {
  TempDir dir;
  auto p = make_image(dir.path / "rw.img", 'r', 0644);
  auto image = DiskImage::open(p, 0);
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_FALSE(image.value()->read_only());
  uint8_t sector[kSectorSize];
  std::memset(sector, 'w', sizeof sector);
  EXPECT_TRUE(image.value()->write(0, sector, 1));
}

TEST(DiskImageSafety, ASymlinkIsRefusedWithAClearError) {
  TempDir dir;
  auto target = make_image(dir.path / "target.img", 't', 0644);
  auto link = dir.path / "link.img";
  std::filesystem::create_symlink(target, link);
  auto image = DiskImage::open(link, 0);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.error().message.find("symbolic link"), std::string::npos) << image.error().message;
  // A dangling link is refused too, not created through.
  auto dangling = dir.path / "dangling.img";
  std::filesystem::create_symlink(dir.path / "nowhere.img", dangling);
  EXPECT_FALSE(DiskImage::open(dangling, 1 << 20).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path / "nowhere.img"));
}

TEST(DiskImageSafety, AtaAbortsAWriteToAReadOnlyDisk) {
  TempDir dir;
  auto image = DiskImage::open(make_image(dir.path / "ro.img", 'r', 0444), 0);
  ASSERT_TRUE(image.ok());
  AtaDisk ata(image.value().get());
  RecordingSink sink;
  DeviceContext ctx;
  ctx.sink = &sink;
  ata.write(ctx, AtaDisk::kSectorCount, 1, 1);
  ata.write(ctx, AtaDisk::kLbaLow, 1, 0);
  ata.write(ctx, AtaDisk::kLbaMid, 1, 0);
  ata.write(ctx, AtaDisk::kLbaHigh, 1, 0);
  ata.write(ctx, AtaDisk::kDriveHead, 1, 0xe0);
  ata.write(ctx, AtaDisk::kStatusCommand, 1, AtaDisk::kCmdWriteSectors);
  uint64_t status = ata.read(ctx, AtaDisk::kStatusCommand, 1);
  EXPECT_TRUE(status & AtaDisk::kStatusErr);
  EXPECT_FALSE(status & AtaDisk::kStatusDrq) << "no data phase for a refused write";
  EXPECT_EQ(ata.read(ctx, AtaDisk::kErrorFeatures, 1), AtaDisk::kErrorAbrt);
  bool said = false;
  for (const auto& e : sink.events()) said |= e.reg.find("read-only") != std::string_view::npos;
  EXPECT_TRUE(said);
}

TEST(DiskImageSafety, VirtioBlkOffersReadOnlyAndFailsWrites) {
  TempDir dir;
  auto image = DiskImage::open(make_image(dir.path / "ro.img", 'r', 0444), 0);
  ASSERT_TRUE(image.ok());
  Guest g;
  IrqLine irq(kVirtioIrqBase + 1, "virtio-blk");
  VirtioBlk blk(&irq, image.value().get());
  g.wr(blk, VirtioMmioDevice::kDeviceFeaturesSel, 0);
  EXPECT_TRUE(g.rd(blk, VirtioMmioDevice::kDeviceFeatures) & VirtioBlk::kFeatureRo);
  g.bring_up(blk, 0);
  // A write of sector 0: header, 512 bytes, status.
  g.put<uint32_t>(kData, VirtioBlk::kTypeOut);
  g.put<uint64_t>(kData + 8, 0);
  g.put<uint8_t>(kData + 0x2000, 0xee);
  auto desc = [&](uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    g.put<uint64_t>(kDesc + 16 * i, addr);
    g.put<uint32_t>(kDesc + 16 * i + 8, len);
    g.put<uint16_t>(kDesc + 16 * i + 12, flags);
    g.put<uint16_t>(kDesc + 16 * i + 14, next);
  };
  desc(0, kData, 16, kVirtqDescNext, 1);
  desc(1, kData + 0x1000, kSectorSize, kVirtqDescNext, 2);
  desc(2, kData + 0x2000, 1, kVirtqDescWrite, 0);
  g.put<uint16_t>(kAvail + 4, 0);
  g.put<uint16_t>(kAvail + 2, 1);
  g.wr(blk, VirtioMmioDevice::kQueueNotify, 0);
  EXPECT_EQ(g.get<uint8_t>(kData + 0x2000), VirtioBlk::kStatusIoErr);
  std::ifstream f(dir.path / "ro.img", std::ios::binary);
  EXPECT_EQ(f.get(), 'r');
}

}  // namespace
}  // namespace ringscope
