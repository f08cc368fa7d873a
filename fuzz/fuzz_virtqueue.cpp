// fuzz_virtqueue.cpp — virtio-blk and virtio-console driven through the
// virtio-mmio registers over a guest RAM image the input supplies.
//
// The driver is hostile: ring addresses anywhere, descriptor chains that
// loop, overlap, run off RAM or claim gigabytes, avail indices that jump.
// The device must answer with DEVICE_NEEDS_RESET or an error status, and
// never touch host memory outside the guest's RAM (ASan watches the RAM
// buffer's edges: it is allocated exactly its size). Layout of an input:
// virtqueue_input.h.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "ringscope/devices/virtio_blk.h"
#include "ringscope/devices/virtio_console.h"
#include "virtqueue_input.h"

using namespace ringscope;
using namespace ringscope::fuzz;

namespace {

DiskImage* disk() {
  static std::unique_ptr<DiskImage> image = [] {
    auto r = DiskImage::scratch(64 * kSectorSize);
    if (!r.ok()) abort();
    return std::move(r).value();
  }();
  return image.get();
}

void w32(VirtioMmioDevice& d, DeviceContext& ctx, uint32_t reg, uint64_t v) { d.write(ctx, reg, 4, v & 0xffffffff); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  VirtqueueInput h = in.take<VirtqueueInput>();
  std::vector<uint8_t> ram(kVirtqFuzzRam, 0);
  std::memcpy(ram.data(), in.rest(), std::min<size_t>(in.rest_size(), ram.size()));
  GuestMemory mem(ram.data(), ram.size());
  TouchingSink sink;
  DeviceContext ctx;
  ctx.memory = &mem;
  ctx.sink = &sink;
  IrqLine irq(kVirtioIrqBase, "fuzz");

  std::unique_ptr<VirtioMmioDevice> dev;
  VirtioConsole* console = nullptr;
  if (h.device & 1)
    dev = std::make_unique<VirtioConsole>(&irq), console = static_cast<VirtioConsole*>(dev.get());
  else
    dev = std::make_unique<VirtioBlk>(&irq, disk());
  using R = VirtioMmioDevice;

  // The driver's start-up sequence (virtio 1.2, 3.1.1), as the kernel does it.
  w32(*dev, ctx, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver);
  if (h.features_ok & 1) {
    w32(*dev, ctx, R::kDriverFeaturesSel, 1);
    w32(*dev, ctx, R::kDriverFeatures, (h.features_ok & 2) ? 0x80000001 : 1);  // VERSION_1 (bit 32)
    w32(*dev, ctx, R::kStatus, kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk);
  }
  uint16_t queues = console ? 2 : 1;
  for (uint16_t q = 0; q < queues; q++) {
    w32(*dev, ctx, R::kQueueSel, q);
    if (h.queue_log2 != 0xff) w32(*dev, ctx, R::kQueueNum, 1u << (h.queue_log2 % 8));
    // Queue q's rings follow queue 0's by a fixed stride, so one input sets both.
    uint64_t shift = uint64_t(q) * kVirtqFuzzQueueStride;
    w32(*dev, ctx, R::kQueueDescLow, h.desc + shift);
    w32(*dev, ctx, R::kQueueDescHigh, (uint64_t(h.desc) + shift) >> 32);
    w32(*dev, ctx, R::kQueueDriverLow, h.avail + shift);
    w32(*dev, ctx, R::kQueueDeviceLow, h.used + shift);
    w32(*dev, ctx, R::kQueueReady, 1);
  }
  w32(*dev, ctx, R::kStatus,
      kVirtioStatusAcknowledge | kVirtioStatusDriver | kVirtioStatusFeaturesOk | kVirtioStatusDriverOk);

  for (int i = 0; i < 1 + h.notifies % 4; i++) {
    w32(*dev, ctx, R::kQueueNotify, h.notify_queue % 4);
    if (console && i == 0 && h.input_len) console->push_input(ctx, std::string(h.input_len % 4096, 'x'));
    (void)dev->read(ctx, R::kInterruptStatus, 4);
    w32(*dev, ctx, R::kInterruptAck, dev->interrupt_status());
  }
  // Every register read, including the config space, at every width.
  for (uint64_t off = 0; off < 0x120; off += 4) (void)dev->read(ctx, off, 4);
  (void)dev->read(ctx, R::kConfig + 3, 1);
  (void)dev->read(ctx, R::kConfig + 22, 8);
  if (console) console->finish(ctx);
  w32(*dev, ctx, R::kStatus, 0);  // reset
  return 0;
}
