// event_store.h — every event of a trace in ~40 bytes instead of Event's 304.
//
// The viewer keeps millions of events in memory, but a frame only ever needs
// a few facts about most of them (time, kind, vCPU, CPL, exit reason) and
// the full record of the few rows on screen. So each event is split in two:
//   - a 24-byte CompactEvent in one array, indexed by position (the time
//     index, the folding and the filters read only this), and
//   - its remaining fields, encoded as (field, varint) pairs into one byte
//     arena, decoded back into a full Event only when a row, a tooltip or the
//     inspector asks for it.
// Short repeated strings (device, register, counter and marker names) are
// stored once; `text` (step bytes, console output) is stored inline.
//
// No ImGui here: the model is unit-tested without a window (STYLE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/big_array.h"
#include "ringscope/event.h"

namespace ringscope::viewer {

// What the timeline, the filters and the list need without decoding.
struct CompactEvent {
  uint64_t time_ns = 0;  // never decreasing along the array (see TraceModel)
  uint32_t blob_lo = 0;  // offset of the rest of the event in the arena (low 32 bits)
  uint16_t code = 0;     // vm_exit: exit reason; trap: vector; marker: phase
  uint8_t kind = 0;      // EventKind
  uint8_t flags = 0;     // kCpl* bits below
  uint16_t vcpu = 0;     // saturates at 0xffff (the arena holds the exact value then)
  uint8_t blob_hi = 0;   // offset bits 32..39: arenas up to 1 TiB
  uint8_t to_cpl = 0;    // trap/trap_return: the ring it entered
};
static_assert(sizeof(CompactEvent) == 24, "CompactEvent is the per-event cost of the viewer; keep it at 24 bytes");

inline constexpr uint8_t kCplMask = 0x3;         // the CPL the event was recorded at
inline constexpr uint8_t kCplKnown = 0x4;        // this kind carries a CPL (step, exit, trap, hypercall)
inline constexpr uint8_t kRingChange = 0x8;      // trap / trap_return with from_cpl != to_cpl
inline constexpr uint8_t kHandledKernel = 0x10;  // vm_exit handled inside KVM

class EventStore {
 public:
  void append(const Event& e);  // e.seq is ignored: position is the index
  size_t size() const { return compact_.size(); }
  const CompactEvent& compact(size_t i) const { return compact_[i]; }
  BigArray<CompactEvent>& compact_array() { return compact_; }
  const BigArray<CompactEvent>& compact_array() const { return compact_; }

  // The full event; its strings and regs point into this store. `seq` is
  // the recorded seq (the index for any trace the writer produced).
  Event decode(size_t i) const;

  // Bytes held: the compact array, the arena, strings and registers.
  size_t memory_bytes() const;
  void shrink_to_fit();

 private:
  uint32_t intern(int field, std::string_view s);

  BigArray<CompactEvent> compact_;
  BigArray<uint8_t> arena_;
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
