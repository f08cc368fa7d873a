// The reader against torn, flipped and hostile files: never a crash, never
// an unbounded allocation, always the complete chunks before the damage and
// a warning that names the byte offset.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "trace/crc32.h"
#include "trace/format.h"
#include "trace/varint.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

using testing::EventFactory;
using testing::expect_same_event;
using testing::expect_stream_matches_read_trace;
using testing::stream_bytes;
using testing::write_trace;

// A small trace: header, three event chunks (4 events each), end mark.
struct SmallTrace {
  std::vector<Event> events;
  std::vector<size_t> ends;  // byte offset where each part ends: header, chunk 1..3, end mark
  std::vector<uint8_t> bytes;
  EventFactory f;

  SmallTrace() {
    for (int i = 0; i < 12; ++i) events.push_back(f.full(static_cast<EventKind>(i % kEventKindCount)));
    bytes = write_trace(events, 4, true, &ends);
  }
  // Events in chunks that end at or before `size`.
  size_t events_within(size_t size) const {
    size_t n = 0;
    for (size_t c = 1; c + 1 < ends.size(); ++c) {
      if (ends[c] <= size) n = 4 * c;
    }
    return n;
  }
  // Start of the part containing byte `offset`.
  size_t part_start(size_t offset) const {
    size_t start = 0;
    for (size_t e : ends) {
      if (e > offset) return start;
      start = e;
    }
    return start;
  }
};

std::string truncation_warning(size_t events, size_t offset) {
  return "truncated after " + std::to_string(events) + " events at byte " + std::to_string(offset) + ":";
}

TEST(TraceRobustness, SmallTraceLayoutIsAsExpected) {
  SmallTrace s;
  ASSERT_EQ(s.ends.size(), 5u);
  EXPECT_EQ(s.ends.back(), s.bytes.size());
  auto t = read_trace_bytes(s.bytes);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->complete);
  EXPECT_EQ(t->events.size(), 12u);
}

TEST(TraceRobustness, TruncatedAtEveryByteOffset) {
  SmallTrace s;
  const size_t header = s.ends[0];
  for (size_t len = 0; len < s.bytes.size(); ++len) {
    SCOPED_TRACE("cut at " + std::to_string(len));
    std::vector<uint8_t> cut(s.bytes.begin(), s.bytes.begin() + static_cast<ptrdiff_t>(len));
    auto t = read_trace_bytes(cut);
    if (len < header) {
      ASSERT_FALSE(t.ok());
      EXPECT_EQ(t.error().kind, ErrorKind::BadData);
      EXPECT_NE(t.error().message.find("at byte"), std::string::npos) << t.error().message;
      continue;
    }
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_FALSE(t->complete);
    const size_t n = s.events_within(len);
    ASSERT_EQ(t->events.size(), n);
    for (size_t i = 0; i < n; ++i) expect_same_event(s.events[i], t->events[i]);
    // The damage is in the part that starts at or before the cut.
    const size_t at = s.part_start(len);
    EXPECT_EQ(t->warning.rfind(truncation_warning(n, at), 0), 0u) << t->warning;
  }
}

TEST(TraceRobustness, BitFlipsAreCaughtByTheCrc) {
  SmallTrace s;
  const size_t header = s.ends[0];
  for (size_t off = 0; off < s.bytes.size(); ++off) {
    for (int bit : {0, 3, 7}) {
      SCOPED_TRACE("flip byte " + std::to_string(off) + " bit " + std::to_string(bit));
      auto bad = s.bytes;
      bad[off] ^= static_cast<uint8_t>(1u << bit);
      auto t = read_trace_bytes(bad);
      if (off < header) {
        ASSERT_FALSE(t.ok());
        EXPECT_EQ(t.error().kind, ErrorKind::BadData);
        EXPECT_NE(t.error().message.find("byte"), std::string::npos) << t.error().message;
        continue;
      }
      ASSERT_TRUE(t.ok());
      EXPECT_FALSE(t->complete);
      const size_t at = s.part_start(off);
      const size_t n = s.events_within(at);
      ASSERT_EQ(t->events.size(), n);
      EXPECT_EQ(t->warning.rfind(truncation_warning(n, at), 0), 0u) << t->warning;
      EXPECT_NE(t->warning.find("CRC"), std::string::npos) << t->warning;
    }
  }
}

// Builds a chunk with valid CRCs around an arbitrary payload and fields, the
// way a hostile file would.
std::vector<uint8_t> forged_chunk(const std::vector<uint8_t>& payload, uint32_t count, uint64_t first_seq,
                                  uint8_t type = trace::kChunkEvents, uint32_t claimed_len = UINT32_MAX) {
  std::vector<uint8_t> c(trace::kChunkHeaderSize);
  std::memcpy(c.data(), trace::kChunkMagic, 4);
  c[4] = type;
  trace::put_u32le(&c[8], claimed_len == UINT32_MAX ? static_cast<uint32_t>(payload.size()) : claimed_len);
  trace::put_u32le(&c[12], count);
  trace::put_u64le(&c[16], 1000);
  trace::put_u64le(&c[24], first_seq);
  trace::put_u32le(&c[32], trace::crc32(payload.data(), payload.size()));
  trace::put_u32le(&c[36], trace::crc32(c.data(), 36));
  c.insert(c.end(), payload.begin(), payload.end());
  return c;
}

std::vector<uint8_t> header_only() {
  std::vector<Event> none;
  auto bytes = write_trace(none, 0, false);
  return bytes;
}

Result<Trace> read_with(const std::vector<uint8_t>& chunk) {
  auto bytes = header_only();
  bytes.insert(bytes.end(), chunk.begin(), chunk.end());
  return read_trace_bytes(bytes);
}

TEST(TraceRobustness, HostileChunkLengthsAndCounts) {
  const size_t header = header_only().size();
  // A payload length far beyond the limit (and beyond the file).
  auto t = read_with(forged_chunk({}, 1, 0, trace::kChunkEvents, 0xfffffff0u));
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t->warning.find("more than the"), std::string::npos) << t->warning;
  EXPECT_NE(t->warning.find("at byte " + std::to_string(header)), std::string::npos) << t->warning;
  // A length within the limit but beyond the file.
  t = read_with(forged_chunk({}, 1, 0, trace::kChunkEvents, 1 << 20));
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t->warning.find("ends inside a chunk"), std::string::npos) << t->warning;
  // Four billion events claimed in a 3-byte payload.
  t = read_with(forged_chunk({0x0b, 0x00, 0x00}, 0xffffffffu, 0));
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t->warning.find("claims 4294967295 events"), std::string::npos) << t->warning;
  // The first chunk claims to start at event 1000.
  t = read_with(forged_chunk({0x0b, 0x00}, 1, 1000));
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t->warning.find("starts at event 1000"), std::string::npos) << t->warning;
  // Unknown chunk type.
  t = read_with(forged_chunk({0x0b, 0x00}, 1, 0, 9));
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t->warning.find("unknown chunk type"), std::string::npos) << t->warning;
}

TEST(TraceRobustness, HostilePayloads) {
  using V = std::vector<uint8_t>;
  struct Case {
    const char* what;
    V payload;
    uint32_t count;
    const char* expect;
  };
  // Tag 0x4b: kind 11 (run_end) with a mask. Mask bit 1 of run_end is text.
  const std::vector<Case> cases = {
      {"reserved tag bit", {0x80, 0x00}, 1, "reserved bit"},
      {"unknown kind", {0x0f, 0x00}, 1, "unknown event kind 15"},
      {"reference beyond history", {0x10, 0x00}, 1, "only 1 exist"},
      {"first time delta not zero", {0x0b, 0x02}, 1, "first event's time"},
      {"huge varint", {0x4b, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 1, "bad field mask"},
      {"mask names unknown fields", {0x4b, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}, 1, "unknown fields"},
      {"inline string of a terabyte", {0x4b, 0x00, 0x02, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}, 1, "longer than"},
      {"undefined string id", {0x4b, 0x00, 0x02, 0x07}, 1, "not defined"},
      {"enum out of range", {0x4b, 0x00, 0x01, 0x30}, 1, "out of range"},
      {"events missing", {0x0b, 0x00}, 2, "claims 2 events"},
      {"bytes left over", {0x0b, 0x00, 0x0b, 0x00, 0x00}, 2, "bytes follow"},
      {"payload ends inside event", {0x4b, 0x00, 0x02}, 1, "bad string reference"},
  };
  const size_t payload_at = header_only().size() + trace::kChunkHeaderSize;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto t = read_with(forged_chunk(c.payload, c.count, 0));
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->complete);
    EXPECT_TRUE(t->events.empty());
    EXPECT_NE(t->warning.find(c.expect), std::string::npos) << t->warning;
    EXPECT_NE(t->warning.find("truncated after 0 events at byte "), std::string::npos) << t->warning;
    (void)payload_at;
  }
}

TEST(TraceRobustness, RandomPayloadsBehindValidCrcsNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> payload(2 + rng() % 200);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    // Bias towards valid tags so decoding goes deep.
    payload[0] &= 0x7b;
    payload[1] = 0;
    const auto count = static_cast<uint32_t>(1 + rng() % (payload.size() / 2));
    auto t = read_with(forged_chunk(payload, count, 0));
    ASSERT_TRUE(t.ok());
    if (!t->warning.empty()) {
      EXPECT_NE(t->warning.find("at byte"), std::string::npos);
    }
  }
}

TEST(TraceRobustness, HeaderGarbage) {
  auto good = header_only();
  auto expect_bad = [](const std::vector<uint8_t>& bytes, const std::string& needle) {
    auto t = read_trace_bytes(bytes);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().kind, ErrorKind::BadData);
    EXPECT_NE(t.error().message.find(needle), std::string::npos) << t.error().message;
  };
  expect_bad({}, "at byte 0");
  expect_bad({'{', '"', 'a'}, "magic");
  std::vector<uint8_t> text(100, 'x');
  expect_bad(text, "magic");
  auto future = good;
  trace::put_u32le(&future[8], 99);
  expect_bad(future, "format version 99");
  auto future_schema = good;
  trace::put_u32le(&future_schema[12], 7);
  expect_bad(future_schema, "schema version 7");
  auto huge_block = good;
  trace::put_u32le(&huge_block[16], 0x7fffffff);
  expect_bad(huge_block, "more than the");
  auto bad_crc = good;
  bad_crc[trace::kFileHeaderFixed + 2] ^= 1;
  expect_bad(bad_crc, "CRC");

  // A header block with a valid CRC but a string claiming 1 GiB.
  std::vector<uint8_t> forged(trace::kFileMagic, trace::kFileMagic + 8);
  forged.resize(trace::kFileHeaderFixed);
  trace::put_u32le(&forged[8], 1);
  trace::put_u32le(&forged[12], 1);
  const std::vector<uint8_t> block = {0x80, 0x80, 0x80, 0x80, 0x04, 'a'};
  trace::put_u32le(&forged[16], static_cast<uint32_t>(block.size()));
  forged.insert(forged.end(), block.begin(), block.end());
  forged.resize(forged.size() + 4);
  trace::put_u32le(&forged[forged.size() - 4], trace::crc32(forged.data(), forged.size() - 4));
  expect_bad(forged, "header string");
}

TEST(TraceRobustness, MaxEvents) {
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(f.io_exit(i % 2, 'a'));
  const auto bytes = write_trace(events, 10);
  for (uint64_t max : {1, 10, 15, 99}) {
    auto t = read_trace_bytes(bytes, ReadOptions{max});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->events.size(), max);
    EXPECT_FALSE(t->complete);
    EXPECT_NE(t->warning.find("max_events"), std::string::npos) << t->warning;
  }
  auto all = read_trace_bytes(bytes, ReadOptions{100});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->events.size(), 100u);
  EXPECT_TRUE(all->complete);
  EXPECT_EQ(all->warning, "");
}

TEST(TraceRobustness, TrailingBytesAfterTheEndMarkAreReported) {
  EventFactory f;
  std::vector<Event> events = {f.io_exit(true, 'a')};
  auto bytes = write_trace(events);
  bytes.push_back(0);
  bytes.push_back(1);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->complete);
  EXPECT_NE(t->warning.find("2 bytes after the end-of-trace mark"), std::string::npos) << t->warning;
}

TEST(TraceRobustness, UnclosedWriterLeavesAnIncompleteTrace) {
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 30; ++i) events.push_back(f.uart_device(i % 2, 'z'));
  const auto bytes = write_trace(events, 0, /*close=*/false);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->complete);
  EXPECT_EQ(t->events.size(), 30u);
  EXPECT_NE(t->warning.find("truncated after 30 events at byte " + std::to_string(bytes.size())), std::string::npos)
      << t->warning;
  EXPECT_NE(t->warning.find("end-of-trace mark"), std::string::npos);
}

// ---- the streaming reader: the same events, warnings and errors as
// read_trace on every damaged file above (both are built on one decoder
// path; these keep it that way).

TEST(TraceStreaming, MatchesReadTraceOnEveryTruncationAndBitFlip) {
  SmallTrace s;
  expect_stream_matches_read_trace(s.bytes);
  for (size_t len = 0; len < s.bytes.size(); ++len) {
    SCOPED_TRACE("cut at " + std::to_string(len));
    expect_stream_matches_read_trace(
        std::vector<uint8_t>(s.bytes.begin(), s.bytes.begin() + static_cast<ptrdiff_t>(len)));
  }
  for (size_t off = 0; off < s.bytes.size(); ++off) {
    SCOPED_TRACE("flip byte " + std::to_string(off));
    auto bad = s.bytes;
    bad[off] ^= 0x08;
    expect_stream_matches_read_trace(bad);
  }
}

TEST(TraceStreaming, MatchesReadTraceOnHostileFiles) {
  auto with = [](const std::vector<uint8_t>& chunk) {
    auto bytes = header_only();
    bytes.insert(bytes.end(), chunk.begin(), chunk.end());
    return bytes;
  };
  expect_stream_matches_read_trace(with(forged_chunk({}, 1, 0, trace::kChunkEvents, 0xfffffff0u)));
  expect_stream_matches_read_trace(with(forged_chunk({0x0b, 0x00, 0x00}, 0xffffffffu, 0)));
  expect_stream_matches_read_trace(with(forged_chunk({0x0b, 0x00}, 1, 1000)));
  expect_stream_matches_read_trace(with(forged_chunk({0x0b, 0x00}, 1, 0, 9)));
  expect_stream_matches_read_trace(with(forged_chunk({0x0b, 0x00, 0x0b, 0x00, 0x00}, 2, 0)));
  expect_stream_matches_read_trace(with(forged_chunk({0x4b, 0x00, 0x01, 0x30}, 1, 0)));
  // Random payloads behind valid CRCs, after a good chunk so that the good
  // events must be delivered and the bad chunk's must not.
  EventFactory f;
  std::vector<Event> good;
  for (int i = 0; i < 5; ++i) good.push_back(f.full(static_cast<EventKind>(i)));
  const auto good_bytes = write_trace(good, 0, false);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    SCOPED_TRACE("random payload " + std::to_string(i));
    std::vector<uint8_t> payload(2 + rng() % 200);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    payload[0] &= 0x7b;
    payload[1] = 0;
    const auto count = static_cast<uint32_t>(1 + rng() % (payload.size() / 2));
    auto bytes = good_bytes;
    const auto chunk = forged_chunk(payload, count, good.size());
    bytes.insert(bytes.end(), chunk.begin(), chunk.end());
    expect_stream_matches_read_trace(bytes);
  }
  for (const auto& garbage : {std::vector<uint8_t>{}, std::vector<uint8_t>{'{', '"'}, std::vector<uint8_t>(100, 'x')})
    expect_stream_matches_read_trace(garbage);
}

TEST(TraceStreaming, MaxEventsTrailingBytesAndUnclosedWriters) {
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(i % 3 ? f.io_exit(i % 2, 'a') : f.uart_device(i % 2, 'b'));
  const auto bytes = write_trace(events, 10);
  for (uint64_t max : {1, 10, 15, 99, 100, 1000}) {
    SCOPED_TRACE("max_events " + std::to_string(max));
    expect_stream_matches_read_trace(bytes, ReadOptions{max});
  }
  auto trailing = bytes;
  trailing.push_back(7);
  expect_stream_matches_read_trace(trailing);
  expect_stream_matches_read_trace(write_trace(events, 7, /*close=*/false));
}

TEST(TraceStreaming, TheCallbackCanStopTheRead) {
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(f.full(static_cast<EventKind>(i % kEventKindCount)));
  const auto bytes = write_trace(events, 30);
  for (uint64_t stop : {1, 29, 30, 31, 99, 100}) {
    SCOPED_TRACE("stop after " + std::to_string(stop));
    auto s = stream_bytes(bytes, {}, stop);
    ASSERT_TRUE(s.status.ok());
    ASSERT_EQ(s.events.size(), stop);
    EXPECT_EQ(s.summary.events, stop);
    EXPECT_FALSE(s.summary.complete);
    EXPECT_EQ(s.summary.warning, "stopped after " + std::to_string(stop) + " events: the callback asked to stop");
    for (size_t i = 0; i < stop; ++i) expect_same_event(events[i], s.events[i]);
  }
  // Not stopping: the whole trace, complete.
  auto all = stream_bytes(bytes);
  ASSERT_TRUE(all.status.ok());
  EXPECT_TRUE(all.summary.complete);
  EXPECT_EQ(all.summary.warning, "");
  ASSERT_EQ(all.events.size(), events.size());
}

}  // namespace
}  // namespace ringscope
