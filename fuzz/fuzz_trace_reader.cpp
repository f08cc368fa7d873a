// fuzz_trace_reader.cpp — the .rtrace reader on arbitrary bytes.
//
// DESIGN.md promises that a corrupt or hostile trace gives an error with a
// byte offset, never a crash or an unbounded allocation. Everything that
// consumes a decoded event downstream (JSON, stats, explanations) runs on
// whatever the reader accepted, since a reader that lets a bad value
// through is only half the bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ringscope/explain.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"

using namespace ringscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
  if (!trace.ok()) return 0;
  const Trace& t = trace.value();
  if (t.events.size() != seen) __builtin_trap();
  for (const Event& e : t.events) (void)explain_event(e);
  (void)stats_to_json(compute_stats(t));
  return 0;
}
