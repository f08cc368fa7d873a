// virtio_balloon.cpp — inflate and deflate queues of PFNs (virtio 1.2, 5.5.6).
//
// Reads like the other virtio devices: config space, one notify handler
// draining a queue chain by chain, then what one page frame number does.
// Each chain's readable bytes are an array of le32 PFNs; nothing is written
// back (used length 0). A PFN outside guest RAM is refused one by one: the
// rest of the chain still counts, so one bad entry cannot make the guest
// lose track of the good ones (QEMU does the same: it reports and skips).
#include "ringscope/devices/virtio_balloon.h"

#include <sys/mman.h>

#include <array>
#include <cstring>

namespace ringscope {

bool release_host_pages(uint8_t* host, uint64_t len) {
  if (reinterpret_cast<uintptr_t>(host) % VirtioBalloon::kPageSize || len % VirtioBalloon::kPageSize) {
    std::memset(host, 0, len);  // not a whole page of the mapping: all we can do is what the guest would see
    return true;
  }
  return madvise(host, len, MADV_DONTNEED) == 0;
}

std::vector<uint8_t> VirtioBalloon::config_space() const {
  std::vector<uint8_t> c(8, 0);
  uint32_t num = num_pages_.load(std::memory_order_relaxed), actual = actual_.load(std::memory_order_relaxed);
  std::memcpy(&c[kConfigNumPages], &num, 4);
  std::memcpy(&c[kConfigActual], &actual, 4);
  return c;
}

// Only `actual` is the driver's to write; any width, byte by byte, so a
// driver that writes it in pieces ends up with the same value.
void VirtioBalloon::config_write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  uint32_t actual = actual_.load(std::memory_order_relaxed);
  bool touched = false;
  for (uint8_t i = 0; i < width && i < 8; i++) {
    uint64_t at = offset + i;
    if (at < kConfigActual || at >= kConfigActual + 4) continue;
    uint32_t shift = 8 * static_cast<uint32_t>(at - kConfigActual);
    actual = (actual & ~(0xffu << shift)) | (uint32_t((value >> (8 * i)) & 0xff) << shift);
    touched = true;
  }
  if (!touched) {
    trace(ctx, "error: config write outside 'actual' (num_pages is the device's)", Direction::Write, offset, width);
    return;
  }
  actual_.store(actual, std::memory_order_relaxed);
  trace(ctx, "actual", Direction::Write, actual, 4);
}

void VirtioBalloon::set_target(DeviceContext& ctx, uint32_t pages) {
  num_pages_.store(pages, std::memory_order_relaxed);
  trace(ctx, "num_pages", Direction::Write, pages, 4);
  config_changed(ctx);
}

uint32_t VirtioBalloon::on_notify(DeviceContext& ctx, uint16_t q) {
  Virtqueue& vq = queue(q);
  uint32_t chains = 0;
  VirtqChain c;
  std::array<uint32_t, 256> pfns{};
  while (!ctx.out_of_budget()) {
    VirtqError err = vq.pop(*ctx.memory, c);
    if (err == VirtqError::Empty) break;
    if (err != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(err), q);
      break;
    }
    uint64_t count = c.readable_bytes / 4, taken = 0;
    for (uint64_t at = 0; at < count; at += pfns.size()) {
      uint64_t n = std::min<uint64_t>(pfns.size(), count - at);
      virtq_read(*ctx.memory, c, at * 4, pfns.data(), n * 4);
      for (uint64_t i = 0; i < n; i++) taken += take_pfn(ctx, q, pfns[i]);
    }
    trace(ctx, q == kInflateQ ? "inflateq" : "deflateq", Direction::Write, taken, 4, static_cast<uint32_t>(count));
    if (VirtqError e = vq.push_used(*ctx.memory, c.head, 0); e != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(e), q);
      break;
    }
    chains++;
  }
  if (chains) used_buffer_notify(ctx, q);
  return chains;
}

bool VirtioBalloon::take_pfn(DeviceContext& ctx, uint16_t q, uint32_t pfn) {
  uint64_t gpa = uint64_t(pfn) * kPageSize;  // a 32-bit PFN: at most 2^44, no overflow
  std::span<uint8_t> page = ctx.memory->slice(gpa, kPageSize);
  if (page.empty()) {
    refused_++;
    trace(ctx, "error: PFN outside guest RAM", Direction::Write, pfn, 4);
    return false;
  }
  if (q == kInflateQ) {
    release_host_pages(page.data(), kPageSize);
    inflated_++;
  } else {
    deflated_++;  // nothing to do: the guest's next touch faults the page in again
  }
  return true;
}

}  // namespace ringscope
