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
// fields 43-45 (from_world, to_world, instruction) and the cause hlt; 4: the source device-thread (7); 5: an
// irq_inject's path, field 46 (via; before it, the same word in `name`).
inline constexpr uint32_t kTraceSchemaVersion = 5;

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
  // How the host cached the disk image (`run --disk-cache`: "writeback",
  // "none", "unsafe"); empty in traces written before it was recorded.
  std::string disk_cache;
};

// How a writer makes its file readable while it is written (docs/trace-format.md,
// "Reading a trace while it is written"): a chunk whose first event has waited
// `flush_period_ns` is sealed even when it is not full, so a reader following
// the file sees every event within about that long, also while the guest is
// idle and emits nothing.
struct TraceWriterOptions {
  static constexpr uint64_t kDefaultFlushPeriodNs = 100'000'000;  // 100 ms
  uint64_t flush_period_ns = kDefaultFlushPeriodNs;               // 0: seal only when full (and on flush/close)
  // The clock the period is measured on (CLOCK_MONOTONIC when empty); tests
  // inject their own.
  std::function<uint64_t()> clock;
  // File writers start a flusher thread that calls flush_if_due() every
  // period / 4; without it (and for memory writers) the owner calls it.
  bool flusher_thread = true;
};

// Writes a trace. Events are encoded into an in-memory chunk and the chunk is
// written (with its CRC) when it fills, when it has waited the flush period
// (TraceWriterOptions), on flush(), and on close(). emit() is on the vCPU exit
// path: it does no I/O unless a chunk is full, and reads the clock only for the
// first event of a chunk.
//
// emit() may be called from several vCPU threads: a short spin lock orders
// the events (seq is dense in emit order). The flusher thread takes that lock
// only when a chunk is due, at most once a period.
class TraceWriter final : public EventSink {
 public:
  static Result<std::unique_ptr<TraceWriter>> create(const std::string& path, const TraceHeader& header,
                                                     TraceWriterOptions options = {});

  // A writer without a file, for tests, benchmarks and tools that want the
  // bytes: Memory keeps the whole file in memory_bytes(); Discard encodes and
  // checksums every chunk, then drops it (the cost of tracing without I/O).
  enum class MemoryTarget { Memory, Discard };
  static std::unique_ptr<TraceWriter> create_in_memory(const TraceHeader& header,
                                                       MemoryTarget target = MemoryTarget::Memory,
                                                       TraceWriterOptions options = {});
  const std::vector<uint8_t>& memory_bytes() const;  // empty for file and Discard writers

  ~TraceWriter() override;  // closes if still open

  void emit(Event& e) override;
  Status flush();  // write the current chunk now (partial chunks are fine); safe from any thread
  // Seals the current chunk if its first event was emitted a flush period or
  // more before the clock's now; true if it did. Safe from any thread.
  bool flush_if_due();
  // Chunks sealed because they waited the period, and times the flusher
  // thread looked (for tests and the benchmark).
  uint64_t period_flushes() const;
  uint64_t flusher_checks() const;
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

// ---- following a trace while it is written ----------------------------------
// Reads a .rtrace file that a running writer is still appending to
// (docs/trace-format.md, "Reading a trace while it is written"). Each poll()
// delivers the events of the chunks completed since the last poll. What the
// writer has not finished yet (a header or a chunk cut short by the end of
// the file) is "not yet", read by a later poll; a chunk that fails its CRC
// or its checks stops the follower for good, with warning() naming the byte
// offset as read_trace does. The follower reads only what is new: one
// chunk in memory at a time, whatever the length of the trace.
class TraceFollower {
 public:
  // NoInput when there is no such file yet, IoError when it cannot be read.
  static Result<std::unique_ptr<TraceFollower>> open(const std::string& path);
  ~TraceFollower();
  TraceFollower(const TraceFollower&) = delete;
  TraceFollower& operator=(const TraceFollower&) = delete;

  // Reads what is new and calls `callback` for each event (valid during the
  // call, as for_each_event; return true to go on: false stops this poll at
  // the end of its chunk's delivery and the follower as a whole, like a
  // damaged chunk). Returns the number of events delivered (0: nothing new
  // yet). An Error when the file cannot be read any more (an I/O error, the
  // file became shorter than what was read: truncated or replaced) or its
  // header is bad (BadData); after an Error poll() returns it again.
  Result<uint64_t> poll(const EventCallback& callback);

  bool has_header() const;  // the header has been read (header() is valid)
  const TraceHeader& header() const;
  uint64_t events() const;  // events delivered so far
  uint64_t offset() const;  // bytes read so far: the header and whole chunks
  bool ended() const;       // the end-of-trace mark was read: nothing more will come
  bool stopped() const;     // a damaged chunk (or the callback) stopped it: warning() says where
  // Empty while following; why it stopped, or a note about bytes after the end mark.
  const std::string& warning() const;

  struct Impl;

 private:
  explicit TraceFollower(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

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
