// bus.h — one dispatch structure for port I/O and MMIO (kvmtool's shape).
//
// An interval map from [base, base+len) to a Device. Overlapping ranges are
// refused when a device is added; an access nobody claims is reported to the
// caller (and traced), never silently eaten.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ringscope/device.h"
#include "ringscope/result.h"

namespace ringscope {

enum class AddressSpace : uint8_t { Pio, Mmio };

class Bus {
 public:
  // Fails if [base, base+len) overlaps a device already on this space.
  Status add(AddressSpace space, uint64_t base, uint64_t len, Device* device);

  struct Hit {
    Device* device = nullptr;  // nullptr: nobody claims the address
    uint64_t offset = 0;       // address - base of the device's window
  };
  Hit find(AddressSpace space, uint64_t addr) const;

  // Dispatch helpers. An unclaimed read returns all ones (as on a PC bus)
  // and *claimed is set false so the caller can trace it.
  uint64_t read(DeviceContext& ctx, AddressSpace space, uint64_t addr, uint8_t width, bool* claimed);
  // A write returns what the device's write_access() returned (nothing
  // for an unclaimed one).
  AccessResult write(DeviceContext& ctx, AddressSpace space, uint64_t addr, uint8_t width, uint64_t value,
                     bool* claimed);

  struct Range {
    AddressSpace space;
    uint64_t base, len;
    Device* device;
  };
  std::vector<Range> ranges() const;

 private:
  struct Entry {
    uint64_t len;
    Device* device;
  };
  std::map<uint64_t, Entry> pio_, mmio_;  // keyed by base
};

}  // namespace ringscope
