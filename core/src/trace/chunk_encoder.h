// chunk_encoder.h — turns Events into the payload of one chunk.
//
// This is the code on the vCPU exit path: encode() allocates nothing once
// the buffer has grown to a chunk's size, does no I/O, and costs a few tens
// of nanoseconds for a typical exit. The writer (writer.cpp) frames and
// writes the payload when it is full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fields.h"
#include "ringscope/event.h"
#include "string_interner.h"

namespace ringscope::trace {

class ChunkEncoder {
 public:
  ChunkEncoder();

  // Forget the chunk: the next event starts a new one (fresh string table
  // and references, so every chunk decodes on its own).
  void reset();

  // The most bytes encode(e) can add. The writer compares it with room()
  // to decide whether to seal the chunk first.
  static size_t worst_case_size(const Event& e);
  size_t room() const { return capacity_ - size_; }
  void grow(size_t at_least);  // only for events larger than a whole chunk

  // Appends e (its seq is implied by its position). room() must be at least
  // worst_case_size(e).
  void encode(const Event& e);

  const uint8_t* data() const { return buf_.get(); }
  size_t size() const { return size_; }
  uint32_t count() const { return count_; }
  uint64_t first_time_ns() const { return first_time_; }

 private:
  uint64_t string_ref(std::string_view s) const;
  uint8_t* put_string(uint8_t* p, Field f, std::string_view s);

  std::unique_ptr<uint8_t[]> buf_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  uint32_t count_ = 0;
  uint64_t first_time_ = 0;
  uint64_t prev_time_ = 0;
  History history_;
  StringInterner strings_;
};

}  // namespace ringscope::trace
