// virtio_blk.cpp — virtio-blk requests against a host disk image (5.2.6).
//
// Data moves straight between the guest buffers the descriptors name and
// the image file, a sector at a time through a small bounce buffer: the
// buffers were checked against guest RAM when the chain was popped, and
// every sector range is checked against the image before it is touched.
#include "ringscope/devices/virtio_blk.h"

#include <algorithm>
#include <cstring>

namespace ringscope {

namespace {
struct ReqHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(ReqHeader) == 16);
constexpr char kDiskId[20] = "ringscope-virtio-bk";  // GET_ID: 20 bytes, NUL-padded
}  // namespace

std::vector<uint8_t> VirtioBlk::config_space() const {
  // struct virtio_blk_config: le64 capacity @0; le32 size_max @8; le32 seg_max @12;
  // geometry @16 (4 bytes); le32 blk_size @20.
  std::vector<uint8_t> c(24, 0);
  uint64_t capacity = image_ ? image_->sectors() : 0;
  uint32_t seg_max = kSegMax, blk_size = kSectorSize;
  std::memcpy(&c[0], &capacity, 8);
  std::memcpy(&c[12], &seg_max, 4);
  std::memcpy(&c[20], &blk_size, 4);
  return c;
}

uint32_t VirtioBlk::on_notify(DeviceContext& ctx, uint16_t q) {
  Virtqueue& vq = queue(q);
  uint32_t chains = 0;
  VirtqChain c;
  // A run limit (the watchdog's stop) ends the drain between requests; the
  // ones not taken stay in the ring.
  while (!ctx.out_of_budget()) {
    VirtqError err = vq.pop(*ctx.memory, c);
    if (err == VirtqError::Empty) break;
    if (err != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(err), q);
      break;
    }
    uint32_t written = 0;
    uint8_t status = execute(ctx, c, &written);
    // The status byte is the chain's last writable byte.
    if (c.writable_bytes >= 1) {
      virtq_write(*ctx.memory, c, c.writable_bytes - 1, &status, 1);
      written += 1;
    }
    if (vq.push_used(*ctx.memory, c.head, written) != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(VirtqError::UsedOutsideRam), q);
      break;
    }
    chains++;
  }
  if (chains) used_buffer_notify(ctx, q);
  return chains;
}

uint8_t VirtioBlk::fail(DeviceContext& ctx, std::string_view what, uint64_t value, uint8_t status) {
  trace(ctx, what, Direction::None, value, 0);
  return status;
}

uint8_t VirtioBlk::execute(DeviceContext& ctx, const VirtqChain& c, uint32_t* written) {
  requests_++;
  *written = 0;
  if (c.writable_bytes < 1) return fail(ctx, "error: request without a status byte", c.head, kStatusIoErr);
  ReqHeader h;
  if (virtq_read(*ctx.memory, c, 0, &h, sizeof h) != sizeof h)
    return fail(ctx, "error: request header shorter than 16 bytes", c.readable_bytes, kStatusIoErr);
  if (!image_) return fail(ctx, "error: no disk image attached", 0, kStatusIoErr);

  uint8_t sector_buf[kSectorSize];
  switch (h.type) {
    case kTypeIn: {
      uint64_t data = c.writable_bytes - 1;
      if (data % kSectorSize) return fail(ctx, "error: read length not a multiple of 512", data, kStatusIoErr);
      uint64_t n = data / kSectorSize;
      if (!image_->in_range(h.sector, n))
        return fail(ctx, "error: read beyond the end of the image", h.sector, kStatusIoErr);
      for (uint64_t i = 0; i < n; i++) {
        if (!image_->read(h.sector + i, sector_buf, 1))
          return fail(ctx, "error: host read failed", h.sector + i, kStatusIoErr);
        virtq_write(*ctx.memory, c, i * kSectorSize, sector_buf, kSectorSize);
      }
      *written = static_cast<uint32_t>(data);
      trace(ctx, "read", Direction::Read, h.sector, 0, static_cast<uint32_t>(n));
      return kStatusOk;
    }
    case kTypeOut: {
      uint64_t data = c.readable_bytes - sizeof h;
      if (data % kSectorSize) return fail(ctx, "error: write length not a multiple of 512", data, kStatusIoErr);
      uint64_t n = data / kSectorSize;
      if (!image_->in_range(h.sector, n))
        return fail(ctx, "error: write beyond the end of the image", h.sector, kStatusIoErr);
      if (image_->read_only()) return fail(ctx, "error: write to a read-only disk image", h.sector, kStatusIoErr);
      for (uint64_t i = 0; i < n; i++) {
        virtq_read(*ctx.memory, c, sizeof h + i * kSectorSize, sector_buf, kSectorSize);
        if (!image_->write(h.sector + i, sector_buf, 1))
          return fail(ctx, "error: host write failed", h.sector + i, kStatusIoErr);
      }
      trace(ctx, "write", Direction::Write, h.sector, 0, static_cast<uint32_t>(n));
      return kStatusOk;
    }
    case kTypeFlush:
      if (!image_->flush()) return fail(ctx, "error: host flush failed", 0, kStatusIoErr);
      trace(ctx, "flush", Direction::Write, 0, 0);
      return kStatusOk;
    case kTypeGetId: {
      uint64_t n = std::min<uint64_t>(sizeof kDiskId, c.writable_bytes - 1);
      *written = static_cast<uint32_t>(virtq_write(*ctx.memory, c, 0, kDiskId, n));
      trace(ctx, "get-id", Direction::Read, 0, 0);
      return kStatusOk;
    }
    default: return fail(ctx, "error: unsupported request type", h.type, kStatusUnsupp);
  }
}

}  // namespace ringscope
