// trace.h — the .rtrace file: writer, reader, JSON and export.
//
// File layout and encoding: docs/trace-format.md. Promises (same file):
// self-contained chunks with CRC-32, so a writer killed at any instant leaves
// every completed chunk readable; a reader that validates everything and
// reports the byte offset of the first problem; never a crash or an
// unbounded allocation on a hostile file.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ringscope/event.h"
#include "ringscope/result.h"

namespace ringscope {

inline constexpr uint32_t kTraceFormatVersion = 1;
// 2: vm_exit carries its access kind (field 42); 3: the bt kinds world_switch, bt_translate, bt_callout (12-14),
// fields 43-45 (from_world, to_world, instruction) and the cause hlt.
inline constexpr uint32_t kTraceSchemaVersion = 3;

// Facts about the run and the host, written once at the start of the file.
struct TraceHeader {
  uint32_t format_version = kTraceFormatVersion;
  uint32_t schema_version = kTraceSchemaVersion;
  std::string scenario;        // "syscalls", a directory, or an image path
  std::string mode;            // "full-virt", "paravirt", "emulation"
  std::string level;           // "exits" or "full"
  std::string params;          // kernel command line the guest got ("n=16")
  std::string host_kernel;     // uname -r
  std::string kvm_flavour;     // "VMX", "SVM", "PVM", "none"
  std::string cpu_model;       // /proc/cpuinfo "model name"
  std::string tool_version;    // ringscope --version
  uint64_t start_unix_ns = 0;  // wall clock at start
  uint64_t start_mono_ns = 0;  // CLOCK_MONOTONIC at start (events' time base)
  uint32_t vcpus = 1;
};

// Writes a trace. Events are encoded into an in-memory chunk and the chunk is
// written (with its CRC) when it fills, on flush(), and on close(). emit() is
// on the vCPU exit path: it does no I/O unless a chunk is full.
//
// emit() may be called from several vCPU threads: a short spin lock orders
// the events (seq is dense in emit order).
class TraceWriter final : public EventSink {
 public:
  static Result<std::unique_ptr<TraceWriter>> create(const std::string& path, const TraceHeader& header);

  // A writer without a file, for tests, benchmarks and tools that want the
  // bytes: Memory keeps the whole file in memory_bytes(); Discard encodes and
  // checksums every chunk, then drops it (the cost of tracing without I/O).
  enum class MemoryTarget { Memory, Discard };
  static std::unique_ptr<TraceWriter> create_in_memory(const TraceHeader& header,
                                                       MemoryTarget target = MemoryTarget::Memory);
  const std::vector<uint8_t>& memory_bytes() const;  // empty for file and Discard writers

  ~TraceWriter() override;  // closes if still open

  void emit(Event& e) override;
  Status flush();  // write the current chunk now (partial chunks are fine)
  Status close();  // flush, write the end-of-trace mark, close the file

  uint64_t events_written() const { return next_seq_; }
  uint64_t bytes_written() const;  // header and sealed chunks (not the chunk being filled)

  struct Impl;

 private:
  TraceWriter() = default;
  std::unique_ptr<Impl> impl_;
  uint64_t next_seq_ = 0;
};

// A whole trace in memory, as read back. Strings in events point into
// `strings`, which lives as long as the Trace (do not copy events out of a
// Trace that is about to be destroyed without copying their strings).
struct Trace {
  TraceHeader header;
  std::vector<Event> events;
  std::deque<std::string> strings;  // storage for Event string views
  std::deque<GuestRegs> regs;       // storage for Event::regs
  bool complete = false;            // the end-of-trace mark was present
  std::string warning;              // e.g. "truncated after 1234 events at byte 56789 (...)"
};

struct ReadOptions {
  // Stop after this many events (0: no limit). Protects memory on huge files.
  uint64_t max_events = 0;
};

// Reads a trace. A file whose header is unreadable is an Error (BadData or
// NoInput, with the byte offset); a file that is readable up to some point
// returns the events before that point with complete=false and a warning.
Result<Trace> read_trace(const std::string& path, const ReadOptions& options = {});
Result<Trace> read_trace_bytes(const std::vector<uint8_t>& bytes, const ReadOptions& options = {});

// ---- streaming ---------------------------------------------------------------
// read_trace keeps every event in memory as a full Event (about 300 bytes);
// a tool that only looks at each event once (the viewer's model, stats, an
// exporter) can instead receive them one at a time, chunk by chunk, with the
// same validation, the same warnings and the same byte offsets. read_trace
// itself is built on it.

// What a streaming read found, besides the events.
struct ReadSummary {
  uint64_t events = 0;    // events passed to the callback
  bool complete = false;  // the end-of-trace mark was reached
  std::string warning;    // as Trace::warning; also says so when the callback stopped the read
};

// Called once per event, in file order. The event, its strings and its
// registers are valid only during the call: copy what you keep. Return
// false to stop reading (complete is then false).
using EventCallback = std::function<bool(const Event&)>;

// Reads `path` and calls `callback` for each event. `header_out` (if given)
// is filled before the first call. Returns an Error when nothing is
// readable (no such file, a bad header, as read_trace) or when reading the
// file fails midway; a damaged or unfinished trace is not an error: the
// events of every whole chunk before the damage are delivered and
// `summary_out` says where and why the read stopped. Each chunk is checked
// whole (CRC, every field) before any of its events is delivered, so the
// callback sees exactly the events read_trace would return.
Status for_each_event(const std::string& path, const ReadOptions& options, const EventCallback& callback,
                      TraceHeader* header_out = nullptr, ReadSummary* summary_out = nullptr);
Status for_each_event_bytes(const uint8_t* data, size_t size, const ReadOptions& options, const EventCallback& callback,
                            TraceHeader* header_out = nullptr, ReadSummary* summary_out = nullptr);

// ---- a whole trace, compactly -------------------------------------------------
// For a tool that needs random access to every event of a large trace (a
// checker that looks back, a viewer model) without read_trace's ~300 bytes
// per event: TraceStore keeps the validated chunks as they are on disk (a
// few bytes per event) and decodes one chunk when an event in it is asked
// for. Loading checks everything read_trace checks (same warnings, same
// events) and decodes nothing twice, so it runs at the decoder's speed.
class TraceStore {
 public:
  static Result<TraceStore> open(const std::string& path, const ReadOptions& options = {});
  static Result<TraceStore> from_bytes(const uint8_t* data, size_t size, const ReadOptions& options = {});
  TraceStore(TraceStore&&) noexcept;
  TraceStore& operator=(TraceStore&&) noexcept;
  ~TraceStore();

  const TraceHeader& header() const;
  bool complete() const;
  const std::string& warning() const;
  uint64_t size() const;          // events
  uint64_t memory_bytes() const;  // what the store holds: the chunks and their index

  // Event `i` (0 <= i < size()). The reference, its strings and registers
  // stay valid until at() is next called for an event of another chunk.
  const Event& at(uint64_t i);
  // Every event in order, as for_each_event (valid during the call).
  void for_each(const EventCallback& callback);

  struct Impl;

 private:
  explicit TraceStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// JSON Lines form of one event: flat snake_case keys (docs/trace-format.md).
std::string event_to_json(const Event& e);
std::string header_to_json(const TraceHeader& h);

// Export for Perfetto / chrome://tracing, or as JSON Lines (event_to_json,
// one event a line). The output is created with create_output_file (files.h:
// a symlink in its place is refused); "-" writes to stdout.
enum class ExportFormat { ChromeJson, PerfettoProto, JsonLines };
Status export_trace(const Trace& trace, ExportFormat format, const std::string& out_path);

// The same from a trace file, streamed: the file is read twice (a first pass
// counts events and vCPUs), never held in memory, so memory stays a few
// megabytes whatever the trace's length. Errors as for_each_event (nothing
// readable), Usage (too many events for Chrome JSON) or IoError (output).
struct ExportSummary {
  uint64_t events = 0;    // events written
  bool complete = false;  // the input had its end-of-trace mark
  std::string warning;    // the reader's warning about the input, if any
};
Result<ExportSummary> export_trace_file(const std::string& in_path, ExportFormat format, const std::string& out_path);

}  // namespace ringscope
