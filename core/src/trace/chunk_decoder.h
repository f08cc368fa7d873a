// chunk_decoder.h — the inverse of ChunkEncoder, for untrusted bytes.
//
// Every varint, string length, string id, enum value and field width is
// checked; a failure reports the payload offset of the offending event and a
// sentence saying what was wrong. Allocation is bounded by the payload: one
// Event per encoded event, strings no longer than the bytes they came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fields.h"
#include "ringscope/event.h"

namespace ringscope::trace {

// Owns the bytes of every string a reader hands out (Trace::strings), and
// keeps one copy of each short string across chunks.
class StringStore {
 public:
  explicit StringStore(std::deque<std::string>& storage) : storage_(storage) {}
  std::string_view keep(std::string_view s);         // a copy that lives as long as the storage
  std::string_view keep_shared(std::string_view s);  // the same, deduplicated

 private:
  std::deque<std::string>& storage_;
  std::unordered_map<std::string_view, std::string_view> shared_;
};

struct ChunkInfo {
  const uint8_t* payload;
  size_t length;
  uint32_t count;
  uint64_t first_time_ns;
  uint64_t first_seq;
};

class ChunkDecoder {
 public:
  ChunkDecoder(StringStore& strings, std::deque<GuestRegs>& regs) : strings_(strings), regs_(regs) {}

  // Appends the chunk's events to `out`. On failure returns false with
  // `error_offset` (within the payload) and `error` set; `out` may then hold
  // some of the chunk's events, which the caller discards.
  bool decode(const ChunkInfo& chunk, std::vector<Event>& out, size_t& error_offset, std::string& error);

 private:
  History history_;
  std::vector<std::string_view> table_;  // this chunk's interned strings, id - 1
  StringStore& strings_;
  std::deque<GuestRegs>& regs_;
};

}  // namespace ringscope::trace
