// event_kinds.cpp — the built-in event kinds: one KindSpec row each
// (event_schema.h says what every column means).
//
// A kind's `fields` list is also the trace codec's presence-mask order for
// it (hot fields first): it is part of the file format, so an existing
// kind's list never changes; a new field goes to the end of field::Id and
// is found after the listed ones.
#include <fmt/format.h>

#include "event_kinds.h"
#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"

namespace ringscope {
namespace {

using namespace field;

// ---- titles (exports' slice names) --------------------------------------------

std::string vm_exit_title(const Event& e) { return exit_reason_name(e.reason); }

std::string trap_title(const Event& e) {
  switch (e.cause) {
    case TrapCause::Exception:
      if (auto n = exception_name(e.vector); !n.empty()) return std::string(n);
      return fmt::format("exception {}", e.vector);
    case TrapCause::SoftInt: return fmt::format("int 0x{:x}", e.vector);
    case TrapCause::Syscall: return "syscall";
    case TrapCause::Interrupt: return fmt::format("interrupt {}", e.vector);
    default: return fmt::format("trap {}", e.vector);
  }
}

std::string trap_return_title(const Event& e) {
  return e.cause == TrapCause::None ? "trap_return" : std::string(cause_name(e.cause));
}

std::string hypercall_title(const Event& e) { return fmt::format("hypercall {}", e.number); }

std::string device_title(const Event& e) {
  std::string t = e.device.empty() ? "device" : std::string(e.device);
  if (!e.reg.empty()) t += fmt::format(" {}", e.reg);
  if (e.direction != Direction::None) t += fmt::format(" {}", direction_name(e.direction));
  return t;
}

std::string irq_inject_title(const Event& e) {
  if (irq_via(e) == IrqVia::Ipi)
    return fmt::format("IPI {} from vCPU {}", e.reg == "fixed" ? fmt::format("{}", e.vector) : std::string(e.reg),
                       e.value);
  return fmt::format("irq_inject {}", e.vector);
}

std::string named_title(const Event& e) {
  return e.name.empty() ? std::string(kind_name(e.kind)) : std::string(e.name);
}

std::string run_end_title(const Event& e) { return fmt::format("run_end {}", run_end_name(e.end_reason)); }

std::string world_switch_title(const Event& e) {
  std::string t = fmt::format("{} -> {}", world_name(e.from_world), world_name(e.to_world));
  return e.cause == TrapCause::None ? t : fmt::format("{} ({})", t, cause_name(e.cause));
}

std::string bt_translate_title(const Event& e) { return fmt::format("translate 0x{:x}", e.rip); }

std::string bt_callout_title(const Event& e) { return fmt::format("callout {}", bt_insn_name(e.insn)); }

// ---- JSON keys ------------------------------------------------------------------

bool has_error_code(const Event& e) { return e.has_error_code; }
bool page_fault(const Event& e) { return e.vector == 14; }
// An irq_inject's `via`: the tag (schema 5), or the name an older trace kept it in.
bool has_via_tag(const Event& e) { return e.via != IrqVia::None; }
bool via_in_name(const Event& e) { return e.via == IrqVia::None && !e.name.empty(); }
bool has_regs(const Event& e) { return e.regs != nullptr; }

std::span<const JsonKey> vm_exit_access_json(const Event& e) { return access_json(exit_access(e)); }
std::span<const JsonKey> irq_inject_via_json(const Event& e);
// A world switch carries a vector when an exception, an interrupt or int n caused it.
bool switch_has_vector(const Event& e) {
  return e.cause == TrapCause::Exception || e.cause == TrapCause::Interrupt || e.cause == TrapCause::SoftInt;
}
bool switch_exception(const Event& e) { return e.cause == TrapCause::Exception; }
// A callout's `value` means what its instruction's row says, when the callout has no access.
bool callout_has_value(const Event& e) {
  return e.access == AccessKind::None && !bt_insn_info(e.insn).value_means.empty();
}
bool callout_int(const Event& e) { return e.insn == BtInsn::IntN; }
// A pt_store callout is no exception (a vm_exit's page-table store is a #PF):
// it says the entry, where it is and what was stored.
constexpr JsonKey kCalloutPtStoreJson[] = {{"register", kReg}, {"gpa", kGpa}, {"size", kSize}, {"value", kValue}};
std::span<const JsonKey> callout_access_json(const Event& e) {
  if (e.access == AccessKind::PageTableStore) return kCalloutPtStoreJson;
  return access_json(e.access);
}

constexpr JsonKey kVmExitJson[] = {{"reason", kReason},
                                   {"reason_name", kReason, JsonForm::Label},
                                   {"handled_by", kHandledBy},
                                   {"rip", kRip},
                                   {"cpl", kCpl},
                                   {"duration_ns", kDuration}};
constexpr JsonKey kTrapJson[] = {{"vector", kVector},
                                 {"vector_name", kVector, JsonForm::Label},
                                 {"error_code", kErrorCode, JsonForm::Value, has_error_code},
                                 {"cr2", kCr2, JsonForm::Value, page_fault},
                                 {"from_cpl", kFromCpl},
                                 {"to_cpl", kToCpl},
                                 {"cause", kCause},
                                 {"rip", kRip},
                                 {"rip_to", kRipTo}};
constexpr JsonKey kTrapReturnJson[] = {
    {"from_cpl", kFromCpl}, {"to_cpl", kToCpl}, {"cause", kCause}, {"rip", kRip}, {"rip_to", kRipTo}};
constexpr JsonKey kHypercallJson[] = {{"number", kNumber},
                                      {"args", kArg0, JsonForm::Args},
                                      {"result", kResult},
                                      {"transport", kTransport},
                                      {"rip", kRip}};
constexpr JsonKey kDeviceJson[] = {{"device", kDevice},       {"register", kReg}, {"direction", kDirection},
                                   {"value", kValue},         {"size", kSize},    {"count", kCount},
                                   {"duration_ns", kDuration}};
constexpr JsonKey kIrqInjectJson[] = {{"via", kVia, JsonForm::Value, has_via_tag},
                                      {"via", kName, JsonForm::Value, via_in_name}};
// The keys each path adds (irq_via): an irqfd leaves the vector to KVM's irqchip.
constexpr JsonKey kViaVectorJson[] = {{"vector", kVector}};
constexpr JsonKey kViaIrqfdJson[] = {{"irq", kValue}, {"device", kDevice}};
constexpr JsonKey kViaIpiJson[] = {
    {"vector", kVector}, {"from_vcpu", kValue}, {"delivery", kReg}, {"duration_ns", kDuration}};
std::span<const JsonKey> irq_inject_via_json(const Event& e) {
  switch (irq_via(e)) {
    case IrqVia::Irqfd: return kViaIrqfdJson;
    case IrqVia::Ipi: return kViaIpiJson;
    default: return kViaVectorJson;
  }
}
constexpr JsonKey kModeChangeJson[] = {{"cr0", kCr0},          {"cr4", kCr4},          {"efer", kEfer},
                                       {"prev_cr0", kPrevCr0}, {"prev_cr4", kPrevCr4}, {"prev_efer", kPrevEfer}};
constexpr JsonKey kStepJson[] = {{"rip", kRip}, {"cpl", kCpl}, {"bytes", kText, JsonForm::Bytes}};
constexpr JsonKey kCounterJson[] = {{"name", kName}, {"value", kValue}};
constexpr JsonKey kOutputJson[] = {{"text", kText}};
constexpr JsonKey kMarkerJson[] = {{"name", kName}, {"phase", kPhase}, {"value", kValue}};
constexpr JsonKey kRunEndJson[] = {
    {"reason", kEndReason}, {"message", kText}, {"value", kValue}, {"regs", kRegs, JsonForm::Value, has_regs}};
constexpr JsonKey kWorldSwitchJson[] = {{"from_world", kFromWorld},
                                        {"to_world", kToWorld},
                                        {"cause", kCause},
                                        {"vector", kVector, JsonForm::Value, switch_has_vector},
                                        {"vector_name", kVector, JsonForm::Label, switch_exception},
                                        {"rip", kRip},
                                        {"rip_to", kRipTo},
                                        {"from_cpl", kFromCpl},
                                        {"to_cpl", kToCpl},
                                        {"duration_ns", kDuration}};
constexpr JsonKey kBtTranslateJson[] = {{"rip", kRip},
                                        {"length", kLength},
                                        {"instructions", kCount},
                                        {"sensitive", kValue, JsonForm::Insns},
                                        {"sensitive_count", kNumber},
                                        {"duration_ns", kDuration}};
constexpr JsonKey kBtCalloutJson[] = {{"instruction", kInsn},
                                      {"rip", kRip},
                                      {"cpl", kCpl},
                                      {"duration_ns", kDuration},
                                      {"vector", kVector, JsonForm::Value, callout_int},
                                      {"value", kValue, JsonForm::Value, callout_has_value}};

// ---- fields, hot first (the codec's mask order: never change an existing list) ----

constexpr FieldId kVmExitHot[] = {kValue, kDuration, kRip,    kPort,      kDirection, kSize, kCount,
                                  kGpa,   kLength,   kReason, kHandledBy, kCpl,       kVcpu, kSource};
constexpr FieldId kTrapHot[] = {kRip,     kRipTo, kVector, kErrorCode, kCr2,  kHasErrorCode,
                                kFromCpl, kToCpl, kCause,  kCpl,       kVcpu, kSource};
constexpr FieldId kTrapReturnHot[] = {kRip, kRipTo, kFromCpl, kToCpl, kCause, kCpl, kVcpu, kSource};
constexpr FieldId kHypercallHot[] = {kNumber, kArg0,      kArg1,     kResult, kArg2, kArg3,
                                     kRip,    kTransport, kDuration, kCpl,    kVcpu, kSource};
constexpr FieldId kDeviceHot[] = {kValue, kDuration, kReg, kDirection, kDevice, kSize, kCount, kVcpu, kSource};
constexpr FieldId kIrqInjectHot[] = {kVector, kVcpu, kSource};
constexpr FieldId kModeChangeHot[] = {kCr0, kCr4, kEfer, kPrevCr0, kPrevCr4, kPrevEfer, kRip, kVcpu, kSource};
constexpr FieldId kStepHot[] = {kRip, kText, kCpl, kVcpu, kSource};
constexpr FieldId kCounterHot[] = {kValue, kName, kVcpu, kSource};
constexpr FieldId kOutputHot[] = {kText, kVcpu, kSource};
constexpr FieldId kMarkerHot[] = {kName, kPhase, kValue, kGpa, kVcpu, kSource};
constexpr FieldId kRunEndHot[] = {kEndReason, kText, kValue, kRegs, kVcpu, kSource};
constexpr FieldId kWorldSwitchHot[] = {kRip,    kRipTo,   kDuration, kToWorld, kFromWorld, kCause,
                                       kVector, kFromCpl, kToCpl,    kVcpu,    kSource};
constexpr FieldId kBtTranslateHot[] = {kRip, kLength, kCount, kValue, kNumber, kDuration, kVcpu, kSource};
constexpr FieldId kBtCalloutHot[] = {kRip,    kDuration, kValue,  kInsn,  kPort, kDirection, kSize,  kReg,
                                     kNumber, kVector,   kAccess, kCount, kCpl,  kVcpu,      kSource};

using namespace kind_text;
using TR = TimelineRow;
using CK = ColourKey;

// One row per EventKind enumerator, in order.
const KindSpec kBuiltin[] = {
    {"vm_exit", kVmExitHot, kVmExitJson, "The guest left VMX non-root mode (or would have).", TR::Exits, CK::ExitReason,
     CplAt::Cpl, kReason, vm_exit_summary, vm_exit_explain, vm_exit_title, vm_exit_access_json},
    {"trap", kTrapHot, kTrapJson, "An event delivered into the guest kernel.", TR::Traps, CK::Trap, CplAt::FromTo,
     kVector, trap_summary, trap_explain, trap_title},
    {"trap_return", kTrapReturnHot, kTrapReturnJson, "iretq or sysretq.", TR::Traps, CK::TrapReturn, CplAt::FromTo,
     kVector, trap_return_summary, trap_return_explain, trap_return_title},
    {"hypercall", kHypercallHot, kHypercallJson, "A guest's deliberate call into the hypervisor.", TR::Hypercalls,
     CK::Hypercall, CplAt::Cpl, kNumber, hypercall_summary, hypercall_explain, hypercall_title},
    {"device", kDeviceHot, kDeviceJson, "A device model did something.", TR::Devices, CK::Device, CplAt::None,
     kFieldCount, device_summary, device_explain, device_title},
    {"irq_inject", kIrqInjectHot, kIrqInjectJson, "The VMM injected an interrupt.", TR::Hypercalls, CK::Irq,
     CplAt::None, kFieldCount, irq_inject_summary, irq_inject_explain, irq_inject_title, irq_inject_via_json},
    {"mode_change", kModeChangeHot, kModeChangeJson, "CR0, CR4 or EFER changed.", TR::Markers, CK::ModeChange,
     CplAt::None, kFieldCount, mode_change_summary, mode_change_explain},
    {"step", kStepHot, kStepJson, "One instruction (trace level full).", TR::None, CK::Neutral, CplAt::Cpl, kFieldCount,
     step_summary, step_explain},
    {"counter", kCounterHot, kCounterJson, "A named counter's value.", TR::None, CK::Neutral, CplAt::None, kFieldCount,
     counter_summary, counter_explain, named_title},
    {"output", kOutputHot, kOutputJson, "Bytes the guest wrote to its console.", TR::Devices, CK::Output, CplAt::None,
     kFieldCount, output_summary, output_explain},
    {"marker", kMarkerHot, kMarkerJson, "A label the workload emitted to bracket a phase.", TR::Markers, CK::Marker,
     CplAt::None, kPhase, marker_summary, marker_explain, named_title},
    {"run_end", kRunEndHot, kRunEndJson, "How the run ended.", TR::Markers, CK::RunEnd, CplAt::None, kFieldCount,
     run_end_summary, run_end_explain, run_end_title},
    {"world_switch", kWorldSwitchHot, kWorldSwitchJson,
     "bt mode: the guest moved between direct execution and the translator.", TR::Traps, CK::WorldSwitch, CplAt::FromTo,
     kToWorld, world_switch_summary, world_switch_explain, world_switch_title},
    {"bt_translate", kBtTranslateHot, kBtTranslateJson,
     "bt mode: a guest kernel block was translated into the translation cache.", TR::Markers, CK::BtTranslate,
     CplAt::None, kFieldCount, bt_translate_summary, bt_translate_explain, bt_translate_title},
    {"bt_callout", kBtCalloutHot, kBtCalloutJson,
     "bt mode: translated code called the monitor to emulate a sensitive instruction.", TR::Exits, CK::BtCallout,
     CplAt::Cpl, kInsn, bt_callout_summary, bt_callout_explain, bt_callout_title, callout_access_json},
};
static_assert(std::size(kBuiltin) == kEventKindCount, "one row per EventKind enumerator");
static_assert(kEventKindCount <= kMaxEventKinds);

}  // namespace

std::span<const KindSpec> builtin_kinds() { return kBuiltin; }

}  // namespace ringscope
