// chunk_walker.h — the one decoder path: validate the header, then walk the
// chunks in order, checking each whole before handing its events on.
//
// The promise (docs/trace-format.md): a bad header is an Error naming the byte offset;
// anything wrong after it (a torn tail, a flipped bit, a hostile length)
// stops the walk, keeps every complete chunk before it, and says where and
// why in ReadSummary::warning with complete = false. A chunk's events are
// handed on all or nothing (max_events and the consumer may cut a chunk
// short, never damage).
//
// read_trace, read_trace_bytes and for_each_event (reader.cpp) are thin
// consumers of walk_trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chunk_decoder.h"
#include "ringscope/result.h"
#include "ringscope/trace.h"

namespace ringscope::trace {

// Where a trace's bytes come from: a buffer in memory, or a file read chunk
// by chunk (so a huge trace never sits in memory whole).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // The `len` bytes at `offset` (offset + len <= size()): a pointer into the
  // source, or into `buf` after filling it. Valid until `buf` changes.
  virtual Result<const uint8_t*> read(uint64_t offset, size_t len, std::vector<uint8_t>& buf) = 0;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  Result<const uint8_t*> read(uint64_t offset, size_t, std::vector<uint8_t>&) override { return data_ + offset; }

 private:
  const uint8_t* data_;
  size_t size_;
};

// A file, read with pread (safe to share between threads). Its size is
// taken once, at open: a trace still being written is read up to there.
class FileSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> open(const std::string& path);
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  Result<const uint8_t*> read(uint64_t offset, size_t len, std::vector<uint8_t>& buf) override;
  // Takes the file's size again (a follower, after the writer appended).
  Status restat();

 private:
  FileSource(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_;
  uint64_t size_;
};

// Receives the events of each good chunk, in order (event() from
// DecodedEventSink, returning false to stop the walk).
class ChunkConsumer : public DecodedEventSink {
 public:
  // Called before the events of each chunk: the decoder's string table
  // starts afresh.
  virtual void begin_chunk() {}
  // Offered each good chunk (checked whole) before its events: a consumer
  // that keeps the chunk as it is (TraceStore) returns true, and its first
  // `n` events are counted as read without being decoded again.
  virtual bool take_chunk(const ChunkInfo& /*chunk*/, size_t /*n*/) { return false; }
};

// Hands each event to a callback (for_each_event, TraceFollower::poll); the
// callback returns false to stop.
class CallbackConsumer final : public ChunkConsumer {
 public:
  explicit CallbackConsumer(const EventCallback& callback) : callback_(callback) {}
  bool event(const Event& e, const StringIds&, const ChunkDecoder&) override { return callback_(e); }

 private:
  const EventCallback& callback_;
};

// How many events the well-framed chunks of `source` claim (frame CRC and
// magic checked, payloads not), capped by max_events and by what the file's
// size can hold: a hint to reserve memory for, 0 when nothing is readable.
uint64_t count_events_hint(ByteSource& source, const ReadOptions& options);

// Where and why a walk stopped: what a reader following a growing file
// (follower.cpp) needs to know to come back later.
struct WalkEnd {
  enum class Why : uint8_t {
    EndMark,     // the end-of-trace mark: nothing more will come
    Incomplete,  // the source ends at or inside the chunk at `offset`: not yet written
    Damaged,     // the chunk at `offset` is bad (CRC, limits, seq, decoding)
    Limit,       // max_events reached
    Consumer,    // the consumer asked to stop
  } why = Why::Incomplete;
  uint64_t offset = 0;  // the chunk not read (EndMark: the byte after the mark)
};

// Reads the header into `header` (an Error if it is unreadable), then walks
// the chunks. An Error after the header means the source failed (I/O).
Status walk_trace(ByteSource& source, const ReadOptions& options, ChunkConsumer& consumer, TraceHeader& header,
                  ReadSummary& summary, WalkEnd* end = nullptr);

// Walks the chunks from `offset` (a chunk boundary) on, `summary.events`
// events having been read before it: how a follower resumes. Chunks are
// self-contained, so nothing else carries over.
Status walk_chunks(ByteSource& source, uint64_t offset, const ReadOptions& options, ChunkConsumer& consumer,
                   ReadSummary& summary, WalkEnd& end);

}  // namespace ringscope::trace
