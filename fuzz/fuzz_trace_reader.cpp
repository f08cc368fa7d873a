// fuzz_trace_reader.cpp — the .rtrace reader on arbitrary bytes.
//
// DESIGN.md promises that a corrupt or hostile trace gives an error with a
// byte offset, never a crash or an unbounded allocation. Everything that
// consumes a decoded event downstream (JSON, stats, explanations) runs on
// whatever the reader accepted, since a reader that lets a bad value
// through is only half the bug.
//
// Every chunk carries CRC-32s, so almost every mutation would stop at the
// first CRC check and the decoder behind it would never be fuzzed. Each
// input is therefore read twice: as it is (the CRC checks themselves), and
// with every CRC recomputed over the mutated bytes, so the decoder sees
// hostile payloads that pass their checksums, as a crafted file would.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ringscope/explain.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"
#include "trace/crc32.h"

using namespace ringscope;

namespace {

void put_crc(std::vector<uint8_t>& b, uint64_t at, uint64_t from, uint64_t len) {
  uint32_t c = trace::crc32(b.data() + from, len);
  std::memcpy(b.data() + at, &c, 4);
}

// The input with the header CRC and each chunk's payload and frame CRCs
// made to match (layout: docs/trace-format.md).
std::vector<uint8_t> with_crcs_fixed(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  if (size < 20) return b;
  uint32_t block = 0;
  std::memcpy(&block, b.data() + 16, 4);
  uint64_t off = 20 + uint64_t(block);
  if (off + 4 > size) return b;
  put_crc(b, off, 0, off);
  off += 4;
  while (off + 40 <= size) {
    uint32_t len = 0;
    std::memcpy(&len, b.data() + off + 8, 4);
    bool whole = len <= size - off - 40;
    if (whole) put_crc(b, off + 32, off + 40, len);
    put_crc(b, off + 36, off, 36);
    if (!whole) break;
    off += 40 + uint64_t(len);
  }
  return b;
}

void read_one(const uint8_t* data, size_t size) {
  ReadOptions options;
  options.max_events = 20000;  // as the viewer and the CLI cap it on a big file

  // Streaming: every event handed to the callback must be fully valid.
  uint64_t seen = 0;
  TraceHeader header;
  ReadSummary summary;
  Status streamed = for_each_event_bytes(
      data, size, options,
      [&](const Event& e) {
        seen++;
        (void)event_to_json(e);
        (void)summarize_event(e);
        return true;
      },
      &header, &summary);
  if (streamed.ok()) (void)header_to_json(header);

  // Whole-trace read: the same verdict, and the events survive the read.
  std::vector<uint8_t> bytes(data, data + size);
  Result<Trace> trace = read_trace_bytes(bytes, options);
  if (trace.ok() != streamed.ok()) __builtin_trap();
  if (!trace.ok()) return;
  const Trace& t = trace.value();
  if (t.events.size() != seen) __builtin_trap();
  for (const Event& e : t.events) (void)explain_event(e);
  (void)stats_to_json(compute_stats(t));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_one(data, size);
  std::vector<uint8_t> fixed = with_crcs_fixed(data, size);
  read_one(fixed.data(), fixed.size());
  return 0;
}
