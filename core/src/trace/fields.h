// fields.h — the Event as the trace codec sees it: a flat list of numbered
// fields, each with a coding, a range and its place inside Event, plus the
// per-kind order in which the presence mask lists them.
//
// Why a table: the encoder compares an event with a recent event of the same
// kind field by field and writes only what changed. With every field
// described by (offset, width) the codec reads and writes any of them with
// one loop, and every Event field round-trips exactly (nothing is dropped
// just because a kind "should not" use it). Strings are per-chunk string ids
// here, the GuestRegs pointer a presence flag.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "format.h"
#include "ringscope/event_schema.h"

namespace ringscope::trace {

// Fields are the schema's (event_schema.h field::Id): a field's number is
// its bit in the canonical field set, and per kind the schema's field order
// gives its bit in the presence mask.
using Field = FieldId;
using namespace ringscope::field;
static_assert(kFieldCount <= 64, "the presence mask is a uint64");
static_assert(kDevice + 4 == kRegs, "the strings are kDevice + i, then regs");
inline constexpr int kStringFields = kStringFieldCount;  // device, reg, name, text: kDevice + i

enum class Coding : uint8_t {
  Raw,     // varint of the value
  Delta,   // zigzag varint of (value - reference value)
  String,  // string reference (format.h kStr*)
  Regs,    // presence only; the GuestRegs follow as 26 varints
};

// How the file codes each field: the one thing about a field that is the
// codec's own (everything else is the schema's kEventFields).
inline constexpr std::array<Coding, kFieldCount> kCoding = [] {
  std::array<Coding, kFieldCount> c{};
  for (int f = 0; f < kFieldCount; ++f) {
    switch (kEventFields[f].type) {
      case FieldType::String: c[f] = Coding::String; break;
      case FieldType::Regs: c[f] = Coding::Regs; break;
      default: c[f] = Coding::Raw; break;
    }
  }
  // Values that move by small steps from a recent event's.
  for (Field f : {kDuration, kRip, kPort, kCount, kValue, kGpa, kLength, kCr2, kRipTo}) c[f] = Coding::Delta;
  return c;
}();

struct FieldInfo {
  Coding coding;
  uint64_t max;     // largest valid value: the C++ field's width, or the enum's last value
  uint16_t offset;  // where the field lives in Event
  uint8_t width;    // its size in bytes (1, 2, 4 or 8 for numbers)
};

inline constexpr std::array<FieldInfo, kFieldCount> kFields = [] {
  std::array<FieldInfo, kFieldCount> t{};
  for (int f = 0; f < kFieldCount; ++f)
    t[f] = {kCoding[f], kEventFields[f].max, kEventFields[f].offset, kEventFields[f].width};
  return t;
}();

// Numeric (Raw or Delta): every field before the strings, and those
// appended after kRegs (kAccess).
inline constexpr bool numeric_field(Field f) { return f < kDevice || f > kRegs; }

// The numeric fields (Raw and Delta) all lie in Event bytes [kNumericBegin,
// kNumericEnd): after seq and time_ns, before the strings. The encoder
// compares that span 16 bytes at a time and looks at single fields only in
// the blocks that differ.
inline constexpr size_t kNumericBegin = offsetof(Event, vcpu);
inline constexpr size_t kNumericEnd = offsetof(Event, device);
inline constexpr size_t kNumericBlocks = (kNumericEnd - kNumericBegin + 15) / 16;
static_assert(kNumericBegin == 16 && kNumericBegin + 16 * kNumericBlocks <= sizeof(Event),
              "the block compare reads whole 16-byte blocks inside Event");

// The numeric span of an Event: field f lives at numeric(e) + kFields[f].offset
// - kNumericBegin. The encoder keeps copies of just this span.
inline const uint8_t* numeric(const Event& e) { return reinterpret_cast<const uint8_t*>(&e) + kNumericBegin; }
inline uint8_t* numeric(Event& e) { return reinterpret_cast<uint8_t*>(&e) + kNumericBegin; }

// A numeric field's value, read from a numeric span (which must have at
// least 8 bytes from the field's offset: Event does, and so does the
// encoder's copy). One 8-byte load and a mask from a table, no branch on
// the width.
struct FieldAccess {
  std::array<uint16_t, kFieldCount> at{};    // offset in the numeric span
  std::array<uint64_t, kFieldCount> mask{};  // the field's width as a mask
  constexpr FieldAccess() {
    for (int f = 0; f < kFieldCount; ++f) {
      at[f] = static_cast<uint16_t>(kFields[f].offset - kNumericBegin);
      mask[f] = kFields[f].width >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * kFields[f].width)) - 1;
    }
  }
};
inline constexpr FieldAccess kFieldAccess{};
inline uint64_t load_field(const uint8_t* num, Field f) {
  uint64_t v;
  std::memcpy(&v, num + kFieldAccess.at[f], 8);
  return v & kFieldAccess.mask[f];
}
static_assert(offsetof(Event, via) + 8 <= kNumericBegin + 16 * kNumericBlocks,
              "load_field reads 8 bytes from every numeric field");
// Stores a numeric field; `v` must be within kFields[f].max (so enums and
// bools get valid values).
inline void store_field(uint8_t* num, Field f, uint64_t v) {
  const FieldInfo& fi = kFields[f];
  uint8_t* p = num + (fi.offset - kNumericBegin);
  switch (fi.width) {
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
inline std::string_view& string_field(Event& e, Field f) { return string_value(e, f); }
inline std::string_view string_field(const Event& e, Field f) { return string_value(e, f); }

// The numeric span in 4-byte lanes: which fields each lane holds. A lane
// that one field covers whole ("sure") changed exactly when that field did;
// a lane shared with other fields or padding ("maybe") only says which
// fields to compare one by one.
inline constexpr size_t kNumericLanes = 4 * kNumericBlocks;
struct LaneFields {
  std::array<uint64_t, kNumericLanes> sure{}, maybe{};
  constexpr LaneFields() {
    for (int f = 0; f < kFieldCount; ++f) {
      if (kFields[f].coding != Coding::Raw && kFields[f].coding != Coding::Delta) continue;
      const size_t begin = kFields[f].offset - kNumericBegin, end = begin + kFields[f].width;
      for (size_t l = begin / 4; l * 4 < end; ++l) {
        if (begin <= l * 4 && l * 4 + 4 <= end) {
          sure[l] |= uint64_t{1} << f;
        } else {
          maybe[l] |= uint64_t{1} << f;
        }
      }
    }
  }
};
inline constexpr LaneFields kLaneFields{};

// String ids inside the codec: 0 is the empty string, 1..N per-chunk
// interned strings. Two sentinels mark strings that are not in the table.
using StringId = uint32_t;
inline constexpr StringId kIdInline = ~StringId{0};   // written inline every time
inline constexpr StringId kIdNew = ~StringId{0} - 1;  // writer only: interned when encoded
using StringIds = std::array<StringId, kStringFields>;

// An event's identity for choosing a reference: events with the same key
// (same vCPU, same instruction, same port, same device register or counter)
// are usually identical except for value, time and duration.
inline bool same_key(const uint8_t* a, const StringIds& a_ids, const uint8_t* b, const StringIds& b_ids) {
  return load_field(a, kRip) == load_field(b, kRip) && load_field(a, kPort) == load_field(b, kPort) &&
         load_field(a, kVcpu) == load_field(b, kVcpu) && a_ids[kReg - kDevice] == b_ids[kReg - kDevice] &&
         a_ids[kName - kDevice] == b_ids[kName - kDevice] && a_ids[0] == b_ids[0];
}

// Per kind: the mask bit of each field, the fields that change most often for
// that kind first, so a typical event's mask fits in one byte (the schema's
// per-kind field list, event_schema.h field_order).
using KindOrder = FieldOrder;
inline const KindOrder& kind_order(EventKind kind) { return field_order(kind); }

// The most recent kHistoryDepth distinct-key events of each kind in this
// chunk, most recent first, as slots of type Slot (the encoder keeps copies,
// the decoder indices of events it already decoded). Encoder and decoder
// update it identically, so a reference position in the tag means the same
// event on both sides. At the start of a chunk each kind's only entry is the
// default slot (a default-constructed Event).
template <typename Slot>
class RecentEvents {
 public:
  void reset(Slot default_slot) {
    for (auto& o : order_) o[0] = default_slot;
    count_.fill(1);
  }
  int size(EventKind kind) const { return count_[k(kind)]; }
  Slot at(EventKind kind, int pos) const { return order_[k(kind)][pos]; }
  // Position of the most recent entry for which same(slot) holds, or -1.
  template <typename Same>
  int find(EventKind kind, Same&& same) const {
    const auto ki = k(kind);
    for (int i = 0; i < count_[ki]; ++i) {
      if (same(order_[ki][i])) return i;
    }
    return -1;
  }
  // Makes `slot` the most recent entry of its kind; it replaces the entry at
  // `found` (from find()), or the oldest when the history is full. Returns
  // true and sets `left` when an entry left the history.
  bool push(EventKind kind, int found, Slot slot, Slot& left) {
    const auto ki = k(kind);
    auto& order = order_[ki];
    int from;
    bool leaves = true;
    if (found >= 0) {
      from = found;
    } else if (count_[ki] < kHistoryDepth) {
      from = count_[ki]++;
      leaves = false;
    } else {
      from = kHistoryDepth - 1;  // the oldest
    }
    if (leaves) left = order[from];
    for (int i = from; i > 0; --i) order[i] = order[i - 1];
    order[0] = slot;
    return leaves;
  }

 private:
  static int k(EventKind kind) { return static_cast<int>(kind); }
  std::array<std::array<Slot, kHistoryDepth>, kMaxEventKinds> order_{};
  std::array<uint8_t, kMaxEventKinds> count_{};
};

}  // namespace ringscope::trace
