// json.cpp — the JSON Lines form of events and headers (docs/trace-format.md "JSON
// form"): flat snake_case keys, the common ones first, then only the fields
// that mean something for the event's kind. Lab checkers and scripts key on
// these names; docs/trace-format.md lists them.
#include <string>

#include "json_internal.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/trace.h"

namespace ringscope {

using trace::Json;

namespace {

std::string str(std::string_view s) { return std::string(s); }

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Json regs_json(const GuestRegs& r) {
  return Json{{"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx},       {"rdx", r.rdx}, {"rsi", r.rsi},
              {"rdi", r.rdi}, {"rbp", r.rbp}, {"rsp", r.rsp},       {"r8", r.r8},   {"r9", r.r9},
              {"r10", r.r10}, {"r11", r.r11}, {"r12", r.r12},       {"r13", r.r13}, {"r14", r.r14},
              {"r15", r.r15}, {"rip", r.rip}, {"rflags", r.rflags}, {"cr0", r.cr0}, {"cr2", r.cr2},
              {"cr3", r.cr3}, {"cr4", r.cr4}, {"efer", r.efer},     {"cs", r.cs},   {"ss", r.ss},
              {"cpl", r.cpl}};
}

void add_vm_exit(Json& j, const Event& e) {
  j["reason"] = e.reason;
  j["reason_name"] = exit_reason_name(e.reason);
  j["handled_by"] = str(handled_by_name(e.handled_by));
  j["rip"] = e.rip;
  j["cpl"] = e.cpl;
  j["duration_ns"] = e.duration_ns;
  if (e.reason == exit_reason::kIoInstruction) {
    j["port"] = e.port;
    j["size"] = e.size;
    j["direction"] = str(direction_name(e.direction));
    j["value"] = e.value;
    j["count"] = e.count;
  } else if (e.reason == exit_reason::kEptViolation) {
    j["gpa"] = e.gpa;
    j["length"] = e.length;
    j["direction"] = str(direction_name(e.direction));
    j["value"] = e.value;
  } else if (e.reason == exit_reason::kRdmsr || e.reason == exit_reason::kWrmsr) {
    j["msr"] = e.number;  // ECX: which MSR
    j["direction"] = str(direction_name(e.direction));
    j["value"] = e.value;
  } else if (e.reason == exit_reason::kCrAccess) {
    j["register"] = str(e.reg);  // "cr0", "cr3", "cr4"
    j["direction"] = str(direction_name(e.direction));
    j["value"] = e.value;
  } else if (e.reason == exit_reason::kExceptionNmi && e.source == Source::VmxModel) {
    j["vector"] = e.vector;
    j["vector_name"] = str(exception_name(e.vector));
    if (e.has_error_code) j["error_code"] = e.error_code;
    if (e.vector == 14) j["cr2"] = e.cr2;
    if (!e.reg.empty()) {  // a store into a shadowed page table (no-ept): which entry, where, what
      j["register"] = str(e.reg);
      j["gpa"] = e.gpa;
      j["value"] = e.value;
    }
  } else if (e.reason == exit_reason::kVmcall) {
    j["number"] = e.number;
  } else if (e.reason == exit_reason::kCpuid) {
    j["value"] = e.value;  // the leaf (EAX)
  }
}

void add_trap(Json& j, const Event& e, bool is_return) {
  if (!is_return) {
    j["vector"] = e.vector;
    j["vector_name"] = str(exception_name(e.vector));
    if (e.has_error_code) j["error_code"] = e.error_code;
    if (e.vector == 14) j["cr2"] = e.cr2;
  }
  j["from_cpl"] = e.from_cpl;
  j["to_cpl"] = e.to_cpl;
  j["cause"] = str(cause_name(e.cause));
  j["rip"] = e.rip;
  j["rip_to"] = e.rip_to;
}

}  // namespace

Json trace::event_json(const Event& e) {
  Json j;
  j["seq"] = e.seq;
  j["time_ns"] = e.time_ns;
  j["vcpu"] = e.vcpu;
  j["kind"] = str(kind_name(e.kind));
  j["source"] = str(source_name(e.source));
  switch (e.kind) {
    case EventKind::VmExit: add_vm_exit(j, e); break;
    case EventKind::Trap: add_trap(j, e, false); break;
    case EventKind::TrapReturn: add_trap(j, e, true); break;
    case EventKind::Hypercall:
      j["number"] = e.number;
      j["args"] = e.args;
      j["result"] = e.result;
      j["transport"] = str(transport_name(e.transport));
      j["rip"] = e.rip;
      break;
    case EventKind::Device:
      j["device"] = str(e.device);
      j["register"] = str(e.reg);
      j["direction"] = str(direction_name(e.direction));
      j["value"] = e.value;
      j["size"] = e.size;
      j["count"] = e.count;
      j["duration_ns"] = e.duration_ns;
      break;
    case EventKind::IrqInject:
      if (e.name != kIrqViaIrqfd) j["vector"] = e.vector;  // an irqfd leaves the vector to KVM's PIC
      if (!e.name.empty()) j["via"] = str(e.name);
      if (e.name == kIrqViaIrqfd) {
        j["irq"] = e.value;
        j["device"] = str(e.device);
      }
      break;
    case EventKind::ModeChange:
      j["cr0"] = e.cr0;
      j["cr4"] = e.cr4;
      j["efer"] = e.efer;
      j["prev_cr0"] = e.prev_cr0;
      j["prev_cr4"] = e.prev_cr4;
      j["prev_efer"] = e.prev_efer;
      break;
    case EventKind::Step:
      j["rip"] = e.rip;
      j["cpl"] = e.cpl;
      j["bytes"] = hex_bytes(e.text);
      break;
    case EventKind::Counter:
      j["name"] = str(e.name);
      j["value"] = e.value;
      break;
    case EventKind::Output: j["text"] = str(e.text); break;
    case EventKind::Marker:
      j["name"] = str(e.name);
      j["phase"] = str(phase_name(e.phase));
      j["value"] = e.value;
      break;
    case EventKind::RunEnd:
      j["reason"] = str(run_end_name(e.end_reason));
      j["message"] = str(e.text);
      j["value"] = e.value;
      if (e.regs) j["regs"] = regs_json(*e.regs);
      break;
  }
  return j;
}

std::string event_to_json(const Event& e) {
  return trace::dump(trace::event_json(e));
}

std::string header_to_json(const TraceHeader& h) {
  Json j{
      {"format_version", h.format_version}, {"schema_version", h.schema_version}, {"scenario", h.scenario},
      {"mode", h.mode},                     {"level", h.level},                   {"params", h.params},
      {"host_kernel", h.host_kernel},       {"kvm_flavour", h.kvm_flavour},       {"cpu_model", h.cpu_model},
      {"tool_version", h.tool_version},     {"start_unix_ns", h.start_unix_ns},   {"start_mono_ns", h.start_mono_ns},
      {"vcpus", h.vcpus},
  };
  return trace::dump(j);
}

}  // namespace ringscope
