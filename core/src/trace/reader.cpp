// reader.cpp — the reading API: for_each_event hands each event to a
// callback; read_trace collects them into a Trace. Both are consumers of
// walk_trace (chunk_walker.cpp), the one place that validates a file.
#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "chunk_walker.h"
#include "fmt/format.h"
#include "ringscope/trace.h"

namespace ringscope {

using namespace trace;

namespace {

// Copies each event into the Trace, with its strings in Trace::strings (the
// chunk's interned strings once per distinct string, inline ones each time)
// and its registers in Trace::regs.
class TraceConsumer final : public ChunkConsumer {
 public:
  explicit TraceConsumer(Trace& t) : t_(t) {}
  void begin_chunk() override { kept_.clear(); }
  bool event(const Event& decoded, const StringIds& ids, const ChunkDecoder& decoder) override {
    Event& e = t_.events.emplace_back(decoded);
    if ((ids[0] | ids[1] | ids[2] | ids[3]) != 0) {
      for (int s = 0; s < kStringFields; ++s) {
        std::string_view& v = string_field(e, static_cast<Field>(kDevice + s));
        if (ids[s] == 0) continue;
        if (ids[s] == kIdInline) {
          v = v.empty() ? std::string_view{} : std::string_view(t_.strings.emplace_back(v));
          continue;
        }
        if (kept_.size() < ids[s]) kept_.resize(decoder.table().size());
        std::string_view& k = kept_[ids[s] - 1];
        if (k.empty()) k = keep_shared(v);
        v = k;
      }
    }
    if (e.regs) e.regs = &t_.regs.emplace_back(*e.regs);
    return true;
  }

 private:
  std::string_view keep_shared(std::string_view s) {
    if (auto it = shared_.find(s); it != shared_.end()) return it->second;
    std::string_view kept = t_.strings.emplace_back(s);
    shared_.emplace(kept, kept);
    return kept;
  }

  Trace& t_;
  std::vector<std::string_view> kept_;  // the chunk's table as kept in t_.strings, id - 1
  std::unordered_map<std::string_view, std::string_view> shared_;
};

// Makes room for `n` events at once, so the vector is never copied while it
// grows (at 10 M events each doubling moved gigabytes), and asks for huge
// pages: filling a few gigabytes of fresh memory otherwise spends most of
// its time in page faults.
void reserve_events(std::vector<Event>& events, uint64_t n) {
  if (n == 0) return;
  events.reserve(static_cast<size_t>(n));
#if defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = 2u << 20;
  const auto begin = reinterpret_cast<uintptr_t>(events.data());
  const uintptr_t end = begin + n * sizeof(Event);
  const uintptr_t from = (begin + kHuge - 1) & ~(kHuge - 1);
  if (end > from + kHuge) (void)::madvise(reinterpret_cast<void*>(from), (end - from) & ~(kHuge - 1), MADV_HUGEPAGE);
#endif
}

Result<Trace> read_from(ByteSource& source, const ReadOptions& options) {
  Trace t;
  reserve_events(t.events, count_events_hint(source, options));
  TraceConsumer consumer(t);
  ReadSummary summary;
  TRY(walk_trace(source, options, consumer, t.header, summary));
  t.complete = summary.complete;
  t.warning = std::move(summary.warning);
  return t;
}

Status with_path(Status s, const std::string& path) {
  if (s.ok() || s.error().kind != ErrorKind::BadData) return s;
  return make_error(s.error().kind, path + ": " + s.error().message);
}

}  // namespace

Status for_each_event_bytes(const uint8_t* data, size_t size, const ReadOptions& options, const EventCallback& callback,
                            TraceHeader* header_out, ReadSummary* summary_out) {
  MemorySource source(data, size);
  CallbackConsumer consumer(callback);
  TraceHeader header;
  ReadSummary summary;
  Status s =
      walk_trace(source, options, consumer, header_out ? *header_out : header, summary_out ? *summary_out : summary);
  return s;
}

Status for_each_event(const std::string& path, const ReadOptions& options, const EventCallback& callback,
                      TraceHeader* header_out, ReadSummary* summary_out) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  CallbackConsumer consumer(callback);
  TraceHeader header;
  ReadSummary summary;
  return with_path(walk_trace(*source.value(), options, consumer, header_out ? *header_out : header,
                              summary_out ? *summary_out : summary),
                   path);
}

Result<Trace> read_trace_bytes(const std::vector<uint8_t>& bytes, const ReadOptions& options) {
  MemorySource source(bytes.data(), bytes.size());
  return read_from(source, options);
}

Result<Trace> read_trace(const std::string& path, const ReadOptions& options) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  auto t = read_from(*source.value(), options);
  if (!t && t.error().kind == ErrorKind::BadData) return make_error(t.error().kind, path + ": " + t.error().message);
  return t;
}

}  // namespace ringscope
