// store.cpp — TraceStore: a whole trace kept as its checked chunks, decoded
// one chunk at a time on demand (trace.h).
#include <algorithm>

#include "chunk_walker.h"
#include "ringscope/trace.h"

namespace ringscope {

using namespace trace;

struct TraceStore::Impl {
  struct Chunk {
    uint64_t at;  // offset of the payload in `bytes`
    uint32_t length;
    uint32_t count;  // events kept (max_events may cut the last chunk)
    uint64_t first_time_ns;
    uint64_t first_seq;
  };
  TraceHeader header;
  ReadSummary summary;
  std::vector<uint8_t> bytes;  // the payloads, back to back
  std::vector<Chunk> chunks;

  // The decoded chunk that at() last touched.
  ChunkDecoder decoder;
  std::vector<Event> cache;
  size_t cached = ~size_t{0};

  ChunkInfo info(const Chunk& c) const {
    return {bytes.data() + c.at, c.length, c.count, c.first_time_ns, c.first_seq};
  }

  void decode(size_t chunk_index) {
    if (cached == chunk_index) return;
    struct Collect final : DecodedEventSink {
      std::vector<Event>& out;
      explicit Collect(std::vector<Event>& o) : out(o) {}
      bool event(const Event& e, const StringIds&, const ChunkDecoder&) override {
        out.push_back(e);
        return true;
      }
    } collect(cache);
    cache.clear();
    const Chunk& c = chunks[chunk_index];
    size_t taken = 0;
    // The chunk passed check() when it was loaded: strings point into
    // `bytes`, registers into the decoder, both stable until the next decode.
    decoder.deliver(info(c), c.count, collect, taken);
    cached = chunk_index;
  }
};

namespace {

class StoreConsumer final : public ChunkConsumer {
 public:
  explicit StoreConsumer(TraceStore::Impl& s) : s_(s) {}
  bool take_chunk(const ChunkInfo& c, size_t n) override {
    s_.chunks.push_back(
        {s_.bytes.size(), static_cast<uint32_t>(c.length), static_cast<uint32_t>(n), c.first_time_ns, c.first_seq});
    s_.bytes.insert(s_.bytes.end(), c.payload, c.payload + c.length);
    return true;
  }
  bool event(const Event&, const StringIds&, const ChunkDecoder&) override { return true; }

 private:
  TraceStore::Impl& s_;
};

Result<std::unique_ptr<TraceStore::Impl>> load(ByteSource& source, const ReadOptions& options) {
  auto impl = std::make_unique<TraceStore::Impl>();
  // Room for the payloads at once (they are at most the file's size).
  impl->bytes.reserve(static_cast<size_t>(source.size()));
  StoreConsumer consumer(*impl);
  TRY(walk_trace(source, options, consumer, impl->header, impl->summary));
  impl->bytes.shrink_to_fit();
  return impl;
}

}  // namespace

TraceStore::TraceStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceStore::TraceStore(TraceStore&&) noexcept = default;
TraceStore& TraceStore::operator=(TraceStore&&) noexcept = default;
TraceStore::~TraceStore() = default;

Result<TraceStore> TraceStore::open(const std::string& path, const ReadOptions& options) {
  TRY_ASSIGN(auto source, FileSource::open(path));
  auto impl = load(*source, options);
  if (!impl) {
    Error e = impl.error();
    if (e.kind == ErrorKind::BadData) e.message = path + ": " + e.message;
    return e;
  }
  return TraceStore(std::move(impl).value());
}

Result<TraceStore> TraceStore::from_bytes(const uint8_t* data, size_t size, const ReadOptions& options) {
  MemorySource source(data, size);
  TRY_ASSIGN(auto impl, load(source, options));
  return TraceStore(std::move(impl));
}

const TraceHeader& TraceStore::header() const { return impl_->header; }
bool TraceStore::complete() const { return impl_->summary.complete; }
const std::string& TraceStore::warning() const { return impl_->summary.warning; }
uint64_t TraceStore::size() const { return impl_->summary.events; }
uint64_t TraceStore::memory_bytes() const {
  return impl_->bytes.capacity() + impl_->chunks.capacity() * sizeof(Impl::Chunk) +
         impl_->cache.capacity() * sizeof(Event);
}

const Event& TraceStore::at(uint64_t i) {
  auto& chunks = impl_->chunks;
  // The last chunk whose first_seq <= i.
  auto it = std::upper_bound(chunks.begin(), chunks.end(), i,
                             [](uint64_t seq, const Impl::Chunk& c) { return seq < c.first_seq; });
  const size_t index = static_cast<size_t>(it - chunks.begin()) - 1;
  impl_->decode(index);
  return impl_->cache[i - chunks[index].first_seq];
}

void TraceStore::for_each(const EventCallback& callback) {
  for (size_t c = 0; c < impl_->chunks.size(); ++c) {
    impl_->decode(c);
    for (const Event& e : impl_->cache)
      if (!callback(e)) return;
  }
}

}  // namespace ringscope
