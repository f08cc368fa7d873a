// chunk_encoder.h — turns Events into the payload of one chunk.
//
// This is the code on the vCPU exit path: encode() allocates nothing once
// the buffer has grown to a chunk's size, does no I/O, and costs a few tens
// of nanoseconds for a typical exit. The writer (writer.cpp) frames and
// writes the payload when it is full.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fields.h"
#include "ringscope/event.h"
#include "string_interner.h"
#include "varint.h"

namespace ringscope::trace {

class ChunkEncoder {
 public:
  ChunkEncoder();

  // Forget the chunk: the next event starts a new one (fresh string table
  // and references, so every chunk decodes on its own).
  void reset();

  // The most bytes encode(e) can add.
  static size_t worst_case_size(const Event& e) {
    return kFixedWorstCase + clip(e.device).size() + clip(e.reg).size() + clip(e.name).size() + clip(e.text).size();
  }
  // Whether encode(e) fits in the buffer as it is. The writer seals the
  // chunk (and grows the buffer for a giant event) first when it does not.
  bool fits(const Event& e) const {
    const size_t strings = e.device.size() + e.reg.size() + e.name.size() + e.text.size();
    return room() >= kFixedWorstCase + strings || room() >= worst_case_size(e);
  }
  size_t room() const { return capacity_ - size_; }
  void grow(size_t at_least);  // only for events larger than a whole chunk

  // Appends e (its seq is implied by its position). fits(e) must hold.
  void encode(const Event& e);

  const uint8_t* data() const { return buf_.get(); }
  size_t size() const { return size_; }
  uint32_t count() const { return count_; }
  uint64_t first_time_ns() const { return first_time_; }

 private:
  static constexpr size_t kRegsWorstCase = 26 * kMaxVarint;  // 23 registers, cs, ss, cpl
  // Tag, time, mask, and every numeric field at its longest.
  static constexpr size_t kFixedWorstCase = 1 + 3 * kMaxVarint + kFieldCount * kMaxVarint + kRegsWorstCase;
  static std::string_view clip(std::string_view s) { return s.substr(0, kMaxEventString); }

  // A recent event as a reference: a copy of its numeric span and its
  // string ids (never its registers: a later event re-sends them).
  struct Entry {
    alignas(16) std::array<uint8_t, 16 * kNumericBlocks> num;
    StringIds ids;
  };
  // Entry 0 is the default Event every kind starts a chunk from; the others
  // hold at most kHistoryDepth events per kind plus the one being encoded.
  static constexpr uint8_t kDefaultEntry = 0;
  static constexpr int kPoolSize = 1 + kMaxEventKinds * kHistoryDepth + 1;

  StringId string_ref(std::string_view s) const;
  uint8_t* put_string(uint8_t* p, StringId& id, std::string_view s);
  uint8_t take_free() { return free_[--free_count_]; }

  std::unique_ptr<uint8_t[]> buf_;
  // The schema's per-kind field orders (event_schema.h field_order), one
  // array for every kind: looked up once here, not through a call per event.
  const KindOrder* orders_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  uint32_t count_ = 0;
  uint64_t first_time_ = 0;
  uint64_t prev_time_ = 0;
  std::array<Entry, kPoolSize> pool_{};
  RecentEvents<uint8_t> recent_;
  std::array<uint8_t, kPoolSize> free_{};  // pool entries not in recent_, as a stack
  int free_count_ = 0;
  uint8_t scratch_ = 0;  // the entry the next event is built in
  StringInterner strings_;
};

}  // namespace ringscope::trace
