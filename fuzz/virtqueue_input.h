// virtqueue_input.h — the layout of a fuzz_virtqueue input, shared by the
// target and the seed writer (seeds.cpp).
//
//   VirtqueueInput   which device, the queue's size and ring addresses,
//                    what the driver does (notifies, input to deliver)
//   then             the guest RAM image (up to kVirtqFuzzRam bytes; the
//                    rest of RAM is zero): descriptors, rings, buffers
#pragma once

#include <cstdint>

namespace ringscope::fuzz {

inline constexpr uint64_t kVirtqFuzzRam = 64 * 1024;
// Queue q's three rings sit at the addresses below plus q * this stride.
inline constexpr uint64_t kVirtqFuzzQueueStride = 0x400;

struct VirtqueueInput {
  uint8_t device;              // bit 0: 0 virtio-blk, 1 virtio-console
  uint8_t queue_log2;          // QueueNum = 1 << (queue_log2 % 8); 0xff: leave QueueNum unset (the maximum)
  uint8_t notifies;            // QueueNotify writes, 1 + notifies % 4
  uint8_t notify_queue;        // the queue notified (may be one the device does not have)
  uint32_t desc, avail, used;  // ring addresses (guest physical, may be anywhere)
  uint16_t input_len;          // console: host input bytes delivered after the first notify
  uint8_t features_ok;         // bit 0: negotiate VERSION_1 first; bit 1: also ask for an unoffered feature
  uint8_t reserved;
};
static_assert(sizeof(VirtqueueInput) == 20);

}  // namespace ringscope::fuzz
