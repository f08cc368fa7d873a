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
#include "ringscope/event.h"

namespace ringscope::trace {

enum Field : uint8_t {
  kVcpu, kSource, kReason, kHandledBy, kDuration, kRip, kCpl, kDirection, kSize, kPort, kCount, kValue,
  kGpa, kLength, kVector, kErrorCode, kHasErrorCode, kCr2, kFromCpl, kToCpl, kCause, kRipTo, kNumber,
  kArg0, kArg1, kArg2, kArg3, kResult, kTransport, kCr0, kCr4, kEfer, kPrevCr0, kPrevCr4, kPrevEfer,
  kPhase, kEndReason, kDevice, kReg, kName, kText, kRegs,
  kFieldCount
};
static_assert(kFieldCount <= 64, "the presence mask is a uint64");
static_assert(kDevice + 4 == kRegs && kRegs + 1 == kFieldCount, "numeric fields come first, then strings, then regs");
inline constexpr int kStringFields = 4;  // device, reg, name, text: kDevice + i

enum class Coding : uint8_t {
  Raw,     // varint of the value
  Delta,   // zigzag varint of (value - reference value)
  String,  // string reference (format.h kStr*)
  Regs,    // presence only; the GuestRegs follow as 26 varints
};

struct FieldInfo {
  Coding coding;
  uint64_t max;     // largest valid value: the C++ field's width, or the enum's last value
  uint16_t offset;  // where the field lives in Event
  uint8_t width;    // its size in bytes (1, 2, 4 or 8 for numbers)
};

inline constexpr uint64_t kU8 = 0xff, kU16 = 0xffff, kU32 = 0xffffffff, kU64 = ~uint64_t{0};

#define RS_AT(member) static_cast<uint16_t>(offsetof(Event, member)), static_cast<uint8_t>(sizeof(Event::member))
#define RS_ARG(i) static_cast<uint16_t>(offsetof(Event, args) + 8 * (i)), uint8_t{8}
inline constexpr std::array<FieldInfo, kFieldCount> kFields = {{
    {Coding::Raw, kU32, RS_AT(vcpu)},
    {Coding::Raw, kSourceCount - 1, RS_AT(source)},
    {Coding::Raw, kU16, RS_AT(reason)},
    {Coding::Raw, 2, RS_AT(handled_by)},
    {Coding::Delta, kU64, RS_AT(duration_ns)},
    {Coding::Delta, kU64, RS_AT(rip)},
    {Coding::Raw, kU8, RS_AT(cpl)},
    {Coding::Raw, 4, RS_AT(direction)},
    {Coding::Raw, kU8, RS_AT(size)},
    {Coding::Delta, kU16, RS_AT(port)},
    {Coding::Delta, kU32, RS_AT(count)},
    {Coding::Delta, kU64, RS_AT(value)},
    {Coding::Delta, kU64, RS_AT(gpa)},
    {Coding::Delta, kU32, RS_AT(length)},
    {Coding::Raw, kU8, RS_AT(vector)},
    {Coding::Raw, kU32, RS_AT(error_code)},
    {Coding::Raw, 1, RS_AT(has_error_code)},
    {Coding::Delta, kU64, RS_AT(cr2)},
    {Coding::Raw, kU8, RS_AT(from_cpl)},
    {Coding::Raw, kU8, RS_AT(to_cpl)},
    {Coding::Raw, 6, RS_AT(cause)},
    {Coding::Delta, kU64, RS_AT(rip_to)},
    {Coding::Raw, kU64, RS_AT(number)},
    {Coding::Raw, kU64, RS_ARG(0)},
    {Coding::Raw, kU64, RS_ARG(1)},
    {Coding::Raw, kU64, RS_ARG(2)},
    {Coding::Raw, kU64, RS_ARG(3)},
    {Coding::Raw, kU64, RS_AT(result)},
    {Coding::Raw, 3, RS_AT(transport)},
    {Coding::Raw, kU64, RS_AT(cr0)},
    {Coding::Raw, kU64, RS_AT(cr4)},
    {Coding::Raw, kU64, RS_AT(efer)},
    {Coding::Raw, kU64, RS_AT(prev_cr0)},
    {Coding::Raw, kU64, RS_AT(prev_cr4)},
    {Coding::Raw, kU64, RS_AT(prev_efer)},
    {Coding::Raw, 2, RS_AT(phase)},
    {Coding::Raw, kRunEndReasonCount - 1, RS_AT(end_reason)},
    {Coding::String, kU64, RS_AT(device)},
    {Coding::String, kU64, RS_AT(reg)},
    {Coding::String, kU64, RS_AT(name)},
    {Coding::String, kU64, RS_AT(text)},
    {Coding::Regs, 1, RS_AT(regs)},
}};
#undef RS_AT
#undef RS_ARG

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
static_assert(offsetof(Event, end_reason) + 8 <= kNumericBegin + 16 * kNumericBlocks,
              "load_field reads 8 bytes from every numeric field");
// Stores a numeric field; `v` must be within kFields[f].max (so enums and
// bools get valid values).
inline void store_field(uint8_t* num, Field f, uint64_t v) {
  const FieldInfo& fi = kFields[f];
  uint8_t* p = num + (fi.offset - kNumericBegin);
  switch (fi.width) {
    case 1: *p = static_cast<uint8_t>(v); break;
    case 2: { auto x = static_cast<uint16_t>(v); std::memcpy(p, &x, 2); break; }
    case 4: { auto x = static_cast<uint32_t>(v); std::memcpy(p, &x, 4); break; }
    default: std::memcpy(p, &v, 8); break;
  }
}
inline std::string_view& string_field(Event& e, Field f) {
  return f == kDevice ? e.device : f == kReg ? e.reg : f == kName ? e.name : e.text;
}
inline std::string_view string_field(const Event& e, Field f) {
  return f == kDevice ? e.device : f == kReg ? e.reg : f == kName ? e.name : e.text;
}

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
// that kind first, so a typical event's mask fits in one byte.
struct KindOrder {
  std::array<uint8_t, kFieldCount> field_at{};  // mask bit -> field
  std::array<uint8_t, kFieldCount> bit_of{};    // field -> mask bit
};
const KindOrder& kind_order(EventKind kind);

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
  std::array<std::array<Slot, kHistoryDepth>, kEventKindCount> order_{};
  std::array<uint8_t, kEventKindCount> count_{};
};

}  // namespace ringscope::trace
