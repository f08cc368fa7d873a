// bus.cpp — the interval map that routes port I/O and MMIO to devices.
#include "ringscope/bus.h"

#include <fmt/format.h>

#include "ringscope/i18n.h"

namespace ringscope {

Status Bus::add(AddressSpace space, uint64_t base, uint64_t len, Device* device) {
  auto& map = space == AddressSpace::Pio ? pio_ : mmio_;
  if (len == 0 || base + len < base)
    return make_error(ErrorKind::Internal, trf("device {} has an empty or wrapping window", device->name()));
  // The first range starting at or after base must start at or after our end,
  // and the range before base must end at or before base.
  auto next = map.lower_bound(base);
  if (next != map.end() && next->first < base + len)
    return make_error(ErrorKind::Internal, trf("device {} at {:#x}+{:#x} overlaps {} at {:#x}", device->name(), base,
                                               len, next->second.device->name(), next->first));
  if (next != map.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.len > base)
      return make_error(ErrorKind::Internal, trf("device {} at {:#x}+{:#x} overlaps {} at {:#x}", device->name(), base,
                                                 len, prev->second.device->name(), prev->first));
  }
  map.emplace(base, Entry{len, device});
  return ok_status();
}

Bus::Hit Bus::find(AddressSpace space, uint64_t addr) const {
  const auto& map = space == AddressSpace::Pio ? pio_ : mmio_;
  auto it = map.upper_bound(addr);
  if (it == map.begin()) return {};
  --it;
  if (addr - it->first >= it->second.len) return {};
  return {it->second.device, addr - it->first};
}

namespace {
// An access nobody claims is a `device` event of the pseudo-device
// "unclaimed", so a guest poking at hardware that is not there shows up in
// the trace instead of vanishing.
void report_unclaimed(DeviceContext& ctx, AddressSpace space, uint64_t addr, uint8_t width, Direction dir,
                      uint64_t value) {
  if (!ctx.sink) return;
  const bool pio = space == AddressSpace::Pio;
  Event u =
      events::device({ctx.event_time(), ctx.vcpu, Source::Vmm}, "unclaimed", pio ? "port" : "mmio", dir, value, width);
  if (pio)
    u.port = static_cast<uint16_t>(addr);
  else
    u.gpa = addr;
  ctx.sink->emit(u);
}
}  // namespace

uint64_t Bus::read(DeviceContext& ctx, AddressSpace space, uint64_t addr, uint8_t width, bool* claimed) {
  Hit hit = find(space, addr);
  if (claimed) *claimed = hit.device != nullptr;
  if (hit.device) return hit.device->read(ctx, hit.offset, width);
  uint64_t all_ones = width >= 8 ? ~0ull : ((1ull << (width * 8)) - 1);
  report_unclaimed(ctx, space, addr, width, space == AddressSpace::Pio ? Direction::In : Direction::Read, all_ones);
  return all_ones;
}

AccessResult Bus::write(DeviceContext& ctx, AddressSpace space, uint64_t addr, uint8_t width, uint64_t value,
                        bool* claimed) {
  Hit hit = find(space, addr);
  if (claimed) *claimed = hit.device != nullptr;
  if (hit.device) return hit.device->write_access(ctx, hit.offset, width, value);
  report_unclaimed(ctx, space, addr, width, space == AddressSpace::Pio ? Direction::Out : Direction::Write, value);
  return {};
}

std::vector<Bus::Range> Bus::ranges() const {
  std::vector<Range> out;
  for (auto& [base, e] : pio_) out.push_back({AddressSpace::Pio, base, e.len, e.device});
  for (auto& [base, e] : mmio_) out.push_back({AddressSpace::Mmio, base, e.len, e.device});
  return out;
}

}  // namespace ringscope
