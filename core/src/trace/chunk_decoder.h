// chunk_decoder.h — the inverse of ChunkEncoder, for untrusted bytes.
//
// Every varint, string length, string id, enum value and field width is
// checked; a failure reports the payload offset of the offending event and a
// sentence saying what was wrong. Nothing is copied or kept per event:
// strings are views into the payload, and events are built one at a time
// in a small pool of recent events (the references the format needs), so
// decoding a chunk of 10 000 events touches a few kilobytes, not a few
// megabytes of Event records.
//
// A chunk is all or nothing, so it is decoded twice: check() runs through
// every event and delivers none, then deliver() runs the same code again
// and hands each event on. The second run cannot fail where the first did
// not (same bytes, same code), and both run on a hot pool.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fields.h"
#include "ringscope/event.h"

namespace ringscope::trace {

struct ChunkInfo {
  const uint8_t* payload;
  size_t length;
  uint32_t count;
  uint64_t first_time_ns;
  uint64_t first_seq;
};

class ChunkDecoder;

// Receives the events of a chunk from ChunkDecoder::deliver().
class DecodedEventSink {
 public:
  virtual ~DecodedEventSink() = default;
  // `e` (its strings point into the payload, its registers into the
  // decoder) is valid during the call. `ids` says where each string came
  // from: 0 empty, 1..N the chunk's interned string N (decoder.table()),
  // kIdInline written inline. Return false to stop.
  virtual bool event(const Event& e, const StringIds& ids, const ChunkDecoder& decoder) = 0;
};

class ChunkDecoder {
 public:
  ChunkDecoder();

  // Decodes every event of the chunk and delivers none. On failure returns
  // false with `error_offset` (within the payload) and `error` set.
  bool check(const ChunkInfo& chunk, size_t& error_offset, std::string& error);

  // Decodes the first `n` events of a chunk that check() accepted and
  // passes each to `sink`, setting `taken` to how many it got. Returns false
  // when the sink asked to stop.
  bool deliver(const ChunkInfo& chunk, size_t n, DecodedEventSink& sink, size_t& taken);

  // The chunk's interned strings so far (views into the payload), id - 1.
  std::span<const std::string_view> table() const { return table_; }

 private:
  enum class Outcome { Done, Failed, Stopped };
  Outcome run(const ChunkInfo& chunk, size_t n, DecodedEventSink* sink, size_t& done, size_t& error_offset,
              std::string& error);

  // A recent event as a reference, and the string ids that go with it.
  struct alignas(16) Entry {
    Event event;
    StringIds ids;
  };
  static_assert(sizeof(Entry) % 16 == 0);
  // Entry 0 is the default Event every kind starts a chunk from; the others
  // hold at most kHistoryDepth events per kind plus the one being decoded.
  static constexpr uint8_t kDefaultEntry = 0;
  static constexpr int kPoolSize = 1 + kMaxEventKinds * kHistoryDepth + 1;
  void reset();
  static void copy_entry(Entry& to, const Entry& from);

  std::array<Entry, kPoolSize> pool_{};
  RecentEvents<uint8_t> recent_;
  std::array<uint8_t, kPoolSize> free_{};
  int free_count_ = 0;
  std::vector<std::string_view> table_;  // this chunk's interned strings, id - 1
  std::deque<GuestRegs> regs_;           // this chunk's register blocks
};

}  // namespace ringscope::trace
