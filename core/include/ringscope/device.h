// device.h — what every device model implements.
//
// Devices are backend-neutral (STYLE.md, Firecracker): they see an offset
// into their own register window, never an absolute port or address, and
// never include <linux/kvm.h>. The KVM backend and the emulation backend
// call the same objects through the same Bus.
#pragma once

#include <cstdint>
#include <string_view>

#include "ringscope/event.h"
#include "ringscope/guest_memory.h"

namespace ringscope {

// What a device may touch while handling one access: guest RAM (bounds
// checked), the event sink, and the current time and vCPU for its events.
struct DeviceContext {
  GuestMemory* memory = nullptr;
  EventSink* sink = nullptr;
  uint32_t vcpu = 0;
  uint64_t (*now_ns)() = nullptr;  // host monotonic clock
  // Set by a device to ask the backend to stop the run (probe exit port).
  bool stop_requested = false;
  int guest_status = 0;
};

// What a device asks of the backend after an access.
class Device {
 public:
  virtual ~Device() = default;
  virtual std::string_view name() const = 0;
  // Width is 1, 2, 4 or 8 bytes. The value read is zero-extended.
  virtual uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) = 0;
  virtual void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) = 0;
  // Register name for an offset, for traces ("THR", "LSR"); "" if none.
  virtual std::string_view register_name(uint64_t offset, Direction dir) const {
    (void)offset;
    (void)dir;
    return {};
  }
  // Called once when the run ends (flush buffered output, close files).
  virtual void finish(DeviceContext& ctx) { (void)ctx; }
};

}  // namespace ringscope
