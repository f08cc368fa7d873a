// event_schema.cpp — the field table, the access sub-kinds, the kind
// registry and the readers' generic pieces (event_schema.h). The built-in
// kinds' rows are in event_kinds.cpp.
//
// [SECTION] fields     one row per Event field
// [SECTION] access     the vm_exit sub-kinds
// [SECTION] registry   the kinds, their codec field order
// [SECTION] readers    CPL, generic summary
#include "ringscope/event_schema.h"

#include <fmt/format.h>

#include <cstring>

#include "event_kinds.h"
#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"

namespace ringscope {

// ---- [SECTION] fields -------------------------------------------------------

namespace {

template <typename Enum, std::string_view (*Name)(Enum)>
std::string enum_label(uint64_t v) {
  return std::string(Name(static_cast<Enum>(v)));
}

}  // namespace

namespace field_label {
std::string source(uint64_t v) { return enum_label<Source, source_name>(v); }
std::string reason(uint64_t v) { return exit_reason_name(static_cast<uint16_t>(v)); }
std::string handled_by(uint64_t v) { return enum_label<HandledBy, handled_by_name>(v); }
std::string direction(uint64_t v) { return enum_label<Direction, direction_name>(v); }
std::string vector(uint64_t v) { return std::string(exception_name(static_cast<uint8_t>(v))); }
std::string cause(uint64_t v) { return enum_label<TrapCause, cause_name>(v); }
std::string transport(uint64_t v) { return enum_label<Transport, transport_name>(v); }
std::string phase(uint64_t v) { return enum_label<MarkerPhase, phase_name>(v); }
std::string end_reason(uint64_t v) { return enum_label<RunEndReason, run_end_name>(v); }
std::string access(uint64_t v) { return enum_label<AccessKind, access_name>(v); }
std::string world(uint64_t v) { return enum_label<BtWorld, world_name>(v); }
std::string insn(uint64_t v) { return enum_label<BtInsn, bt_insn_name>(v); }
std::string via(uint64_t v) { return enum_label<IrqVia, irq_via_name>(v); }
}  // namespace field_label

const FieldSpec& field_spec(FieldId f) { return kEventFields[f]; }

bool is_numeric_field(FieldId f) {
  const FieldType t = kEventFields[f].type;
  return t == FieldType::Number || t == FieldType::Flag || t == FieldType::Enum;
}

uint64_t field_value(const Event& e, FieldId f) {
  const FieldSpec& s = kEventFields[f];
  const auto* p = reinterpret_cast<const uint8_t*>(&e) + s.offset;
  switch (s.width) {
    case 1: return *p;
    case 2: {
      uint16_t x;
      std::memcpy(&x, p, 2);
      return x;
    }
    case 4: {
      uint32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    default: {
      uint64_t x;
      std::memcpy(&x, p, 8);
      return x;
    }
  }
}

void set_field_value(Event& e, FieldId f, uint64_t v) {
  const FieldSpec& s = kEventFields[f];
  store_width(reinterpret_cast<uint8_t*>(&e) + s.offset, s.width, v);
}

void store_width(void* at, uint8_t width, uint64_t v) {
  auto* p = static_cast<uint8_t*>(at);
  switch (width) {
    case 1: *p = static_cast<uint8_t>(v); break;
    case 2: {
      auto x = static_cast<uint16_t>(v);
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      auto x = static_cast<uint32_t>(v);
      std::memcpy(p, &x, 4);
      break;
    }
    default: std::memcpy(p, &v, 8); break;
  }
}

std::string_view string_value(const Event& e, FieldId f) {
  return f == field::kDevice ? e.device : f == field::kReg ? e.reg : f == field::kName ? e.name : e.text;
}
std::string_view& string_value(Event& e, FieldId f) {
  return f == field::kDevice ? e.device : f == field::kReg ? e.reg : f == field::kName ? e.name : e.text;
}

// ---- [SECTION] access -------------------------------------------------------

namespace {

using namespace std::string_view_literals;
using namespace field;

constexpr std::array<std::string_view, kAccessKindCount> kAccessNames = {
    ""sv, "port"sv, "mmio"sv, "msr"sv, "cr"sv, "page_table_store"sv, "exception"sv, "vmcall"sv, "cpuid"sv,
};

bool has_error_code(const Event& e) { return e.has_error_code; }
bool page_fault(const Event& e) { return e.vector == 14; }

constexpr JsonKey kPortKeys[] = {
    {"port", kPort}, {"size", kSize}, {"direction", kDirection}, {"value", kValue}, {"count", kCount}};
constexpr JsonKey kMmioKeys[] = {{"gpa", kGpa}, {"length", kLength}, {"direction", kDirection}, {"value", kValue}};
constexpr JsonKey kMsrKeys[] = {{"msr", kNumber}, {"direction", kDirection}, {"value", kValue}};
constexpr JsonKey kCrKeys[] = {{"register", kReg}, {"direction", kDirection}, {"value", kValue}};
constexpr JsonKey kExceptionKeys[] = {{"vector", kVector},
                                      {"vector_name", kVector, JsonForm::Label},
                                      {"error_code", kErrorCode, JsonForm::Value, has_error_code},
                                      {"cr2", kCr2, JsonForm::Value, page_fault}};
constexpr JsonKey kPageTableStoreKeys[] = {{"vector", kVector},
                                           {"vector_name", kVector, JsonForm::Label},
                                           {"error_code", kErrorCode, JsonForm::Value, has_error_code},
                                           {"cr2", kCr2, JsonForm::Value, page_fault},
                                           {"register", kReg},  // which entry: "pte", "pde", ...
                                           {"gpa", kGpa},
                                           {"value", kValue}};
constexpr JsonKey kVmcallKeys[] = {{"number", kNumber}};
constexpr JsonKey kCpuidKeys[] = {{"value", kValue}};  // the leaf (EAX)

}  // namespace

AccessKind exit_access(const Event& e) {
  if (e.access != AccessKind::None || e.kind != EventKind::VmExit) return e.access;
  switch (e.reason) {
    case exit_reason::kIoInstruction: return AccessKind::Port;
    case exit_reason::kEptViolation: return AccessKind::Mmio;
    case exit_reason::kRdmsr:
    case exit_reason::kWrmsr: return AccessKind::Msr;
    case exit_reason::kCrAccess: return AccessKind::Cr;
    case exit_reason::kVmcall: return AccessKind::Vmcall;
    case exit_reason::kCpuid: return AccessKind::Cpuid;
    case exit_reason::kExceptionNmi:
      if (e.source != Source::VmxModel) return AccessKind::None;
      return e.reg.empty() ? AccessKind::Exception : AccessKind::PageTableStore;
    default: return AccessKind::None;
  }
}

IrqVia irq_via(const Event& e) {
  if (e.via != IrqVia::None || e.kind != EventKind::IrqInject) return e.via;
  return irq_via_from_name(e.name).value_or(IrqVia::None);  // schema 4 and older: the word was the name
}

std::string_view access_name(AccessKind a) {
  auto i = static_cast<size_t>(a);
  return i < kAccessNames.size() ? kAccessNames[i] : std::string_view{};
}

std::span<const JsonKey> access_json(AccessKind a) {
  switch (a) {
    case AccessKind::Port: return kPortKeys;
    case AccessKind::Mmio: return kMmioKeys;
    case AccessKind::Msr: return kMsrKeys;
    case AccessKind::Cr: return kCrKeys;
    case AccessKind::PageTableStore: return kPageTableStoreKeys;
    case AccessKind::Exception: return kExceptionKeys;
    case AccessKind::Vmcall: return kVmcallKeys;
    case AccessKind::Cpuid: return kCpuidKeys;
    case AccessKind::None: break;
  }
  return {};
}

// ---- [SECTION] registry -----------------------------------------------------

namespace {

FieldOrder make_order(std::span<const FieldId> hot) {
  FieldOrder o{};
  std::array<bool, kEventFieldCount> used{};
  int bit = 0;
  for (FieldId f : hot) {
    o.field_at[bit] = f;
    o.bit_of[f] = static_cast<uint8_t>(bit++);
    used[f] = true;
  }
  for (int f = 0; f < kEventFieldCount; ++f) {
    if (used[f]) continue;
    o.field_at[bit] = static_cast<uint8_t>(f);
    o.bit_of[f] = static_cast<uint8_t>(bit++);
  }
  return o;
}

struct Registry {
  std::array<KindSpec, kMaxEventKinds> specs{};
  std::array<FieldOrder, kMaxEventKinds> orders{};
  int count = 0;
  Registry() {
    for (const KindSpec& s : builtin_kinds()) {
      specs[count] = s;
      orders[count] = make_order(s.fields);
      ++count;
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const KindSpec& kind_spec(EventKind k) {
  const Registry& r = registry();
  const auto i = static_cast<size_t>(k);
  return r.specs[i < kMaxEventKinds ? i : kMaxEventKinds - 1];
}

bool kind_defined(EventKind k) { return static_cast<int>(k) < registry().count; }

int event_kind_count() { return registry().count; }

const FieldOrder& field_order(EventKind k) {
  const auto i = static_cast<size_t>(k);
  return registry().orders[i < kMaxEventKinds ? i : 0];
}

std::optional<EventKind> define_event_kind(const KindSpec& spec) {
  Registry& r = registry();
  if (r.count >= kMaxEventKinds || spec.name.empty() || kind_from_name(spec.name)) return std::nullopt;
  r.specs[r.count] = spec;
  r.orders[r.count] = make_order(spec.fields);
  return static_cast<EventKind>(r.count++);
}

std::string_view kind_name(EventKind k) { return kind_defined(k) ? kind_spec(k).name : std::string_view{}; }

std::optional<EventKind> kind_from_name(std::string_view s) {
  const Registry& r = registry();
  for (int k = 0; k < r.count; ++k)
    if (r.specs[k].name == s) return static_cast<EventKind>(k);
  return std::nullopt;
}

// ---- [SECTION] readers ------------------------------------------------------

bool event_at_cpl(const Event& e, int cpl) {
  switch (kind_spec(e.kind).cpl) {
    case CplAt::Cpl: return e.cpl == cpl;
    case CplAt::FromTo: return e.from_cpl == cpl || e.to_cpl == cpl;
    case CplAt::None: break;
  }
  return false;
}

std::optional<CplEnds> event_cpl_ends(const Event& e) {
  switch (kind_spec(e.kind).cpl) {
    case CplAt::Cpl: return CplEnds{e.cpl, e.cpl};
    case CplAt::FromTo: return CplEnds{e.from_cpl, e.to_cpl};
    case CplAt::None: break;
  }
  return std::nullopt;
}

std::string generic_summary(const Event& e) {
  std::string s;
  for (FieldId f : kind_spec(e.kind).fields) {
    const FieldSpec& fs = field_spec(f);
    if (f == kVcpu || f == kSource) continue;  // the line's frame says these
    std::string v;
    if (fs.type == FieldType::String) {
      if (string_value(e, f).empty()) continue;
      v = std::string(string_value(e, f));
    } else if (is_numeric_field(f)) {
      const uint64_t x = field_value(e, f);
      if (x == 0) continue;
      v = fs.label ? fs.label(x) : fs.hex ? fmt::format("0x{:x}", x) : fmt::format("{}", x);
    } else {
      continue;
    }
    if (!s.empty()) s += "  ";
    s += fmt::format("{} {}", fs.name, v);
  }
  return s;
}

}  // namespace ringscope
