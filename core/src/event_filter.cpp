// event_filter.cpp — the one event filter (event_filter.h).
#include "ringscope/event_filter.h"

#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"

namespace ringscope {

namespace {

bool is_trap(EventKind k) { return k == EventKind::Trap || k == EventKind::TrapReturn; }

bool carries_cause(EventKind k) { return is_trap(k) || k == EventKind::WorldSwitch; }

bool carries_port(const Event& e) {
  if (e.kind == EventKind::VmExit) return e.reason == exit_reason::kIoInstruction;
  if (e.kind == EventKind::BtCallout) return e.access == AccessKind::Port;
  return e.kind == EventKind::Device && e.device == "unclaimed" && e.reg == "port";
}

bool carries_vector(const Event& e) {
  switch (e.kind) {
    case EventKind::Trap: return true;
    case EventKind::VmExit: return e.reason == exit_reason::kExceptionNmi;
    case EventKind::IrqInject: return irq_via(e) != IrqVia::Irqfd;
    case EventKind::WorldSwitch:
      return e.cause == TrapCause::Exception || e.cause == TrapCause::Interrupt || e.cause == TrapCause::SoftInt;
    case EventKind::BtCallout: return e.insn == BtInsn::IntN;
    default: return false;
  }
}

bool carries_value(const Event& e) {
  switch (e.kind) {
    case EventKind::VmExit:
    case EventKind::Device:
    case EventKind::Counter:
    case EventKind::Marker:
    case EventKind::RunEnd:
    case EventKind::IrqInject: return true;
    case EventKind::BtCallout: return e.access != AccessKind::None || !bt_insn_info(e.insn).value_means.empty();
    default: return false;
  }
}

// A bt_callout of the instruction, or a bt_translate whose block holds it.
bool carries_insn(const Event& e, BtInsn insn) {
  if (e.kind == EventKind::BtCallout) return e.insn == insn;
  return e.kind == EventKind::BtTranslate && (e.value & bt_insn_bit(insn));
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
    // The guest's CPL at the event, where its schema row keeps it: a trap or
    // return was at both ends.
    switch (kind_spec(k.kind).cpl) {
      case CplAt::FromTo:
        if (k.cpl != *cpl && k.to_cpl != *cpl) return false;
        break;
      case CplAt::Cpl:
        if (k.cpl != *cpl) return false;
        break;
      case CplAt::None: return false;
    }
  }
  return true;
}

bool EventFilter::only_keys() const {
  return !source && !handled_by && !port && !vector && !from_cpl && !to_cpl && !cause && !direction && !device &&
         !reg && !name && !value && !insn && !from_world && !to_world && !via;
}

bool EventFilter::matches(const Event& e) const {
  const bool both_ends = kind_spec(e.kind).cpl == CplAt::FromTo;
  if (!matches_keys({e.kind, e.vcpu, e.reason, both_ends ? e.from_cpl : e.cpl, e.to_cpl})) return false;
  if (source && e.source != *source) return false;
  if (handled_by && (e.kind != EventKind::VmExit || e.handled_by != *handled_by)) return false;
  if (port && (!carries_port(e) || e.port != *port)) return false;
  if (vector && (!carries_vector(e) || e.vector != *vector)) return false;
  if (from_cpl && (!is_trap(e.kind) || e.from_cpl != *from_cpl)) return false;
  if (to_cpl && (!is_trap(e.kind) || e.to_cpl != *to_cpl)) return false;
  if (cause && (!carries_cause(e.kind) || e.cause != *cause)) return false;
  if (insn && !carries_insn(e, *insn)) return false;
  if (from_world && (e.kind != EventKind::WorldSwitch || e.from_world != *from_world)) return false;
  if (to_world && (e.kind != EventKind::WorldSwitch || e.to_world != *to_world)) return false;
  if (via && (e.kind != EventKind::IrqInject || irq_via(e) != *via)) return false;
  // Kinds without a direction, device, register or name leave them empty,
  // which no filter value is (the front ends refuse empty names).
  if (direction && e.direction != *direction) return false;
  if (device && e.device != *device) return false;
  if (reg && e.reg != *reg) return false;
  if (name && e.name != *name) return false;
  if (value && (!carries_value(e) || e.value != *value)) return false;
  return true;
}

std::optional<Direction> direction_from_name(std::string_view name) {
  for (auto d : {Direction::In, Direction::Out, Direction::Read, Direction::Write})
    if (direction_name(d) == name) return d;
  return std::nullopt;
}

std::optional<TrapCause> cause_from_name(std::string_view name) {
  for (int c = 1; c < kTrapCauseCount; ++c)
    if (cause_name(static_cast<TrapCause>(c)) == name) return static_cast<TrapCause>(c);
  return std::nullopt;
}

std::optional<HandledBy> handled_by_from_name(std::string_view name) {
  for (auto h : {HandledBy::Kernel, HandledBy::Vmm})
    if (handled_by_name(h) == name) return h;
  return std::nullopt;
}

std::optional<BtWorld> world_from_name(std::string_view name) {
  for (int w = 1; w < kBtWorldCount; ++w)
    if (world_name(static_cast<BtWorld>(w)) == name) return static_cast<BtWorld>(w);
  return std::nullopt;
}

}  // namespace ringscope
