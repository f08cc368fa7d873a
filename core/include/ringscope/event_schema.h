// event_schema.h — the one table of what an event kind means (trace schema,
// docs/trace-format.md "Events").
//
// Per field of Event: its name, type, JSON key, whether it reads best in hex,
// and where it lives. Per kind: its name, the fields it uses (most volatile
// first: the trace codec's presence-mask order), its JSON keys, its summary
// and explanation, its timeline row and colour key, its title in the
// exporters (Perfetto/Chrome slice names) and where it keeps the guest's CPL.
//
// Every reader dispatches through this table: the trace codec, the JSON
// form, `show`, the explanations, the exporters, the viewer's store, rows and
// colours. Adding a kind is one row here (a KindSpec) plus the code that
// produces it; tests/core/event_schema_test.cpp proves that by defining a
// test-only kind and reading it back through every reader.
//
// Sub-kinds that readers used to guess from which fields are set are explicit
// tags: a trap's `cause` (TrapCause), a vm_exit's `access` (AccessKind) and
// an irq_inject's `via` (IrqVia), each with its own small table below.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ringscope/event.h"

namespace ringscope {

// ---- fields -----------------------------------------------------------------

// Every field of Event the trace carries, numbered in the trace format's
// field order: a field's number is its bit in the codec's canonical field
// set, so numbers never change and new fields are appended (kAccess came
// after kRegs). seq, time_ns and kind are the event's frame, not fields.
namespace field {
enum Id : uint8_t {
  kVcpu,
  kSource,
  kReason,
  kHandledBy,
  kDuration,
  kRip,
  kCpl,
  kDirection,
  kSize,
  kPort,
  kCount,
  kValue,
  kGpa,
  kLength,
  kVector,
  kErrorCode,
  kHasErrorCode,
  kCr2,
  kFromCpl,
  kToCpl,
  kCause,
  kRipTo,
  kNumber,
  kArg0,
  kArg1,
  kArg2,
  kArg3,
  kResult,
  kTransport,
  kCr0,
  kCr4,
  kEfer,
  kPrevCr0,
  kPrevCr4,
  kPrevEfer,
  kPhase,
  kEndReason,
  kDevice,
  kReg,
  kName,
  kText,
  kRegs,
  kAccess,     // schema 2: a vm_exit's AccessKind
  kFromWorld,  // schema 3: a world_switch's BtWorld left
  kToWorld,    // schema 3: a world_switch's BtWorld entered
  kInsn,       // schema 3: a bt_callout's BtInsn
  kVia,        // schema 5: an irq_inject's IrqVia
  kFieldCount
};
}  // namespace field
using FieldId = field::Id;
inline constexpr int kEventFieldCount = field::kFieldCount;
inline constexpr int kStringFieldCount = 4;  // device, reg, name, text: field::kDevice + i

enum class FieldType : uint8_t {
  Number,  // an unsigned integer of `width` bytes
  Flag,    // a bool
  Enum,    // an enumerator; `label` names it
  String,  // a string_view (device, reg, name, text)
  Regs,    // the GuestRegs pointer
};

struct FieldSpec {
  std::string_view name;  // as `show`'s generic summary prints it: "error_code"
  FieldType type;
  std::string_view json_key;  // the JSON key when a kind lists the field without renaming it
  bool hex;                   // an address, a register or a value best read in hex
  uint16_t offset;            // where it lives in Event
  uint8_t width;              // its size in bytes
  uint64_t max;               // its largest valid value (an enum's last enumerator)
  // The field's value in words, where it has any: an enum's name, an exit
  // reason's name, an exception vector's name. Null for plain numbers.
  std::string (*label)(uint64_t value);
};

// The labels of the fields that have one (event_schema.cpp).
namespace field_label {
std::string source(uint64_t v);
std::string reason(uint64_t v);  // the exit reason's name: "io_instruction"
std::string handled_by(uint64_t v);
std::string direction(uint64_t v);
std::string vector(uint64_t v);  // the exception's name: "#PF page fault"
std::string cause(uint64_t v);
std::string transport(uint64_t v);
std::string phase(uint64_t v);
std::string end_reason(uint64_t v);
std::string access(uint64_t v);
std::string world(uint64_t v);  // "direct", "translated", "monitor"
std::string insn(uint64_t v);   // the bt instruction's name: "popf"
std::string via(uint64_t v);    // "KVM_INTERRUPT", "irqfd", "ipi"
}  // namespace field_label

inline constexpr uint64_t kFieldU8 = 0xff, kFieldU16 = 0xffff, kFieldU32 = 0xffffffff, kFieldU64 = ~uint64_t{0};

// The field table: one row per field::Id, in order.
// name, type, JSON key, hex, where (offset, width), max, label
#define RS_FIELD_AT(member) static_cast<uint16_t>(offsetof(Event, member)), static_cast<uint8_t>(sizeof(Event::member))
#define RS_FIELD_ARG(i) \
  static_cast<uint16_t>(offsetof(Event, args) + 8 * (i)), uint8_t { 8 }
// name, type, JSON key, hex, where, max, label
inline constexpr std::array<FieldSpec, kEventFieldCount> kEventFields = {{
    {"vcpu", FieldType::Number, "vcpu", false, RS_FIELD_AT(vcpu), kFieldU32, nullptr},
    {"source", FieldType::Enum, "source", false, RS_FIELD_AT(source), kSourceCount - 1, field_label::source},
    {"reason", FieldType::Number, "reason", false, RS_FIELD_AT(reason), kFieldU16, field_label::reason},
    {"handled_by", FieldType::Enum, "handled_by", false, RS_FIELD_AT(handled_by), 2, field_label::handled_by},
    {"duration_ns", FieldType::Number, "duration_ns", false, RS_FIELD_AT(duration_ns), kFieldU64, nullptr},
    {"rip", FieldType::Number, "rip", true, RS_FIELD_AT(rip), kFieldU64, nullptr},
    {"cpl", FieldType::Number, "cpl", false, RS_FIELD_AT(cpl), kFieldU8, nullptr},
    {"direction", FieldType::Enum, "direction", false, RS_FIELD_AT(direction), 4, field_label::direction},
    {"size", FieldType::Number, "size", false, RS_FIELD_AT(size), kFieldU8, nullptr},
    {"port", FieldType::Number, "port", true, RS_FIELD_AT(port), kFieldU16, nullptr},
    {"count", FieldType::Number, "count", false, RS_FIELD_AT(count), kFieldU32, nullptr},
    {"value", FieldType::Number, "value", true, RS_FIELD_AT(value), kFieldU64, nullptr},
    {"gpa", FieldType::Number, "gpa", true, RS_FIELD_AT(gpa), kFieldU64, nullptr},
    {"length", FieldType::Number, "length", false, RS_FIELD_AT(length), kFieldU32, nullptr},
    {"vector", FieldType::Number, "vector", true, RS_FIELD_AT(vector), kFieldU8, field_label::vector},
    {"error_code", FieldType::Number, "error_code", true, RS_FIELD_AT(error_code), kFieldU32, nullptr},
    {"has_error_code", FieldType::Flag, "has_error_code", false, RS_FIELD_AT(has_error_code), 1, nullptr},
    {"cr2", FieldType::Number, "cr2", true, RS_FIELD_AT(cr2), kFieldU64, nullptr},
    {"from_cpl", FieldType::Number, "from_cpl", false, RS_FIELD_AT(from_cpl), kFieldU8, nullptr},
    {"to_cpl", FieldType::Number, "to_cpl", false, RS_FIELD_AT(to_cpl), kFieldU8, nullptr},
    {"cause", FieldType::Enum, "cause", false, RS_FIELD_AT(cause), kTrapCauseCount - 1, field_label::cause},
    {"rip_to", FieldType::Number, "rip_to", true, RS_FIELD_AT(rip_to), kFieldU64, nullptr},
    {"number", FieldType::Number, "number", false, RS_FIELD_AT(number), kFieldU64, nullptr},
    {"arg0", FieldType::Number, "args", true, RS_FIELD_ARG(0), kFieldU64, nullptr},
    {"arg1", FieldType::Number, "args", true, RS_FIELD_ARG(1), kFieldU64, nullptr},
    {"arg2", FieldType::Number, "args", true, RS_FIELD_ARG(2), kFieldU64, nullptr},
    {"arg3", FieldType::Number, "args", true, RS_FIELD_ARG(3), kFieldU64, nullptr},
    {"result", FieldType::Number, "result", true, RS_FIELD_AT(result), kFieldU64, nullptr},
    {"transport", FieldType::Enum, "transport", false, RS_FIELD_AT(transport), 3, field_label::transport},
    {"cr0", FieldType::Number, "cr0", true, RS_FIELD_AT(cr0), kFieldU64, nullptr},
    {"cr4", FieldType::Number, "cr4", true, RS_FIELD_AT(cr4), kFieldU64, nullptr},
    {"efer", FieldType::Number, "efer", true, RS_FIELD_AT(efer), kFieldU64, nullptr},
    {"prev_cr0", FieldType::Number, "prev_cr0", true, RS_FIELD_AT(prev_cr0), kFieldU64, nullptr},
    {"prev_cr4", FieldType::Number, "prev_cr4", true, RS_FIELD_AT(prev_cr4), kFieldU64, nullptr},
    {"prev_efer", FieldType::Number, "prev_efer", true, RS_FIELD_AT(prev_efer), kFieldU64, nullptr},
    {"phase", FieldType::Enum, "phase", false, RS_FIELD_AT(phase), 2, field_label::phase},
    {"end_reason", FieldType::Enum, "reason", false, RS_FIELD_AT(end_reason), kRunEndReasonCount - 1,
     field_label::end_reason},
    {"device", FieldType::String, "device", false, RS_FIELD_AT(device), kFieldU64, nullptr},
    {"register", FieldType::String, "register", false, RS_FIELD_AT(reg), kFieldU64, nullptr},
    {"name", FieldType::String, "name", false, RS_FIELD_AT(name), kFieldU64, nullptr},
    {"text", FieldType::String, "text", false, RS_FIELD_AT(text), kFieldU64, nullptr},
    // NOLINTNEXTLINE(bugprone-sizeof-expression): the field is the pointer itself
    {"regs", FieldType::Regs, "regs", false, RS_FIELD_AT(regs), 1, nullptr},
    {"access", FieldType::Enum, "access", false, RS_FIELD_AT(access), kAccessKindCount - 1, field_label::access},
    {"from_world", FieldType::Enum, "from_world", false, RS_FIELD_AT(from_world), kBtWorldCount - 1,
     field_label::world},
    {"to_world", FieldType::Enum, "to_world", false, RS_FIELD_AT(to_world), kBtWorldCount - 1, field_label::world},
    {"instruction", FieldType::Enum, "instruction", false, RS_FIELD_AT(insn), kBtInsnCount - 1, field_label::insn},
    {"via", FieldType::Enum, "via", false, RS_FIELD_AT(via), kIrqViaCount - 1, field_label::via},
}};
#undef RS_FIELD_AT
#undef RS_FIELD_ARG

const FieldSpec& field_spec(FieldId f);
bool is_numeric_field(FieldId f);                           // Number, Flag or Enum: lives in Event's numeric span
uint64_t field_value(const Event& e, FieldId f);            // a numeric field's value, widened
void set_field_value(Event& e, FieldId f, uint64_t value);  // `value` must be within field_spec(f).max
// Writes the low `width` bytes (1, 2, 4 or 8) of `value` at `at`: how a numeric
// field of that width is stored (set_field_value, the viewer's arena).
void store_width(void* at, uint8_t width, uint64_t value);
std::string_view string_value(const Event& e, FieldId f);  // a String field
std::string_view& string_value(Event& e, FieldId f);

// ---- kinds ------------------------------------------------------------------

// One JSON key of a kind: the key, the field it shows, how, and when.
enum class JsonForm : uint8_t {
  Value,  // the field's natural form: a number, an enum's name, a string, a bool
  Label,  // the field's label as a string (reason_name, vector_name)
  Args,   // the four hypercall arguments as one array (field is kArg0)
  Bytes,  // a string field as lower-case hex ("0f01c1")
  Insns,  // a mask of bt instructions (bit n: BtInsn n) as an array of their names (["cli","out"])
};
struct JsonKey {
  std::string_view key;
  FieldId field;
  JsonForm form = JsonForm::Value;
  bool (*when)(const Event&) = nullptr;  // null: always
};

// The mark rows of the viewer's timeline (None: the kind gets no mark).
enum class TimelineRow : uint8_t { Exits = 0, Traps, Hypercalls, Devices, Markers, None };
inline constexpr int kTimelineRowCount = 5;

// Which colour a kind's marks take; the viewer's palette maps keys to
// colours, so a new kind picks one of these.
enum class ColourKey : uint8_t {
  ExitReason,  // by exit reason (the kind's code)
  Trap,        // a trap: #PF stands out from other vectors (the kind's code)
  TrapReturn,
  Hypercall,
  Irq,
  Device,
  Output,
  Marker,
  ModeChange,
  RunEnd,
  Neutral,      // grey
  WorldSwitch,  // bt mode
  BtTranslate,  // bt mode
  BtCallout,    // bt mode
};

// Where an event says which ring the guest was in.
enum class CplAt : uint8_t {
  None,    // nowhere: the event has no guest position
  Cpl,     // `cpl`
  FromTo,  // `from_cpl` and `to_cpl`: a trap or trap_return, at either end
};

struct KindSpec {
  std::string_view name;            // "vm_exit": `show --kind`, JSON "kind", the file's kind number's meaning
  std::span<const FieldId> fields;  // the fields it uses, most volatile first (the codec's mask order)
  std::span<const JsonKey> json;    // JSON keys after seq, time_ns, vcpu, kind, source
  std::string_view about;           // one sentence: what the kind is (the default explanation)
  TimelineRow row = TimelineRow::None;
  ColourKey colour = ColourKey::Neutral;
  CplAt cpl = CplAt::None;
  FieldId code = field::kFieldCount;  // the one number the viewer keeps per event (colour, filter); none
  // The event's payload in one line (`show`, the event list). Null: every
  // non-zero field of `fields` as "name value".
  std::string (*summary)(const Event&) = nullptr;
  // Sentences for a student (the inspector, `show --explain`). Null: `about`.
  std::string (*explain)(const Event&) = nullptr;
  // The slice name in exports (Perfetto, Chrome). Null: `name`.
  std::string (*title)(const Event&) = nullptr;
  // A sub-kind whose JSON keys follow the kind's own (vm_exit: its access).
  std::span<const JsonKey> (*sub_json)(const Event&) = nullptr;
};

// ---- sub-kinds ----------------------------------------------------------------

// A vm_exit's access tag (event.h AccessKind). Producers set it (events.h);
// an event that lacks it (a trace of schema 1, written before the tag
// existed, or an Event made by hand) gets the one rule schema 1 implied:
// by exit reason, and for reason 0 from the VT-x model by whether a
// page-table entry is named. Readers call this, never look at fields.
AccessKind exit_access(const Event& e);
std::string_view access_name(AccessKind a);  // "port", "mmio", "msr", "cr", "page_table_store", ...
// The JSON keys an access adds to a vm_exit's own.
std::span<const JsonKey> access_json(AccessKind a);

// An irq_inject's path (event.h IrqVia). Producers set `via` (events.h); an
// irq_inject without it (a trace of schema 4 or older, which wrote the same
// word into `name`) is read from its name. IrqVia::None for other kinds and
// for an irq_inject that says nothing. Readers call this, never look at
// `via` or `name`.
IrqVia irq_via(const Event& e);

// Room for kinds: the trace's tag byte holds a kind in four bits.
inline constexpr int kMaxEventKinds = 16;

// The kind's row; a kind number nobody defined gets an empty spec (name "").
const KindSpec& kind_spec(EventKind k);
bool kind_defined(EventKind k);
// Kinds defined so far: the built-in ones (EventKind's enumerators), then any
// define_event_kind() added.
int event_kind_count();

// Adds a kind after the built-in ones and returns its number. For tests and
// experiments: call it before any trace is written or read, from one thread.
// Returns nullopt when all kMaxEventKinds are taken or the name is used.
std::optional<EventKind> define_event_kind(const KindSpec& spec);

// The order in which the trace codec's presence mask lists a kind's fields:
// the kind's `fields` first, then every other field in number order (so any
// field of any kind can still be carried). Fixed by the file format: a
// kind's `fields` list never changes once traces with it exist.
struct FieldOrder {
  std::array<uint8_t, kEventFieldCount> field_at{};  // mask bit -> field
  std::array<uint8_t, kEventFieldCount> bit_of{};    // field -> mask bit
};
const FieldOrder& field_order(EventKind k);

// True when the event was in ring `cpl` (either end of a trap); false for
// kinds without a guest position.
bool event_at_cpl(const Event& e, int cpl);

// The rings an event was in when it began and when it ended: a trap or
// trap_return moves from one to the other, an event at one CPL has both the
// same; nullopt for kinds without a guest position. The ring the guest is in
// after the event is `to` (the viewer's CPL band and the exporters' ring
// tracks follow it).
struct CplEnds {
  uint8_t from, to;
};
std::optional<CplEnds> event_cpl_ends(const Event& e);

// The kind's generic summary: "name value" for every non-zero field it uses.
std::string generic_summary(const Event& e);

}  // namespace ringscope
