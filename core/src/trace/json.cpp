// json.cpp — the JSON Lines form of events and headers (docs/trace-format.md "JSON
// form"): flat snake_case keys, the common ones first, then the keys the
// kind's row of the schema table lists (event_schema.h), then its sub-kind's.
// Lab checkers and scripts key on these names; docs/trace-format.md lists them.
#include <string>

#include "json_internal.h"
#include "ringscope/bt_insns.h"
#include "ringscope/event_schema.h"
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
  return Json{{"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx}, {"rdx", r.rdx}, {"rsi", r.rsi},   {"rdi", r.rdi},
              {"rbp", r.rbp}, {"rsp", r.rsp}, {"r8", r.r8},   {"r9", r.r9},   {"r10", r.r10},   {"r11", r.r11},
              {"r12", r.r12}, {"r13", r.r13}, {"r14", r.r14}, {"r15", r.r15}, {"rip", r.rip},   {"rflags", r.rflags},
              {"cr0", r.cr0}, {"cr2", r.cr2}, {"cr3", r.cr3}, {"cr4", r.cr4}, {"efer", r.efer}, {"cs", r.cs},
              {"ss", r.ss},   {"cpl", r.cpl}};
}

// One key of a kind's list (event_schema.h JsonKey), in the form it asks for.
void add_key(Json& j, const Event& e, const JsonKey& k) {
  if (k.when && !k.when(e)) return;
  const std::string key(k.key);
  const FieldSpec& f = field_spec(k.field);
  switch (k.form) {
    case JsonForm::Label: j[key] = f.label ? f.label(field_value(e, k.field)) : std::string(); return;
    case JsonForm::Args: j[key] = e.args; return;
    case JsonForm::Bytes: j[key] = hex_bytes(string_value(e, k.field)); return;
    case JsonForm::Insns: {
      Json names = Json::array();
      const uint64_t mask = field_value(e, k.field);
      for (int i = 1; i < kBtInsnCount; ++i)
        if (mask & bt_insn_bit(static_cast<BtInsn>(i))) names.push_back(str(bt_insn_name(static_cast<BtInsn>(i))));
      j[key] = std::move(names);
      return;
    }
    case JsonForm::Value: break;
  }
  switch (f.type) {
    case FieldType::Number: j[key] = field_value(e, k.field); break;
    case FieldType::Flag: j[key] = field_value(e, k.field) != 0; break;
    case FieldType::Enum: j[key] = f.label(field_value(e, k.field)); break;
    case FieldType::String: j[key] = str(string_value(e, k.field)); break;
    case FieldType::Regs:
      if (e.regs) j[key] = regs_json(*e.regs);
      break;
  }
}

}  // namespace

Json trace::event_json(const Event& e) {
  Json j;
  j["seq"] = e.seq;
  j["time_ns"] = e.time_ns;
  j["vcpu"] = e.vcpu;
  j["kind"] = str(kind_name(e.kind));
  j["source"] = str(source_name(e.source));
  const KindSpec& kind = kind_spec(e.kind);
  for (const JsonKey& k : kind.json) add_key(j, e, k);
  if (kind.sub_json)
    for (const JsonKey& k : kind.sub_json(e)) add_key(j, e, k);
  return j;
}

std::string event_to_json(const Event& e) { return trace::dump(trace::event_json(e)); }

std::string header_to_json(const TraceHeader& h) {
  Json j{
      {"format_version", h.format_version},
      {"schema_version", h.schema_version},
      {"scenario", h.scenario},
      {"mode", h.mode},
      {"level", h.level},
      {"params", h.params},
      {"host_kernel", h.host_kernel},
      {"kvm_flavour", h.kvm_flavour},
      {"cpu_model", h.cpu_model},
      {"tool_version", h.tool_version},
      {"start_unix_ns", h.start_unix_ns},
      {"start_mono_ns", h.start_mono_ns},
      {"vcpus", h.vcpus},
      {"disk_cache", h.disk_cache},
  };
  return trace::dump(j);
}

}  // namespace ringscope
