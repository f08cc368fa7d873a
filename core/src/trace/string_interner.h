// string_interner.h — the writer's per-chunk string table.
//
// Device names, register names and counter names repeat on nearly every
// event ("uart", "THR"); each chunk stores each of them once and refers to
// it by a small id after that. A fixed open-addressing table and a byte
// arena that keeps its capacity across chunks: no allocation in steady state.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "format.h"

namespace ringscope::trace {

class StringInterner {
 public:
  StringInterner() { arena_.reserve(size_t{kMaxInternedPerChunk} * kMaxInternedLength); }

  void reset() {
    slots_.fill(Slot{});
    arena_.clear();
    count_ = 0;
  }
  bool full() const { return count_ >= kMaxInternedPerChunk; }
  uint32_t size() const { return count_; }

  // The id (1..N) of s, or 0 if it is not in the table.
  uint32_t find(std::string_view s) const {
    const uint32_t h = hash(s);
    for (uint32_t i = h & kMask;; i = (i + 1) & kMask) {
      const Slot& slot = slots_[i];
      if (slot.id == 0) return 0;
      if (slot.hash == h && slot.len == s.size() && std::memcmp(arena_.data() + slot.off, s.data(), s.size()) == 0)
        return slot.id;
    }
  }

  // Adds s (not present, table not full, s.size() <= kMaxInternedLength) and
  // returns its id.
  uint32_t insert(std::string_view s) {
    const uint32_t h = hash(s);
    uint32_t i = h & kMask;
    while (slots_[i].id != 0) i = (i + 1) & kMask;
    const auto off = static_cast<uint32_t>(arena_.size());
    arena_.insert(arena_.end(), s.begin(), s.end());
    slots_[i] = Slot{h, ++count_, off, static_cast<uint32_t>(s.size())};
    return count_;
  }

 private:
  // Twice the entries the table may hold, so probes stay short.
  static constexpr uint32_t kSlots = 2 * kMaxInternedPerChunk;
  static constexpr uint32_t kMask = kSlots - 1;
  static_assert((kSlots & kMask) == 0, "slot count must be a power of two");

  struct Slot {
    uint32_t hash = 0;
    uint32_t id = 0;  // 0: empty slot
    uint32_t off = 0;
    uint32_t len = 0;
  };

  static uint32_t hash(std::string_view s) {  // FNV-1a: short strings, fast enough
    uint32_t h = 2166136261u;
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    return h;
  }

  std::array<Slot, kSlots> slots_{};
  std::vector<char> arena_;
  uint32_t count_ = 0;
};

}  // namespace ringscope::trace
