// test_virtio_balloon.cpp — virtio-balloon (virtio 1.2, 5.5) fed with
// made-up rings: feature negotiation, the config fields, inflate with good
// and hostile PFNs (the host's resident pages counted with mincore), and
// deflate. No KVM needed.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "ringscope/devices/virtio_balloon.h"
#include "ringscope/recording_sink.h"

namespace ringscope {
namespace {

constexpr uint64_t kPage = VirtioBalloon::kPageSize;
constexpr uint64_t kRam = 1 << 20;  // guest RAM: 256 pages
constexpr uint16_t kQ = 16;
constexpr uint64_t kDesc = 0x1000, kAvail = 0x2000, kUsed = 0x3000, kPfns = 0x4000;
constexpr uint64_t kFirst = 0x40, kCount = 32;  // the pages the tests inflate: PFNs 0x40..0x5f

// Guest RAM in a real private anonymous mapping, as the machine's (madvise
// needs one), with one more page of host memory right after it: a hostile
// PFN must never reach that page.
struct Guest {
  uint8_t* map = nullptr;
  GuestMemory mem;
  RecordingSink sink;
  DeviceContext ctx;
  Guest() {
    void* p = mmap(nullptr, kRam + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    map = static_cast<uint8_t*>(p);
    mem = GuestMemory(map, kRam);
    ctx.memory = &mem;
    ctx.sink = &sink;
  }
  ~Guest() { munmap(map, kRam + kPage); }
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;
  template <typename T>
  void put(uint64_t gpa, T v) {
    std::memcpy(map + gpa, &v, sizeof v);
  }
  template <typename T>
  T get(uint64_t gpa) const {
    T v;
    std::memcpy(&v, map + gpa, sizeof v);
    return v;
  }
  // Host pages of [gpa, gpa + len) that are resident now.
  uint64_t resident(uint64_t gpa, uint64_t len) const {
    std::vector<unsigned char> vec(len / kPage);
    EXPECT_EQ(mincore(map + gpa, len, vec.data()), 0);
    uint64_t n = 0;
    for (unsigned char v : vec) n += v & 1;
    return n;
  }
  // One chain of one readable buffer holding these PFNs, made available.
  void offer(const std::vector<uint32_t>& pfns) {
    std::memcpy(map + kPfns, pfns.data(), pfns.size() * 4);
    put<uint64_t>(kDesc, kPfns);
    put<uint32_t>(kDesc + 8, static_cast<uint32_t>(pfns.size() * 4));
    put<uint16_t>(kDesc + 12, 0);
    uint16_t idx = get<uint16_t>(kAvail + 2);
    put<uint16_t>(kAvail + 4 + 2 * (idx % kQ), 0);
    put<uint16_t>(kAvail + 2, idx + 1);
  }
  size_t count_device(std::string_view reg_prefix) const {
    size_t n = 0;
    for (const auto& e : sink.events())
      if (e.kind == EventKind::Device && e.reg.starts_with(reg_prefix)) n++;
    return n;
  }
};

void wr(VirtioMmioDevice& d, Guest& g, uint64_t off, uint32_t v) { d.write(g.ctx, off, 4, v); }
uint32_t rd(VirtioMmioDevice& d, Guest& g, uint64_t off) { return static_cast<uint32_t>(d.read(g.ctx, off, 4)); }

// The driver's bring-up (3.1.1) with queue q at the test's rings, polled.
void bring_up(VirtioBalloon& d, Guest& g, uint16_t q) {
  using R = VirtioMmioDevice;
  wr(d, g, R::kStatus, 0);
  wr(d, g, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver);
  wr(d, g, R::kDriverFeaturesSel, 1);
  wr(d, g, R::kDriverFeatures, 1);  // VERSION_1
  wr(d, g, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk);
  ASSERT_TRUE(rd(d, g, R::kStatus) & kVirtioStatusFeaturesOk);
  wr(d, g, R::kQueueSel, q);
  wr(d, g, R::kQueueNum, kQ);
  wr(d, g, R::kQueueDescLow, kDesc);
  wr(d, g, R::kQueueDriverLow, kAvail);
  wr(d, g, R::kQueueDeviceLow, kUsed);
  wr(d, g, R::kQueueReady, 1);
  ASSERT_EQ(rd(d, g, R::kQueueReady), 1u);
  wr(d, g, R::kStatus, rd(d, g, R::kStatus) | kVirtioStatusDriverOk);
  g.put<uint16_t>(kAvail, kVirtqAvailNoInterrupt);
}

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
  bring_up(b, g, VirtioBalloon::kInflateQ);
  for (uint64_t i = 0; i < kCount; i++) g.map[(kFirst + i) * kPage] = 0x5a;  // the guest used them
  ASSERT_EQ(g.resident(kFirst * kPage, kCount * kPage), kCount);
  g.offer(test_pfns());
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kInflateQ);
  EXPECT_EQ(g.get<uint16_t>(kUsed + 2), 1);  // the chain came back
  EXPECT_EQ(b.pages_inflated(), kCount);
  EXPECT_EQ(b.pfns_refused(), 0u);
  EXPECT_EQ(g.resident(kFirst * kPage, kCount * kPage), 0u);  // the host has them back
  EXPECT_EQ(g.map[kFirst * kPage], 0);                        // and the guest would read zeros
  EXPECT_EQ(g.count_device("inflateq"), 1u);
}

TEST(VirtioBalloon, PfnsOutsideGuestRamAreRefusedAndTouchNothing) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  bring_up(b, g, VirtioBalloon::kInflateQ);
  g.map[kRam] = 0x77;  // host memory just past guest RAM
  g.map[kFirst * kPage] = 1;
  const uint32_t past = static_cast<uint32_t>(kRam / kPage);
  g.offer({past, 0xffffffffu, static_cast<uint32_t>(kFirst), past + 1});
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kInflateQ);
  EXPECT_EQ(b.pfns_refused(), 3u);
  EXPECT_EQ(b.pages_inflated(), 1u);  // the good one in the same chain still counts
  EXPECT_EQ(g.map[kRam], 0x77);       // untouched, still resident
  EXPECT_EQ(g.resident(kRam, kPage), 1u);
  EXPECT_EQ(g.count_device("error: PFN outside guest RAM"), 3u);
  // Refusing PFNs is not a broken ring: the device goes on working.
  EXPECT_FALSE(rd(b, g, VirtioMmioDevice::kStatus) & kVirtioStatusNeedsReset);
}

TEST(VirtioBalloon, DeflateOnlyCounts) {
  Guest g;
  IrqLine irq(kVirtioIrqBase + 2, "virtio-balloon");
  VirtioBalloon b(&irq);
  bring_up(b, g, VirtioBalloon::kDeflateQ);
  g.map[kFirst * kPage] = 9;
  g.offer(test_pfns());
  wr(b, g, VirtioMmioDevice::kQueueNotify, VirtioBalloon::kDeflateQ);
  EXPECT_EQ(b.pages_deflated(), kCount);
  EXPECT_EQ(b.pages_inflated(), 0u);
  EXPECT_EQ(g.map[kFirst * kPage], 9);  // deflate gives nothing away
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
  bring_up(b, g, VirtioBalloon::kInflateQ);
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
