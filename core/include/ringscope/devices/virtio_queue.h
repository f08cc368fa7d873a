// virtio_queue.h — the split virtqueue (virtio 1.2, section 2.7), device side.
//
// Three areas in guest RAM, all set up by the driver:
//   descriptor table  struct { le64 addr; le32 len; le16 flags; le16 next; }[size]
//   available ring    le16 flags; le16 idx; le16 ring[size]; le16 used_event
//   used ring         le16 flags; le16 idx; struct { le32 id; le32 len; }[size]; le16 avail_event
// The driver puts the head of a descriptor chain into the available ring and
// bumps avail.idx; the device walks the chain, does the work, and puts the
// head into the used ring. Only the index stores cross; nothing is copied
// through registers, which is why one notification can carry many requests.
//
// Everything here is read from guest RAM and is hostile until checked: ring
// addresses, descriptor addresses and lengths (GuestMemory bounds), indices
// (against the queue size), chains (bounded length: a loop must not hang
// the VMM), and the avail index (it may not run more than `size` ahead).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ringscope/guest_memory.h"

namespace ringscope {

inline constexpr uint16_t kVirtqDescNext = 1;          // VIRTQ_DESC_F_NEXT
inline constexpr uint16_t kVirtqDescWrite = 2;         // VIRTQ_DESC_F_WRITE: device writes this buffer
inline constexpr uint16_t kVirtqDescIndirect = 4;      // VIRTQ_DESC_F_INDIRECT (not offered)
inline constexpr uint16_t kVirtqAvailNoInterrupt = 1;  // VIRTQ_AVAIL_F_NO_INTERRUPT
inline constexpr uint16_t kVirtqMaxSize = 32768;
inline constexpr uint64_t kVirtqMaxChainBytes = 4ull << 20;  // one request moves at most 4 MiB

// One buffer of a chain, already checked to lie inside guest RAM.
struct VirtqBuffer {
  uint64_t gpa = 0;
  uint32_t len = 0;
  bool device_writable = false;
};

struct VirtqChain {
  uint16_t head = 0;
  std::vector<VirtqBuffer> buffers;  // readable ones first, then writable ones
  uint64_t readable_bytes = 0, writable_bytes = 0;
};

// Why a queue could not be used. Everything but None and Empty is the
// driver's fault and puts the device into DEVICE_NEEDS_RESET.
enum class VirtqError : uint8_t {
  None = 0,
  Empty,             // nothing available: not an error
  NotReady,          // notified before QueueReady
  RingOutsideRam,    // a ring area is not inside guest RAM (or misaligned)
  AvailIdxTooFar,    // avail.idx ran more than `size` ahead of what we consumed
  HeadOutOfRange,    // avail.ring[] named a descriptor >= size
  NextOutOfRange,    // a descriptor's next >= size
  ChainTooLong,      // more descriptors than the queue has: a loop
  BufferOutsideRam,  // a descriptor's addr/len is not inside guest RAM
  ChainTooBig,       // more than kVirtqMaxChainBytes in one chain
  Indirect,          // VIRTQ_DESC_F_INDIRECT, which this device did not offer
  WritableFirst,     // a readable descriptor after a writable one (2.7.4.2)
  UsedOutsideRam,    // could not write the used ring
};
std::string_view virtq_error_text(VirtqError e);  // a phrase for device events

class Virtqueue {
 public:
  // Set up from the transport's registers when the driver sets QueueReady.
  // Checks that the three areas lie inside guest RAM with the alignment
  // the spec requires (16, 2, 4) and that size is a power of two.
  VirtqError enable(const GuestMemory& mem, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used);
  void reset();
  bool ready() const { return ready_; }
  uint16_t size() const { return size_; }

  // The next available chain, or Empty, or the reason it is broken.
  VirtqError pop(const GuestMemory& mem, VirtqChain& out);
  // Hands a chain back: used.ring[used.idx % size] = {head, written}; used.idx++.
  VirtqError push_used(GuestMemory& mem, uint16_t head, uint32_t written);
  // Has the driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT)?
  bool interrupts_suppressed(const GuestMemory& mem) const;
  uint16_t last_avail() const { return last_avail_; }
  uint16_t used_idx() const { return used_idx_; }

 private:
  bool ready_ = false;
  uint16_t size_ = 0;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t last_avail_ = 0;  // next avail.ring entry to consume
  uint16_t used_idx_ = 0;    // our copy of used.idx
};

// Copies between a chain's buffers and the host, treating the readable
// (or writable) buffers as one byte stream. Return bytes copied.
uint64_t virtq_read(const GuestMemory& mem, const VirtqChain& c, uint64_t offset, void* dst, uint64_t len);
uint64_t virtq_write(GuestMemory& mem, const VirtqChain& c, uint64_t offset, const void* src, uint64_t len);

}  // namespace ringscope
