// virtio_fake_guest.h — what the virtio device tests share: a fake guest
// RAM with made-up rings at fixed addresses, and the driver's side of the
// virtio-mmio transport (the register writes of virtio 1.2, 3.1.1). No KVM.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <string_view>

#include "ringscope/devices/virtio_mmio.h"
#include "ringscope/devices/virtio_queue.h"
#include "ringscope/recording_sink.h"

namespace ringscope::test {

constexpr uint64_t kFakeRam = 1 << 20;  // 256 pages
constexpr uint64_t kFakePage = 4096;
constexpr uint16_t kQ = 16;  // every test queue's size
constexpr uint64_t kDesc = 0x1000, kAvail = 0x2000, kUsed = 0x3000;

// Guest RAM in a private anonymous mapping, as the machine's (the balloon's
// madvise needs one), with one more page of host memory right after it: a
// hostile address must never reach that page.
struct FakeGuest {
  uint8_t* ram = nullptr;
  GuestMemory mem;
  RecordingSink sink;
  DeviceContext ctx;

  FakeGuest() {
    void* p = mmap(nullptr, kFakeRam + kFakePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    ram = static_cast<uint8_t*>(p);
    mem = GuestMemory(ram, kFakeRam);
    ctx.memory = &mem;
    ctx.sink = &sink;
  }
  ~FakeGuest() { munmap(ram, kFakeRam + kFakePage); }
  FakeGuest(const FakeGuest&) = delete;
  FakeGuest& operator=(const FakeGuest&) = delete;

  template <typename T>
  void put(uint64_t gpa, T v) {
    std::memcpy(ram + gpa, &v, sizeof v);
  }
  template <typename T>
  T get(uint64_t gpa) const {
    T v;
    std::memcpy(&v, ram + gpa, sizeof v);
    return v;
  }
  // Descriptor i of the test queue's table.
  void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    put<uint64_t>(kDesc + 16 * i, addr);
    put<uint32_t>(kDesc + 16 * i + 8, len);
    put<uint16_t>(kDesc + 16 * i + 12, flags);
    put<uint16_t>(kDesc + 16 * i + 14, next);
  }
  // Publishes head as the next available entry.
  void avail(uint16_t head) {
    auto idx = get<uint16_t>(kAvail + 2);
    put<uint16_t>(kAvail + 4 + 2 * (idx % kQ), head);
    put<uint16_t>(kAvail + 2, static_cast<uint16_t>(idx + 1));
  }
  uint16_t used_idx() const { return get<uint16_t>(kUsed + 2); }
  // The device events whose register name starts with reg_prefix.
  size_t count_device(std::string_view reg_prefix) const {
    size_t n = 0;
    for (const auto& e : sink.events())
      if (e.kind == EventKind::Device && e.reg.starts_with(reg_prefix)) n++;
    return n;
  }
  // Host pages of [gpa, gpa + len) that are resident now.
  uint64_t resident(uint64_t gpa, uint64_t len) const {
    std::vector<unsigned char> vec(len / kFakePage);
    EXPECT_EQ(mincore(ram + gpa, len, vec.data()), 0);
    uint64_t n = 0;
    for (unsigned char v : vec) n += v & 1;
    return n;
  }
};

inline void wr(VirtioMmioDevice& d, FakeGuest& g, uint64_t off, uint32_t v) { d.write(g.ctx, off, 4, v); }
inline uint32_t rd(VirtioMmioDevice& d, FakeGuest& g, uint64_t off) {
  return static_cast<uint32_t>(d.read(g.ctx, off, 4));
}

// The driver's bring-up (3.1.1) for queue q at the test's ring addresses;
// with interrupts false the driver polls (VIRTQ_AVAIL_F_NO_INTERRUPT).
inline void bring_up(VirtioMmioDevice& d, FakeGuest& g, uint16_t q, bool interrupts = true) {
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
  g.put<uint16_t>(kAvail, interrupts ? 0 : kVirtqAvailNoInterrupt);
}

}  // namespace ringscope::test
