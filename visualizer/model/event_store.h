// event_store.h — every event of a trace in about 17 bytes instead of
// Event's 304.
//
// The viewer keeps millions of events in memory, but a frame only ever needs
// a few facts about most of them (time, kind, vCPU, CPL, exit reason) and
// the full record of the few rows on screen. So the store keeps:
//   - columns, one entry per event: the time (32 bits from a base kept once
//     per 256 events) and 6 bytes of kind, vCPU, CPL flags and code (the time
//     index, the folding and the filters read only these; at() assembles
//     them into a CompactEvent);
//   - the other fields of each event as a record in one byte arena, decoded
//     back into a full Event only when a row, a tooltip or the inspector asks
//     for it. A record starts with a shape (which fields are non-zero, the
//     source, and which fields the columns already hold), then the non-zero
//     fields as varints, the rip as a difference from the rip before it in
//     its block. The arena's offset is kept once per 16 events: decoding an
//     event walks the records before it in its block (a few varints each).
// Short repeated strings (device, register, counter and marker names) are
// stored once; `text` (step bytes, console output) is stored inline.
// Rare values that do not fit a column (a time more than 4 s after its
// block's base, a vCPU number above 254) go to side tables keyed by index.
//
// No ImGui here: the model is unit-tested without a window (STYLE.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/big_array.h"
#include "ringscope/event.h"

namespace ringscope::viewer {

// What the timeline, the filters and the list need without decoding: made
// from the columns by EventStore::compact() (a value, held nowhere).
struct CompactEvent {
  uint64_t time_ns = 0;  // never decreasing along the store (see TraceModel)
  uint32_t vcpu = 0;
  uint16_t code = 0;   // vm_exit: exit reason; trap: vector; marker: phase (the kind's code, low 16 bits)
  uint8_t kind = 0;    // EventKind
  uint8_t flags = 0;   // kCpl* bits below
  uint8_t to_cpl = 0;  // trap/trap_return: the ring it entered
};

inline constexpr uint8_t kCplMask = 0x3;         // the CPL the event was recorded at
inline constexpr uint8_t kCplKnown = 0x4;        // this kind carries a CPL (step, exit, trap, hypercall)
inline constexpr uint8_t kRingChange = 0x8;      // trap / trap_return with from_cpl != to_cpl
inline constexpr uint8_t kHandledKernel = 0x10;  // vm_exit handled inside KVM

class EventStore {
 public:
  void append(const Event& e);  // e.seq is ignored unless it differs from the index
  void reserve(size_t events);
  size_t size() const { return hot_.size(); }

  uint64_t time(size_t i) const {
    const uint32_t d = dt_[i];
    return d != kFarTime ? time_base_[i / kTimeBlock] + d : far_time(i);
  }
  EventKind kind(size_t i) const { return static_cast<EventKind>(hot_[i].kind); }
  uint32_t vcpu(size_t i) const { return hot_[i].vcpu != kWideVcpu ? hot_[i].vcpu : wide_vcpu(i); }
  CompactEvent compact(size_t i) const {
    const Hot& h = hot_[i];
    return CompactEvent{time(i), vcpu(i), h.code, h.kind, h.flags, h.to_cpl};
  }
  // First event at or after t / after t; size() if none (times never decrease).
  size_t lower_bound(uint64_t t) const;
  size_t upper_bound(uint64_t t) const;

  // The full event; its strings and regs point into this store. `seq` is
  // the recorded seq (the index for any trace the writer produced).
  Event decode(size_t i) const;

  // Bytes held: the columns, the arena, the side tables, strings and registers.
  size_t memory_bytes() const;
  void shrink_to_fit();

  // A record's shape: which fields follow (a mask of field ids, the schema's
  // then seq), the source, and which fields come from the columns instead.
  struct Shape {
    uint64_t fields = 0;
    uint8_t source = 0;
    uint8_t derived = 0;
    bool operator==(const Shape&) const = default;
  };

 private:
  // 6 bytes per event.
  struct Hot {
    uint16_t code;
    uint8_t kind, flags, to_cpl, vcpu;
  };
  static_assert(sizeof(Hot) == 6, "the per-event columns are the viewer's cost: keep them narrow");
  static constexpr size_t kTimeBlock = 256;   // events per time base
  static constexpr size_t kRecordBlock = 16;  // events per arena offset
  static constexpr uint32_t kFarTime = UINT32_MAX;
  static constexpr uint8_t kWideVcpu = 0xff;
  // Event's scalar fields, vcpu to the strings, in 8-byte words (learn_kind).
  static constexpr size_t kScanWords = (offsetof(Event, device) - offsetof(Event, vcpu)) / 8;

  uint64_t far_time(size_t i) const;
  uint32_t wide_vcpu(size_t i) const;
  uint32_t intern(int field, std::string_view s);
  uint32_t shape_id(uint8_t kind, const Shape& s);
  const uint8_t* record(size_t i, uint64_t& prev_rip) const;  // event i's record, the block's rip before it

  BigArray<Hot> hot_;
  BigArray<uint32_t> dt_;         // time - time_base_[i / kTimeBlock], or kFarTime
  BigArray<uint64_t> time_base_;  // the time of every kTimeBlock-th event
  BigArray<uint64_t> record_at_;  // the arena offset of every kRecordBlock-th event's record
  BigArray<uint8_t> arena_;
  std::vector<std::pair<uint64_t, uint64_t>> far_times_;   // (index, time) where dt_ is kFarTime
  std::vector<std::pair<uint64_t, uint32_t>> wide_vcpus_;  // (index, vcpu) where the column says kWideVcpu
  uint64_t prev_rip_ = 0;                                  // the encoder's: the last rip in the current block

  std::vector<Shape> shapes_;
  struct ShapeHash {
    size_t operator()(const Shape& s) const {
      return std::hash<uint64_t>{}(s.fields * 0x9e3779b97f4a7c15ull ^ (uint64_t{s.source} << 8 | s.derived));
    }
  };
  std::unordered_map<Shape, uint32_t, ShapeHash> shape_ids_;
  struct LastShape {
    Shape shape;
    uint32_t id = UINT32_MAX;
  };
  std::array<LastShape, 16> last_shape_{};  // per kind: the shape of its last event
  // Per kind, from the schema (kind_spec) the first time the kind is seen.
  struct KindInfo {
    bool known = false;
    uint8_t cpl = 0;   // CplAt
    uint8_t code = 0;  // the kind's code field (field::kFieldCount: none)
    uint64_t own = 0;  // the scalar fields the kind lists (but vcpu and source)
    // A byte mask over Event from vcpu to the strings: the bytes of the
    // scalar fields the kind does not list.
    std::array<uint64_t, kScanWords> others{};
  };
  void learn_kind(EventKind k);
  std::array<KindInfo, 16> kinds_{};

  std::deque<std::string> strings_;  // interned names; ids index this, stable addresses
  std::unordered_map<std::string_view, uint32_t> string_ids_;
  // The last string interned for device, reg and name: names repeat from
  // one event to the next, and a compare is cheaper than a hash lookup.
  struct LastString {
    std::string_view s;  // into strings_
    uint32_t id = 0;
  };
  LastString last_[3];
  std::deque<GuestRegs> regs_;
  size_t string_bytes_ = 0;
};

}  // namespace ringscope::viewer
