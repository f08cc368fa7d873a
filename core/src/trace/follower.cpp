// follower.cpp — TraceFollower: reading a .rtrace file while a writer is
// still appending to it (docs/trace-format.md, "Reading a trace while it is
// written").
//
// The writer only ever appends whole chunks, each with one writev(), and a
// chunk decodes without the ones before it. So a follower needs to remember
// two numbers between polls: the byte offset of the first chunk it has not
// read, and how many events came before it. Each poll takes the file's size
// again and walks the chunks from there with the same walker every reader
// uses (chunk_walker.cpp); what it learns from where the walk stopped:
//   - the end of the file, or a chunk cut short by it: not written yet, come
//     back later (a writer's bytes below the size it has reached are there:
//     the kernel copies data before it moves the file's size);
//   - a chunk that fails its CRC or its checks: damage, the follower stops
//     and says at which byte, as read_trace does;
//   - the end-of-trace mark: the run is over.
#include <algorithm>
#include <cstring>
#include <optional>

#include "chunk_walker.h"
#include "fmt/format.h"
#include "format.h"
#include "header_codec.h"
#include "ringscope/trace.h"
#include "varint.h"

namespace ringscope {

using namespace trace;

struct TraceFollower::Impl {
  std::string path;
  std::unique_ptr<FileSource> source;
  bool has_header = false;
  TraceHeader header;
  uint64_t offset = 0;  // the first byte not read: after the header and the whole chunks
  uint64_t events = 0;
  bool ended = false;
  bool stopped = false;
  std::string warning;
  std::optional<Error> error;  // sticky

  Error fail(Error e) {
    if (e.kind == ErrorKind::BadData) e.message = path + ": " + e.message;
    error = e;
    return e;
  }

  // Reads the header once the writer has written all of it. Returns false
  // while it is not all there (a writer that has just created the file);
  // bytes that can never become a header are an Error.
  Result<bool> read_header() {
    const uint64_t size = source->size();
    std::vector<uint8_t> buf;
    const auto prefix = static_cast<size_t>(std::min<uint64_t>(size, kFileHeaderFixed));
    if (prefix == 0) return false;  // the writer has created the file and written nothing yet
    auto bytes = source->read(0, prefix, buf);
    if (!bytes) return bytes.error();
    const uint8_t* p = bytes.value();
    uint64_t need = kFileHeaderFixed;
    if (std::memcmp(p, kFileMagic, std::min(prefix, sizeof kFileMagic)) == 0 && prefix == kFileHeaderFixed) {
      const uint32_t block = get_u32le(p + 16);
      if (block <= kMaxHeaderBlock) need = kFileHeaderFixed + block + 4;
    }
    // The magic so far matches and the header is not all there yet: wait.
    if (size < need && std::memcmp(p, kFileMagic, std::min(prefix, sizeof kFileMagic)) == 0) return false;
    bytes = source->read(0, static_cast<size_t>(std::min<uint64_t>(size, need)), buf);
    if (!bytes) return bytes.error();
    size_t header_size = 0;
    auto h = decode_file_header(bytes.value(), static_cast<size_t>(std::min<uint64_t>(size, need)), header_size);
    if (!h) return h.error();
    header = std::move(h).value();
    offset = header_size;
    has_header = true;
    return true;
  }
};

TraceFollower::TraceFollower(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceFollower::~TraceFollower() = default;

Result<std::unique_ptr<TraceFollower>> TraceFollower::open(const std::string& path) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->source = std::move(source).value();
  return std::unique_ptr<TraceFollower>(new TraceFollower(std::move(impl)));
}

Result<uint64_t> TraceFollower::poll(const EventCallback& callback) {
  Impl& im = *impl_;
  if (im.error) return *im.error;
  if (im.ended || im.stopped) return uint64_t{0};
  if (auto st = im.source->restat(); !st) return im.fail(st.error());
  if (im.source->size() < im.offset)
    return im.fail(make_error(ErrorKind::IoError,
                              fmt::format("the trace {} became shorter ({} bytes) than what was already read ({} "
                                          "bytes): it was truncated or replaced; open it again",
                                          im.path, im.source->size(), im.offset)));
  if (!im.has_header) {
    auto got = im.read_header();
    if (!got) return im.fail(got.error());
    if (!got.value()) return uint64_t{0};
  }
  if (im.source->size() == im.offset) return uint64_t{0};  // nothing new: the usual case, one fstat

  CallbackConsumer consumer(callback);
  ReadSummary summary;
  summary.events = im.events;
  WalkEnd end;
  auto st = walk_chunks(*im.source, im.offset, ReadOptions{}, consumer, summary, end);
  const uint64_t delivered = summary.events - im.events;
  im.events = summary.events;
  if (!st) {
    Error e = st.error();
    if (e.message.find("became shorter") != std::string::npos)
      e.message += " (it was truncated or replaced while being followed; open it again)";
    return im.fail(e);
  }
  switch (end.why) {
    case WalkEnd::Why::Incomplete: im.offset = end.offset; break;
    case WalkEnd::Why::EndMark:
      im.offset = end.offset;
      im.ended = true;
      im.warning = summary.warning;  // bytes after the mark, if any
      break;
    case WalkEnd::Why::Damaged:
    case WalkEnd::Why::Consumer:
    case WalkEnd::Why::Limit:
      im.stopped = true;
      im.warning = summary.warning;
      break;
  }
  return delivered;
}

bool TraceFollower::has_header() const { return impl_->has_header; }
const TraceHeader& TraceFollower::header() const { return impl_->header; }
uint64_t TraceFollower::events() const { return impl_->events; }
uint64_t TraceFollower::offset() const { return impl_->offset; }
bool TraceFollower::ended() const { return impl_->ended; }
bool TraceFollower::stopped() const { return impl_->stopped; }
const std::string& TraceFollower::warning() const { return impl_->warning; }

}  // namespace ringscope
