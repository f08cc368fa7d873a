// test_virtio_balloon.cpp — virtio-balloon (virtio 1.2, 5.5) fed with
// made-up rings: feature negotiation, the config fields, inflate with good
// and hostile PFNs (the host's resident pages counted with mincore), and
// deflate. No KVM needed.
#include <gtest/gtest.h>
#include <cstring>
#include <vector>

#include "ringscope/devices/virtio_balloon.h"
#include "ringscope/recording_sink.h"
#include "virtio_fake_guest.h"

namespace ringscope {
namespace {

constexpr uint64_t kPage = VirtioBalloon::kPageSize;
using test::bring_up;
using test::kUsed;
constexpr uint64_t kRam = test::kFakeRam;  // guest RAM: 256 pages
constexpr uint64_t kPfns = 0x4000;
constexpr uint64_t kFirst = 0x40, kCount = 32;  // the pages the tests inflate: PFNs 0x40..0x5f

struct Guest : test::FakeGuest {
  // One chain of one readable buffer holding these PFNs, made available.
  void offer(const std::vector<uint32_t>& pfns) {
    std::memcpy(ram + kPfns, pfns.data(), pfns.size() * 4);
    desc(0, kPfns, static_cast<uint32_t>(pfns.size() * 4), 0, 0);
    avail(0);
  }
};

using test::rd;
using test::wr;

std::vector<uint32_t> test_pfns() {
  std::vector<uint32_t> v;
  for (uint32_t i = 0; i < kCount; i++) v.push_back(static_cast<uint32_t>(kFirst + i));
  return v;
}

TEST(VirtioBalloon, OffersVersion1AndNothingElse) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kDeviceId), 5u);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kDeviceFeatures), 0u);  // no MUST_TELL_HOST, STATS_VQ, ...
  wr(b, g, VirtioMmioDevice::kDeviceFeaturesSel, 1);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kDeviceFeatures), 1u);  // VERSION_1
  // A driver that wants VIRTIO_BALLOON_F_MUST_TELL_HOST (bit 0) does not get FEATURES_OK.
  wr(b, g, VirtioMmioDevice::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver);
  wr(b, g, VirtioMmioDevice::kDriverFeaturesSel, 0);
  wr(b, g, VirtioMmioDevice::kDriverFeatures, 1);
  wr(b, g, VirtioMmioDevice::kDriverFeaturesSel, 1);
  wr(b, g, VirtioMmioDevice::kDriverFeatures, 1);
  wr(b, g, VirtioMmioDevice::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk);
  EXPECT_FALSE(rd(b, g, VirtioMmioDevice::kStatus) & kVirtioStatusFeaturesOk);
}

TEST(VirtioBalloon, InflateGivesThePagesBackToTheHost) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  bring_up(b, g, VirtioBalloon::kInflateQ, /*interrupts=*/false);
  for (uint64_t i = 0; i < kCount; i++) g.ram[(kFirst + i) * kPage] = 0x5a;  // the guest used them
  ASSERT_EQ(g.resident(kFirst * kPage, kCount * kPage), kCount);
  g.offer(test_pfns());
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kInflateQ);
  EXPECT_EQ(g.get<uint16_t>(kUsed + 2), 1);  // the chain came back
  EXPECT_EQ(b.pages_inflated(), kCount);
  EXPECT_EQ(b.pfns_refused(), 0u);
  EXPECT_EQ(g.resident(kFirst * kPage, kCount * kPage), 0u);  // the host has them back
  EXPECT_EQ(g.ram[kFirst * kPage], 0);                        // and the guest would read zeros
  EXPECT_EQ(g.count_device("inflateq"), 1u);
}

TEST(VirtioBalloon, PfnsOutsideGuestRamAreRefusedAndTouchNothing) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  bring_up(b, g, VirtioBalloon::kInflateQ, /*interrupts=*/false);
  g.ram[kRam] = 0x77;  // host memory just past guest RAM
  g.ram[kFirst * kPage] = 1;
  const uint32_t past = static_cast<uint32_t>(kRam / kPage);
  g.offer({past, 0xffffffffu, static_cast<uint32_t>(kFirst), past + 1});
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kInflateQ);
  EXPECT_EQ(b.pfns_refused(), 3u);
  EXPECT_EQ(b.pages_inflated(), 1u);  // the good one in the same chain still counts
  EXPECT_EQ(g.ram[kRam], 0x77);       // untouched, still resident
  EXPECT_EQ(g.resident(kRam, kPage), 1u);
  EXPECT_EQ(g.count_device("error: PFN outside guest RAM"), 3u);
  // Refusing PFNs is not a broken ring: the device goes on working.
  EXPECT_FALSE(rd(b, g, VirtioMmioDevice::kStatus) & kVirtioStatusNeedsReset);
}

TEST(VirtioBalloon, DeflateOnlyCounts) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  bring_up(b, g, VirtioBalloon::kDeflateQ, /*interrupts=*/false);
  g.ram[kFirst * kPage] = 9;
  g.offer(test_pfns());
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kDeflateQ);
  EXPECT_EQ(b.pages_deflated(), kCount);
  EXPECT_EQ(b.pages_inflated(), 0u);
  EXPECT_EQ(g.ram[kFirst * kPage], 9);  // deflate gives nothing away
}

TEST(VirtioBalloon, TargetInterruptsARunningDriverAndActualIsTheDrivers) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  int raised = 0;
  irq.connect([&](DeviceContext&, const IrqLine&) { raised++; });
  VirtioBalloon b(&irq);
  // Before DRIVER_OK: the driver reads the target when it starts, no interrupt.
  b.set_target(g.ctx, 100);
  EXPECT_EQ(raised, 0);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kConfig + VirtioBalloon::kConfigNumPages), 100u);
  uint32_t gen = rd(b, g, VirtioMmioDevice::kConfigGeneration);
  bring_up(b, g, VirtioBalloon::kInflateQ, /*interrupts=*/false);
  b.set_target(g.ctx, 200);
  EXPECT_EQ(raised, 1);
  EXPECT_TRUE(rd(b, g, VirtioMmioDevice::kInterruptStatus) & kVirtioIntConfigChange);
  EXPECT_NE(rd(b, g, VirtioMmioDevice::kConfigGeneration), gen);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kConfig), 200u);
  // actual is the driver's; num_pages is not.
  wr(b, g, VirtioMmioDevice::kConfig + VirtioBalloon::kConfigActual, 150);
  EXPECT_EQ(b.actual_pages(), 150u);
  EXPECT_EQ(rd(b, g, VirtioMmioDevice::kConfig + VirtioBalloon::kConfigActual), 150u);
  wr(b, g, VirtioMmioDevice::kConfig + VirtioBalloon::kConfigNumPages, 7);
  EXPECT_EQ(b.target_pages(), 200u);
  EXPECT_GE(g.count_device("error: config write outside 'actual'"), 1u);
  // A reset forgets what the driver held.
  wr(b, g, VirtioMmioDevice::kStatus, 0);
  EXPECT_EQ(b.actual_pages(), 0u);
}

}  // namespace
}  // namespace ringscope
