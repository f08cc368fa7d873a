// virtio_queue.cpp — walking split virtqueues safely (virtio 1.2, 2.7).
//
// The driver owns the rings and may scribble anything into them at any
// time, so every value is read once, into a local, and checked before use.
// A broken ring is reported (VirtqError), never followed.
#include "ringscope/devices/virtio_queue.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace ringscope {

namespace {
struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Desc) == 16);

constexpr uint64_t desc_bytes(uint16_t n) { return 16ull * n; }
constexpr uint64_t avail_bytes(uint16_t n) { return 6ull + 2ull * n; }  // flags, idx, ring[n], used_event
constexpr uint64_t used_bytes(uint16_t n) { return 6ull + 8ull * n; }   // flags, idx, ring[n], avail_event
}  // namespace

std::string_view virtq_error_text(VirtqError e) {
  switch (e) {
    case VirtqError::None: return "ok";
    case VirtqError::Empty: return "queue empty";
    case VirtqError::NotReady: return "error: notify on a queue that is not ready";
    case VirtqError::RingOutsideRam: return "error: ring area outside guest RAM or misaligned";
    case VirtqError::AvailIdxTooFar: return "error: avail.idx more than queue size ahead";
    case VirtqError::HeadOutOfRange: return "error: avail ring names a descriptor beyond the queue";
    case VirtqError::NextOutOfRange: return "error: descriptor next beyond the queue";
    case VirtqError::ChainTooLong: return "error: descriptor chain longer than the queue (a loop)";
    case VirtqError::BufferOutsideRam: return "error: descriptor buffer outside guest RAM";
    case VirtqError::ChainTooBig: return "error: descriptor chain larger than 4 MiB";
    case VirtqError::Indirect: return "error: indirect descriptor not negotiated";
    case VirtqError::WritableFirst: return "error: readable descriptor after a writable one";
    case VirtqError::UsedOutsideRam: return "error: used ring outside guest RAM";
  }
  return "error";
}

VirtqError Virtqueue::enable(const GuestMemory& mem, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used) {
  reset();
  if (size == 0 || size > kVirtqMaxSize || (size & (size - 1)) != 0) return VirtqError::RingOutsideRam;
  if ((desc & 15) || (avail & 1) || (used & 3)) return VirtqError::RingOutsideRam;
  if (!mem.contains(desc, desc_bytes(size)) || !mem.contains(avail, avail_bytes(size)) ||
      !mem.contains(used, used_bytes(size)))
    return VirtqError::RingOutsideRam;
  size_ = size;
  desc_ = desc, avail_ = avail, used_ = used;
  ready_ = true;
  return VirtqError::None;
}

void Virtqueue::reset() {
  ready_ = false;
  size_ = 0;
  desc_ = avail_ = used_ = 0;
  last_avail_ = used_idx_ = 0;
}

bool Virtqueue::interrupts_suppressed(const GuestMemory& mem) const {
  uint16_t flags = 0;
  if (!ready_ || !mem.read(avail_, &flags, 2)) return false;
  return flags & kVirtqAvailNoInterrupt;
}

VirtqError Virtqueue::pop(const GuestMemory& mem, VirtqChain& out) {
  out.buffers.clear();
  out.readable_bytes = out.writable_bytes = 0;
  if (!ready_) return VirtqError::NotReady;
  uint16_t avail_idx = 0;
  if (!mem.read(avail_ + 2, &avail_idx, 2)) return VirtqError::RingOutsideRam;
  uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending == 0) return VirtqError::Empty;
  if (pending > size_) return VirtqError::AvailIdxTooFar;
  // The ring entries the index publishes are read after it (a device
  // thread runs beside the vCPU under run --io offload).
  std::atomic_thread_fence(std::memory_order_acquire);

  uint16_t head = 0;
  if (!mem.read(avail_ + 4 + 2ull * (last_avail_ % size_), &head, 2)) return VirtqError::RingOutsideRam;
  if (head >= size_) return VirtqError::HeadOutOfRange;

  // At most `size` descriptors: a chain that is longer must revisit one,
  // and a loop would otherwise keep the VMM here forever.
  uint16_t i = head;
  for (uint32_t n = 0;; n++) {
    if (n >= size_) return VirtqError::ChainTooLong;
    Desc d;
    if (!mem.read(desc_ + 16ull * i, &d, sizeof d)) return VirtqError::RingOutsideRam;
    if (d.flags & kVirtqDescIndirect) return VirtqError::Indirect;
    if (!mem.contains(d.addr, d.len)) return VirtqError::BufferOutsideRam;
    bool w = d.flags & kVirtqDescWrite;
    if (!w && out.writable_bytes) return VirtqError::WritableFirst;
    (w ? out.writable_bytes : out.readable_bytes) += d.len;
    if (out.readable_bytes + out.writable_bytes > kVirtqMaxChainBytes) return VirtqError::ChainTooBig;
    out.buffers.push_back({d.addr, d.len, w});
    if (!(d.flags & kVirtqDescNext)) break;
    if (d.next >= size_) return VirtqError::NextOutOfRange;
    i = d.next;
  }
  out.head = head;
  last_avail_++;
  return VirtqError::None;
}

VirtqError Virtqueue::push_used(GuestMemory& mem, uint16_t head, uint32_t written) {
  if (!ready_) return VirtqError::NotReady;
  struct {
    uint32_t id, len;
  } elem{head, written};
  if (!mem.write(used_ + 4 + 8ull * (used_idx_ % size_), &elem, sizeof elem)) return VirtqError::UsedOutsideRam;
  used_idx_++;
  // The element must be visible before the index that publishes it. The
  // guest is stopped while we run (an exit), so program order suffices;
  // the fence documents the rule for a device running beside the vCPU.
  std::atomic_thread_fence(std::memory_order_release);
  if (!mem.write(used_ + 2, &used_idx_, 2)) return VirtqError::UsedOutsideRam;
  return VirtqError::None;
}

uint64_t virtq_read(const GuestMemory& mem, const VirtqChain& c, uint64_t offset, void* dst, uint64_t len) {
  uint64_t done = 0, pos = 0;
  for (const auto& b : c.buffers) {
    if (b.device_writable || done == len) break;
    if (offset < pos + b.len) {
      uint64_t from = offset > pos ? offset - pos : 0;
      uint64_t n = std::min<uint64_t>(b.len - from, len - done);
      if (!mem.read(b.gpa + from, static_cast<uint8_t*>(dst) + done, n)) break;
      done += n;
      offset += n;
    }
    pos += b.len;
  }
  return done;
}

uint64_t virtq_write(GuestMemory& mem, const VirtqChain& c, uint64_t offset, const void* src, uint64_t len) {
  uint64_t done = 0, pos = 0;
  for (const auto& b : c.buffers) {
    if (!b.device_writable) continue;
    if (done == len) break;
    if (offset < pos + b.len) {
      uint64_t from = offset > pos ? offset - pos : 0;
      uint64_t n = std::min<uint64_t>(b.len - from, len - done);
      if (!mem.write(b.gpa + from, static_cast<const uint8_t*>(src) + done, n)) break;
      done += n;
      offset += n;
    }
    pos += b.len;
  }
  return done;
}

}  // namespace ringscope
