// test_virtio.cpp — the split virtqueue, the virtio-mmio transport,
// virtio-console and virtio-blk, fed with made-up rings in a fake guest
// RAM, hostile ones included. No KVM needed.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/devices/virtio_blk.h"
#include "ringscope/devices/virtio_console.h"
#include "ringscope/devices/virtio_queue.h"
#include "ringscope/recording_sink.h"
#include "virtio_fake_guest.h"

namespace ringscope {
namespace {

using test::bring_up;
using test::kAvail;
using test::kDesc;
using test::kQ;
using test::kUsed;
using Guest = test::FakeGuest;
constexpr uint64_t kRam = test::kFakeRam;
constexpr uint64_t kData = 0x10000;

// ---- the virtqueue alone ----------------------------------------------------

TEST(Virtqueue, PopsAChainAndPushesUsed) {
  Guest g;
  Virtqueue q;
  ASSERT_EQ(q.enable(g.mem, kQ, kDesc, kAvail, kUsed), VirtqError::None);
  g.desc(0, kData, 100, kVirtqDescNext, 1);
  g.desc(1, kData + 100, 50, kVirtqDescWrite, 0);
  g.avail(0);
  VirtqChain c;
  ASSERT_EQ(q.pop(g.mem, c), VirtqError::None);
  EXPECT_EQ(c.head, 0);
  ASSERT_EQ(c.buffers.size(), 2u);
  EXPECT_EQ(c.readable_bytes, 100u);
  EXPECT_EQ(c.writable_bytes, 50u);
  EXPECT_EQ(q.pop(g.mem, c), VirtqError::Empty);
  ASSERT_EQ(q.push_used(g.mem, 0, 50), VirtqError::None);
  EXPECT_EQ(g.used_idx(), 1);
  EXPECT_EQ(g.get<uint32_t>(kUsed + 4), 0u);
  EXPECT_EQ(g.get<uint32_t>(kUsed + 8), 50u);
}

TEST(Virtqueue, RefusesRingsOutsideRamOrMisaligned) {
  Guest g;
  Virtqueue q;
  EXPECT_EQ(q.enable(g.mem, kQ, kRam - 8, kAvail, kUsed), VirtqError::RingOutsideRam);
  EXPECT_EQ(q.enable(g.mem, kQ, kDesc + 8, kAvail, kUsed), VirtqError::RingOutsideRam);
  EXPECT_EQ(q.enable(g.mem, 12, kDesc, kAvail, kUsed), VirtqError::RingOutsideRam);  // not a power of two
  EXPECT_EQ(q.enable(g.mem, kQ, kDesc, kAvail, ~0ull - 4), VirtqError::RingOutsideRam);
  EXPECT_FALSE(q.ready());
}

TEST(Virtqueue, RejectsHostileChains) {
  struct Case {
    const char* what;
    void (*build)(Guest&);
    VirtqError want;
  } cases[] = {
      {"buffer outside RAM", [](Guest& g) { g.desc(0, kRam - 10, 100, 0, 0); }, VirtqError::BufferOutsideRam},
      {"address wraps", [](Guest& g) { g.desc(0, ~0ull - 10, 100, 0, 0); }, VirtqError::BufferOutsideRam},
      {"loop",
       [](Guest& g) {
         g.desc(0, kData, 1, kVirtqDescNext, 1);
         g.desc(1, kData, 1, kVirtqDescNext, 0);
       },
       VirtqError::ChainTooLong},
      {"self loop", [](Guest& g) { g.desc(0, kData, 1, kVirtqDescNext, 0); }, VirtqError::ChainTooLong},
      {"next out of range", [](Guest& g) { g.desc(0, kData, 1, kVirtqDescNext, 999); }, VirtqError::NextOutOfRange},
      {"indirect", [](Guest& g) { g.desc(0, kData, 16, kVirtqDescIndirect, 0); }, VirtqError::Indirect},
      {"readable after writable",
       [](Guest& g) {
         g.desc(0, kData, 1, kVirtqDescWrite | kVirtqDescNext, 1);
         g.desc(1, kData, 1, 0, 0);
       },
       VirtqError::WritableFirst},
      {"oversized chain",
       [](Guest& g) {
         // Five 900 KiB buffers (all inside RAM, overlapping): 4.5 MiB in one chain.
         for (uint16_t i = 0; i < 5; i++) g.desc(i, 0, 900 * 1024, i < 4 ? kVirtqDescNext : 0, i + 1);
       },
       VirtqError::ChainTooBig},
  };
  for (const auto& tc : cases) {
    Guest g;
    Virtqueue q;
    ASSERT_EQ(q.enable(g.mem, kQ, kDesc, kAvail, kUsed), VirtqError::None);
    tc.build(g);
    g.avail(0);
    VirtqChain c;
    EXPECT_EQ(q.pop(g.mem, c), tc.want) << tc.what;
  }
}

TEST(Virtqueue, RejectsBadIndices) {
  Guest g;
  Virtqueue q;
  ASSERT_EQ(q.enable(g.mem, kQ, kDesc, kAvail, kUsed), VirtqError::None);
  g.put<uint16_t>(kAvail + 4, 200);  // head beyond the queue
  g.put<uint16_t>(kAvail + 2, 1);
  VirtqChain c;
  EXPECT_EQ(q.pop(g.mem, c), VirtqError::HeadOutOfRange);
  g.put<uint16_t>(kAvail + 2, 1000);  // avail.idx far ahead of anything we consumed
  EXPECT_EQ(q.pop(g.mem, c), VirtqError::AvailIdxTooFar);
}

// ---- the transport and the devices --------------------------------------------

using test::rd;
using test::wr;

TEST(VirtioMmio, IdentifiesItselfAsVersion2) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kMagic), kVirtioMmioMagic);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kVersion), 2u);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kDeviceId), 3u);
  wr(con, g, VirtioMmioDevice::kDeviceFeaturesSel, 1);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kDeviceFeatures) & 1, 1u);  // VERSION_1
  // A byte access to a register is refused and reported.
  EXPECT_EQ(con.read(g.ctx, VirtioMmioDevice::kMagic, 1), 0u);
  EXPECT_GE(g.count_device("error: register access"), 1u);
}

TEST(VirtioMmio, RefusesFeaturesNotOffered) {
  Guest g;
  VirtioConsole con(nullptr);
  using R = VirtioMmioDevice;
  wr(con, g, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver);
  wr(con, g, R::kDriverFeaturesSel, 0);
  wr(con, g, R::kDriverFeatures, 1u << 30);  // not offered, and no VERSION_1
  wr(con, g, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk);
  EXPECT_FALSE(rd(con, g, R::kStatus) & kVirtioStatusFeaturesOk);
}

TEST(VirtioConsole, OneNotifyCarriesManyBuffersWithoutInterruptWhenSuppressed) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  bring_up(con, g, VirtioConsole::kTransmitQ, /*interrupts=*/false);
  const char* parts[] = {"hello ", "virtio ", "world\n"};
  uint64_t at = kData;
  for (uint16_t i = 0; i < 3; i++) {
    std::memcpy(&g.ram[at], parts[i], strlen(parts[i]));
    g.desc(i, at, static_cast<uint32_t>(strlen(parts[i])), 0, 0);
    g.avail(i);
    at += 64;
  }
  wr(con, g, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  EXPECT_EQ(con.transmitted(), "hello virtio world\n");
  EXPECT_EQ(g.used_idx(), 3);
  EXPECT_EQ(irq.raised(), 0u) << "VIRTQ_AVAIL_F_NO_INTERRUPT must be honoured";
  EXPECT_EQ(con.notifies(), 1u);
  // The notify event says how many chains it carried.
  bool found = false;
  for (const auto& e : g.sink.events())
    if (e.kind == EventKind::Device && e.reg == "QueueNotify") found = e.count == 3;
  EXPECT_TRUE(found);
}

TEST(VirtioConsole, InterruptsWhenNotSuppressedAndAckClears) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  bring_up(con, g, VirtioConsole::kTransmitQ, /*interrupts=*/true);
  std::memcpy(&g.ram[kData], "x", 1);
  g.desc(0, kData, 1, 0, 0);
  g.avail(0);
  wr(con, g, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  EXPECT_EQ(irq.raised(), 1u);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kInterruptStatus), kVirtioIntUsedBuffer);
  wr(con, g, VirtioMmioDevice::kInterruptAck, kVirtioIntUsedBuffer);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kInterruptStatus), 0u);
}

TEST(VirtioConsole, InputFillsPostedReceiveBuffers) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  bring_up(con, g, VirtioConsole::kReceiveQ);
  g.desc(0, kData, 4, kVirtqDescWrite, 0);
  g.avail(0);
  wr(con, g, VirtioMmioDevice::kQueueNotify, VirtioConsole::kReceiveQ);
  con.push_input(g.ctx, "typed");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&g.ram[kData]), 4), "type");
  EXPECT_EQ(g.get<uint32_t>(kUsed + 8), 4u);
  EXPECT_EQ(con.input_pending(), 1u);  // "d" waits for the next buffer
  EXPECT_GT(irq.raised(), 0u);
}

TEST(VirtioConsole, HostileChainSetsNeedsResetAndDoesNotHang) {
  Guest g;
  IrqLine irq(kVirtioIrqBase, "virtio-console");
  VirtioConsole con(&irq);
  bring_up(con, g, VirtioConsole::kTransmitQ, false);
  g.desc(0, kData, 1, kVirtqDescNext, 0);  // a loop
  g.avail(0);
  wr(con, g, VirtioMmioDevice::kQueueNotify, VirtioConsole::kTransmitQ);
  EXPECT_TRUE(con.status() & kVirtioStatusNeedsReset);
  EXPECT_EQ(rd(con, g, VirtioMmioDevice::kInterruptStatus) & kVirtioIntConfigChange, kVirtioIntConfigChange);
  EXPECT_GE(g.count_device("error: descriptor chain longer"), 1u);
  // Notifying an unknown queue, or a queue set up outside RAM, is reported too.
  wr(con, g, VirtioMmioDevice::kQueueNotify, 7);
  EXPECT_GE(g.count_device("error: QueueNotify names"), 1u);
  // A reset makes the device usable again.
  wr(con, g, VirtioMmioDevice::kStatus, 0);
  EXPECT_EQ(con.status(), 0u);
}

TEST(VirtioMmio, QueueOutsideRamNeedsReset) {
  Guest g;
  VirtioConsole con(nullptr);
  using R = VirtioMmioDevice;
  wr(con, g, R::kQueueSel, 1);
  wr(con, g, R::kQueueDescLow, 0);
  wr(con, g, R::kQueueDescHigh, 0x1000);  // 16 TiB: far outside
  wr(con, g, R::kQueueReady, 1);
  EXPECT_EQ(rd(con, g, R::kQueueReady), 0u);
  EXPECT_TRUE(con.status() & kVirtioStatusNeedsReset);
}

// ---- virtio-blk --------------------------------------------------------------

struct BlkFixture : ::testing::Test {
  Guest g;
  IrqLine irq{kVirtioIrqBase + 1, "virtio-blk"};
  std::unique_ptr<DiskImage> image = DiskImage::scratch(64 * kSectorSize).value();
  VirtioBlk blk{&irq, image.get()};
  void SetUp() override { bring_up(blk, g, 0); }
  // header @kData, data @kData+0x100 (n bytes), status @kData+0x80
  uint8_t request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable) {
    g.put<uint32_t>(kData, type);
    g.put<uint32_t>(kData + 4, 0);
    g.put<uint64_t>(kData + 8, sector);
    g.ram[kData + 0x80] = 0xee;
    g.desc(0, kData, 16, kVirtqDescNext, 1);
    g.desc(1, kData + 0x100, data_len, kVirtqDescNext | (data_writable ? kVirtqDescWrite : 0), 2);
    g.desc(2, kData + 0x80, 1, kVirtqDescWrite, 0);
    g.avail(0);
    wr(blk, g, VirtioMmioDevice::kQueueNotify, 0);
    return g.ram[kData + 0x80];
  }
};

TEST_F(BlkFixture, WritesReachTheImageFileAndReadBack) {
  for (int i = 0; i < 1024; i++) g.ram[kData + 0x100 + i] = static_cast<uint8_t>(i * 7);
  EXPECT_EQ(request(VirtioBlk::kTypeOut, 5, 1024, false), VirtioBlk::kStatusOk);
  uint8_t sector[512];
  ASSERT_TRUE(image->read(6, sector, 1));
  EXPECT_EQ(sector[1], static_cast<uint8_t>((512 + 1) * 7));
  std::memset(&g.ram[kData + 0x100], 0, 1024);
  EXPECT_EQ(request(VirtioBlk::kTypeIn, 5, 1024, true), VirtioBlk::kStatusOk);
  EXPECT_EQ(g.ram[kData + 0x100 + 513], static_cast<uint8_t>(513 * 7));
  EXPECT_GT(irq.raised(), 0u);
  EXPECT_EQ(request(VirtioBlk::kTypeFlush, 0, 0, false), VirtioBlk::kStatusOk);
}

TEST_F(BlkFixture, BeyondTheImageIsIoErr) {
  EXPECT_EQ(request(VirtioBlk::kTypeIn, 63, 1024, true), VirtioBlk::kStatusIoErr);      // last sector + one past
  EXPECT_EQ(request(VirtioBlk::kTypeOut, ~0ull, 512, false), VirtioBlk::kStatusIoErr);  // wraps
  EXPECT_EQ(request(VirtioBlk::kTypeIn, 0, 100, true), VirtioBlk::kStatusIoErr);        // not whole sectors
  EXPECT_EQ(request(99, 0, 512, true), VirtioBlk::kStatusUnsupp);
  EXPECT_GE(g.count_device("error: read beyond"), 1u);
  EXPECT_GE(g.count_device("error: write beyond"), 1u);
  EXPECT_FALSE(blk.status() & kVirtioStatusNeedsReset);  // request errors do not break the device
}

TEST_F(BlkFixture, GetIdAndConfigCapacity) {
  EXPECT_EQ(request(VirtioBlk::kTypeGetId, 0, 20, true), VirtioBlk::kStatusOk);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&g.ram[kData + 0x100])), "ringscope-virtio-bk");
  EXPECT_EQ(blk.read(g.ctx, VirtioMmioDevice::kConfig, 8), 64u);  // capacity in sectors
}

}  // namespace
}  // namespace ringscope
