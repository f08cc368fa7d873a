// fields.h — the Event as the trace codec sees it: a flat array of numbered
// fields, each with a coding and a range, plus the per-kind order in which
// the presence mask lists them.
//
// Why an array: the encoder compares an event with a recent event of the
// same kind field by field and writes only what changed. With every field a
// uint64 slot, that comparison is one loop, and every Event field
// round-trips exactly (nothing is dropped just because a kind "should not"
// use it). Strings are per-chunk string ids here, the GuestRegs pointer a
// presence flag.
#pragma once

#include <array>
#include <cstdint>
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

enum class Coding : uint8_t {
  Raw,     // varint of the value
  Delta,   // zigzag varint of (value - reference value)
  String,  // string reference (format.h kStr*)
  Regs,    // presence only; the GuestRegs follow as 26 varints
};

struct FieldInfo {
  Coding coding;
  uint64_t max;  // largest valid value: the C++ field's width, or the enum's last value
};

inline constexpr uint64_t kU8 = 0xff, kU16 = 0xffff, kU32 = 0xffffffff, kU64 = ~uint64_t{0};

inline constexpr std::array<FieldInfo, kFieldCount> kFields = {{
    {Coding::Raw, kU32},                    // vcpu
    {Coding::Raw, kSourceCount - 1},        // source
    {Coding::Raw, kU16},                    // reason
    {Coding::Raw, 2},                       // handled_by
    {Coding::Delta, kU64},                  // duration_ns
    {Coding::Delta, kU64},                  // rip
    {Coding::Raw, kU8},                     // cpl
    {Coding::Raw, 4},                       // direction
    {Coding::Raw, kU8},                     // size
    {Coding::Delta, kU16},                  // port
    {Coding::Delta, kU32},                  // count
    {Coding::Delta, kU64},                  // value
    {Coding::Delta, kU64},                  // gpa
    {Coding::Delta, kU32},                  // length
    {Coding::Raw, kU8},                     // vector
    {Coding::Raw, kU32},                    // error_code
    {Coding::Raw, 1},                       // has_error_code
    {Coding::Delta, kU64},                  // cr2
    {Coding::Raw, kU8},                     // from_cpl
    {Coding::Raw, kU8},                     // to_cpl
    {Coding::Raw, 6},                       // cause
    {Coding::Delta, kU64},                  // rip_to
    {Coding::Raw, kU64},                    // number
    {Coding::Raw, kU64},                    // args[0]
    {Coding::Raw, kU64},                    // args[1]
    {Coding::Raw, kU64},                    // args[2]
    {Coding::Raw, kU64},                    // args[3]
    {Coding::Raw, kU64},                    // result
    {Coding::Raw, 3},                       // transport
    {Coding::Raw, kU64},                    // cr0
    {Coding::Raw, kU64},                    // cr4
    {Coding::Raw, kU64},                    // efer
    {Coding::Raw, kU64},                    // prev_cr0
    {Coding::Raw, kU64},                    // prev_cr4
    {Coding::Raw, kU64},                    // prev_efer
    {Coding::Raw, 2},                       // phase
    {Coding::Raw, kRunEndReasonCount - 1},  // end_reason
    {Coding::String, kU64},                 // device
    {Coding::String, kU64},                 // reg
    {Coding::String, kU64},                 // name
    {Coding::String, kU64},                 // text
    {Coding::Regs, 1},                      // regs
}};

// String ids inside Fields: 0 is the empty string, 1..N per-chunk interned
// strings. Two sentinels mark strings that are not (yet) in the table.
inline constexpr uint64_t kIdInline = ~uint64_t{0};   // written inline every time
inline constexpr uint64_t kIdNew = ~uint64_t{0} - 1;  // writer only: interned when encoded

struct Fields {
  std::array<uint64_t, kFieldCount> v{};
};

// An event's identity for choosing a reference: events with the same key
// (same vCPU, same instruction, same port, same device register or counter)
// are usually identical except for value, time and duration.
inline bool same_key(const Fields& a, const Fields& b) {
  return a.v[kRip] == b.v[kRip] && a.v[kPort] == b.v[kPort] && a.v[kVcpu] == b.v[kVcpu] &&
         a.v[kReg] == b.v[kReg] && a.v[kName] == b.v[kName] && a.v[kDevice] == b.v[kDevice];
}

// Per kind: the mask bit of each field, the fields that change most often for
// that kind first, so a typical event's mask fits in one byte.
struct KindOrder {
  std::array<uint8_t, kFieldCount> field_at{};  // mask bit -> field
  std::array<uint8_t, kFieldCount> bit_of{};    // field -> mask bit
};
const KindOrder& kind_order(EventKind kind);

// The reference every kind starts from at the beginning of a chunk: a
// default-constructed Event.
Fields default_fields();

// The last kHistoryDepth distinct-key events of each kind in this chunk,
// most recent first. Encoder and decoder update it identically, so a
// reference position in the tag means the same event on both sides.
//
// Entries live in a pool with one spare: the codec builds the next event in
// scratch() and commit() links it in and recycles the entry it replaces, so
// the hot path never copies a Fields.
class History {
 public:
  void reset();
  const Fields& at(EventKind kind, int pos) const { return pool_[order_[k(kind)][pos]]; }
  int size(EventKind kind) const { return count_[k(kind)]; }
  Fields& scratch() { return pool_[spare_]; }
  // Position of the most recent event with the same key as scratch(), or -1.
  int find(EventKind kind) const {
    const auto ki = k(kind);
    const Fields& f = pool_[spare_];
    for (int i = 0; i < count_[ki]; ++i) {
      if (same_key(pool_[order_[ki][i]], f)) return i;
    }
    return -1;
  }
  // Make scratch() the most recent event of its kind; it replaces the entry
  // at `found` (from find()), or the oldest when the history is full.
  void commit(EventKind kind, int found);

 private:
  static int k(EventKind kind) { return static_cast<int>(kind); }
  static constexpr int kPoolSize = kEventKindCount * kHistoryDepth + 1;
  std::array<Fields, kPoolSize> pool_{};
  // Per kind: pool indices, most recent first; entries at count_ and beyond
  // are that kind's unused pool entries.
  std::array<std::array<uint8_t, kHistoryDepth>, kEventKindCount> order_{};
  std::array<uint8_t, kEventKindCount> count_{};
  uint8_t spare_ = kPoolSize - 1;
};

// Bit f set where a.v[f] != b.v[f].
uint64_t changed_fields(const Fields& a, const Fields& b);

}  // namespace ringscope::trace
