// probe.cpp — markers and the exit status, reported by the guest.
//
// A marker costs the guest exactly one exit: it writes the physical address
// of a small struct instead of the label's bytes, so bracketing a phase does
// not disturb the exit counts being measured. The struct is guest data and is
// treated as hostile: bounds-checked, label length capped, phase validated.
#include "ringscope/devices/probe.h"

#include <fmt/format.h>
#include <cstring>

namespace ringscope {

std::string_view ProbeDevice::register_name(uint64_t offset, Direction) const {
  switch (offset) {
    case kMarker: return "MARKER";
    case kExit: return "EXIT";
  }
  return "";
}

uint64_t ProbeDevice::read(DeviceContext&, uint64_t offset, uint8_t width) {
  if (offset == kMarker && width == 4) return kProbeMagic;
  return width >= 8 ? ~0ull : (1ull << (width * 8)) - 1;
}

AccessResult ProbeDevice::write_access(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  if (offset == kMarker && width == 4) {
    marker(ctx, value);
  } else if (offset == kExit) {
    exited_ = true;
    status_ = static_cast<int>(value & (width >= 4 ? 0xffffffffu : 0xffu));
    return {.guest_exit = true, .guest_status = status_};
  }
  return {};
}

void ProbeDevice::marker(DeviceContext& ctx, uint64_t gpa) {
  struct {
    uint32_t phase;
    uint32_t value;
    char label[kLabelMax];
  } m;
  static_assert(sizeof(m) == kMarkerSize);
  Event e = events::marker({ctx.event_time(), ctx.vcpu, Source::Guest}, MarkerPhase::Point, {});
  e.gpa = gpa;  // where the guest kept the marker
  if (!ctx.memory || !ctx.memory->read(gpa, &m, sizeof m)) {
    label_ = fmt::format("(bad marker address {:#x})", gpa);
  } else {
    label_.assign(m.label, strnlen(m.label, kLabelMax));
    e.phase = m.phase <= 2 ? static_cast<MarkerPhase>(m.phase) : MarkerPhase::Point;
    e.value = m.value;
  }
  e.name = label_;
  markers_++;
  if (ctx.sink) ctx.sink->emit(e);
  if (hook_) hook_(ctx, e.phase, label_);
}

}  // namespace ringscope
