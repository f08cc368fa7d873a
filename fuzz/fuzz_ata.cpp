// fuzz_ata.cpp — the legacy ATA PIO disk, fed a sequence of port accesses.
//
// Each step of the input is one access a guest could make, in any order:
// task-file writes that describe sectors past the image, commands in the
// middle of a transfer, data-port reads with nothing to read, odd widths.
// The disk must keep its buffer position inside the sector and every
// sector range inside the image. A step is one byte, then the value:
//
//   bit 7     the control block (0x3f6: alternate status / device control)
//   bit 6     repeat 256 times (a sector's worth of 16-bit data-port words)
//   bit 5     write (else read)
//   bits 4-3  width: 1, 2, 4, or 1
//   bits 2-0  task-file register (offset from 0x1f0)
//   then      for a write, `width` bytes of value (little-endian)
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_util.h"
#include "ringscope/devices/ata.h"

using namespace ringscope;
using namespace ringscope::fuzz;

namespace {
DiskImage* disk() {
  static std::unique_ptr<DiskImage> image = [] {
    auto r = DiskImage::scratch(32 * kSectorSize);
    if (!r.ok()) abort();
    return std::move(r).value();
  }();
  return image.get();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr uint8_t kWidths[4] = {1, 2, 4, 1};
  TouchingSink sink;
  DeviceContext ctx;
  ctx.sink = &sink;
  AtaDisk ata(disk());
  Bytes in(data, size);
  for (int steps = 0; !in.empty() && steps < 4096; steps++) {
    uint8_t op = in.take<uint8_t>();
    uint8_t width = kWidths[(op >> 3) & 3];
    bool write = op & 0x20;
    uint64_t value = 0;
    if (write) {
      for (uint8_t i = 0; i < width; i++) value |= uint64_t(in.take<uint8_t>()) << (8 * i);
    }
    Device& dev = (op & 0x80) ? static_cast<Device&>(ata.control()) : ata;
    uint64_t reg = (op & 0x80) ? 0 : (op & 7);
    for (int n = (op & 0x40) ? 256 : 1; n > 0; n--) {
      if (write)
        dev.write(ctx, reg, width, value);
      else
        (void)dev.read(ctx, reg, width);
    }
    (void)dev.register_name(reg, write ? Direction::Out : Direction::In);
  }
  return 0;
}
