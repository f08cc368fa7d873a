// event_filter.cpp — the one event filter (event_filter.h).
#include "ringscope/event_filter.h"

#include "ringscope/exit_reasons.h"

namespace ringscope {

namespace {

bool is_trap(EventKind k) { return k == EventKind::Trap || k == EventKind::TrapReturn; }

bool carries_port(const Event& e) {
  if (e.kind == EventKind::VmExit) return e.reason == exit_reason::kIoInstruction;
  return e.kind == EventKind::Device && e.device == "unclaimed" && e.reg == "port";
}

bool carries_vector(const Event& e) {
  switch (e.kind) {
    case EventKind::Trap: return true;
    case EventKind::VmExit: return e.reason == exit_reason::kExceptionNmi;
    case EventKind::IrqInject: return e.name != kIrqViaIrqfd;
    default: return false;
  }
}

bool carries_value(EventKind k) {
  switch (k) {
    case EventKind::VmExit:
    case EventKind::Device:
    case EventKind::Counter:
    case EventKind::Marker:
    case EventKind::RunEnd:
    case EventKind::IrqInject: return true;
    default: return false;
  }
}

}  // namespace

bool EventFilter::any_kind() const {
  for (bool k : kinds)
    if (k) return false;
  return true;
}

bool EventFilter::has_kind(EventKind k) const { return any_kind() || kinds[static_cast<size_t>(k)]; }

bool EventFilter::matches_keys(const Keys& k) const {
  if (!has_kind(k.kind)) return false;
  if (vcpu && k.vcpu != *vcpu) return false;
  if (reason && (k.kind != EventKind::VmExit || k.reason != *reason)) return false;
  if (cpl) {
    // The guest's CPL at the event: a trap or return was at both ends.
    switch (k.kind) {
      case EventKind::Trap:
      case EventKind::TrapReturn:
        if (k.cpl != *cpl && k.to_cpl != *cpl) return false;
        break;
      case EventKind::VmExit:
      case EventKind::Step:
      case EventKind::Hypercall:
        if (k.cpl != *cpl) return false;
        break;
      default: return false;
    }
  }
  return true;
}

bool EventFilter::only_keys() const {
  return !source && !port && !vector && !from_cpl && !to_cpl && !cause && !direction && !device && !reg && !name &&
         !value;
}

bool EventFilter::matches(const Event& e) const {
  const bool trap = is_trap(e.kind);
  if (!matches_keys({e.kind, e.vcpu, e.reason, trap ? e.from_cpl : e.cpl, e.to_cpl})) return false;
  if (source && e.source != *source) return false;
  if (port && (!carries_port(e) || e.port != *port)) return false;
  if (vector && (!carries_vector(e) || e.vector != *vector)) return false;
  if (from_cpl && (!is_trap(e.kind) || e.from_cpl != *from_cpl)) return false;
  if (to_cpl && (!is_trap(e.kind) || e.to_cpl != *to_cpl)) return false;
  if (cause && (!is_trap(e.kind) || e.cause != *cause)) return false;
  // Kinds without a direction, device, register or name leave them empty,
  // which no filter value is (the front ends refuse empty names).
  if (direction && e.direction != *direction) return false;
  if (device && e.device != *device) return false;
  if (reg && e.reg != *reg) return false;
  if (name && e.name != *name) return false;
  if (value && (!carries_value(e.kind) || e.value != *value)) return false;
  return true;
}

std::optional<Direction> direction_from_name(std::string_view name) {
  for (auto d : {Direction::In, Direction::Out, Direction::Read, Direction::Write})
    if (direction_name(d) == name) return d;
  return std::nullopt;
}

std::optional<TrapCause> cause_from_name(std::string_view name) {
  for (auto c : {TrapCause::Exception, TrapCause::Interrupt, TrapCause::SoftInt, TrapCause::Syscall, TrapCause::Iret,
                 TrapCause::Sysret})
    if (cause_name(c) == name) return c;
  return std::nullopt;
}

}  // namespace ringscope
