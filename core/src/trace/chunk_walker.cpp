// chunk_walker.cpp — walk_trace: the header, then every chunk in order.
#include "chunk_walker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crc32.h"
#include "fmt/format.h"
#include "format.h"
#include "header_codec.h"
#include "varint.h"

namespace ringscope::trace {

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? ErrorKind::NoInput : ErrorKind::IoError,
                      fmt::format("cannot open the trace {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return make_error(ErrorKind::IoError, fmt::format("cannot read the trace {}: {}", path, std::strerror(err)));
  }
  return std::unique_ptr<FileSource>(new FileSource(path, fd, static_cast<uint64_t>(st.st_size)));
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::restat() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return make_error(ErrorKind::IoError, fmt::format("cannot read the trace {}: {}", path_, std::strerror(errno)));
  size_ = static_cast<uint64_t>(st.st_size);
  return ok_status();
}

Result<const uint8_t*> FileSource::read(uint64_t offset, size_t len, std::vector<uint8_t>& buf) {
  if (buf.size() < len) buf.resize(len);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd_, buf.data() + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_error(ErrorKind::IoError, fmt::format("cannot read the trace {}: {}", path_, std::strerror(errno)));
    if (n == 0)
      return make_error(ErrorKind::IoError,
                        fmt::format("cannot read the trace {}: it became shorter while it was being read", path_));
    done += static_cast<size_t>(n);
  }
  return buf.data();
}

namespace {

class Walker {
 public:
  Walker(ByteSource& source, const ReadOptions& options, ChunkConsumer& consumer, ReadSummary& summary, WalkEnd& end)
      : src_(source), size_(source.size()), options_(options), consumer_(consumer), sum_(summary), end_(end) {}

  Status walk(uint64_t offset) {
    while (true) {
      end_ = {WalkEnd::Why::Incomplete, offset};
      if (offset == size_) {
        stop(offset,
             "the file ends without an end-of-trace mark (the writer did not close it: killed, crashed, or "
             "still running)");
        return ok_status();
      }
      if (size_ - offset < kChunkHeaderSize) {
        stop(offset,
             fmt::format("the file ends inside a chunk header ({} of {} bytes)", size_ - offset, kChunkHeaderSize));
        return ok_status();
      }
      auto frame = src_.read(offset, kChunkHeaderSize, frame_buf_);
      if (!frame) return frame.error();
      const uint8_t* h = frame.value();
      // The header CRC covers the magic too, so check it first: any damaged
      // byte of a chunk header then reads as a CRC mismatch.
      if (crc32(h, 36) != get_u32le(h + 36)) return stopped(offset, "the chunk header's CRC does not match");
      if (std::memcmp(h, kChunkMagic, sizeof kChunkMagic) != 0) return stopped(offset, "no chunk magic here");
      const uint8_t type = h[4];
      const uint32_t len = get_u32le(h + 8);
      const uint32_t count = get_u32le(h + 12);
      const uint64_t first_time = get_u64le(h + 16);
      const uint64_t first_seq = get_u64le(h + 24);
      const uint32_t crc = get_u32le(h + 32);
      if (h[5] != 0 || h[6] != 0 || h[7] != 0) return stopped(offset, "the chunk's reserved bytes are not zero");
      if (len > kMaxChunkPayload)
        return stopped(
            offset, fmt::format("the chunk claims a {}-byte payload, more than the {} allowed", len, kMaxChunkPayload));
      const uint64_t payload_at = offset + kChunkHeaderSize;
      if (size_ - payload_at < len) {
        stop(offset,
             fmt::format("the file ends inside a chunk ({} of {} payload bytes present)", size_ - payload_at, len));
        return ok_status();  // still Incomplete: the rest may not be written yet
      }
      auto data = src_.read(payload_at, len, payload_buf_);
      if (!data) return data.error();
      const uint8_t* payload = data.value();
      if (crc32(payload, len) != crc) return stopped(offset, "the chunk's CRC does not match (corrupt data)");
      const uint64_t have = sum_.events;
      if (first_seq != have)
        return stopped(offset,
                       fmt::format("the chunk starts at event {} but {} events came before it", first_seq, have));

      if (type == kChunkEnd) {
        ByteReader r(payload, payload + len);
        uint64_t total = 0;
        if (count != 0 || !r.varint(total) || !r.at_end() || total != have)
          return stopped(offset, "the end-of-trace mark is malformed");
        sum_.complete = true;
        const uint64_t end = payload_at + len;
        end_ = {WalkEnd::Why::EndMark, end};
        if (end != size_)
          sum_.warning =
              fmt::format("{} bytes after the end-of-trace mark at byte {} were ignored", size_ - end, offset);
        return ok_status();
      }
      if (type != kChunkEvents) return stopped(offset, fmt::format("unknown chunk type {}", type));
      if (options_.max_events != 0 && have >= options_.max_events) return limit();
      if (count == 0 || uint64_t{count} * kMinEventBytes > len)
        return stopped(offset, fmt::format("the chunk claims {} events in {} bytes", count, len));

      // The whole chunk is checked before any of its events is handed on.
      const ChunkInfo chunk{payload, len, count, first_time, first_seq};
      size_t bad_at = 0;
      std::string why;
      if (!decoder_.check(chunk, bad_at, why)) return stopped(payload_at + bad_at, why);
      size_t n = count;
      if (options_.max_events != 0 && options_.max_events - have < n) n = options_.max_events - have;
      if (consumer_.take_chunk(chunk, n)) {
        sum_.events += n;
        if (n < count) return limit();
        offset = payload_at + len;
        continue;
      }
      consumer_.begin_chunk();
      size_t taken = 0;
      const bool go_on = decoder_.deliver(chunk, n, consumer_, taken);
      sum_.events += taken;
      if (!go_on) {
        end_.why = WalkEnd::Why::Consumer;
        sum_.complete = false;
        sum_.warning = fmt::format("stopped after {} events: the callback asked to stop", sum_.events);
        return ok_status();
      }
      if (n < count) return limit();
      offset = payload_at + len;
    }
  }

 private:
  Status limit() {
    end_.why = WalkEnd::Why::Limit;
    sum_.complete = false;
    sum_.warning = fmt::format("stopped after {} events as asked (max_events); the file has more", sum_.events);
    return ok_status();
  }
  void stop(uint64_t offset, const std::string& why) {
    sum_.complete = false;
    sum_.warning = fmt::format("truncated after {} events at byte {}: {}", sum_.events, offset, why);
  }
  // A damaged chunk (every stop but the file's end).
  Status stopped(uint64_t offset, const std::string& why) {
    stop(offset, why);
    end_ = {WalkEnd::Why::Damaged, offset};
    return ok_status();
  }

  ByteSource& src_;
  const uint64_t size_;
  const ReadOptions& options_;
  ChunkConsumer& consumer_;
  ReadSummary& sum_;
  WalkEnd& end_;
  ChunkDecoder decoder_;
  std::vector<uint8_t> frame_buf_, payload_buf_;
};

}  // namespace

uint64_t count_events_hint(ByteSource& source, const ReadOptions& options) {
  const uint64_t size = source.size();
  const uint64_t prefix = std::min<uint64_t>(size, kFileHeaderFixed + kMaxHeaderBlock + 4);
  std::vector<uint8_t> buf;
  auto bytes = source.read(0, static_cast<size_t>(prefix), buf);
  if (!bytes) return 0;
  size_t header_size = 0;
  if (!decode_file_header(bytes.value(), static_cast<size_t>(prefix), header_size)) return 0;
  uint64_t total = 0;
  for (uint64_t offset = header_size; size - offset >= kChunkHeaderSize;) {
    auto frame = source.read(offset, kChunkHeaderSize, buf);
    if (!frame) break;
    const uint8_t* h = frame.value();
    if (crc32(h, 36) != get_u32le(h + 36) || std::memcmp(h, kChunkMagic, sizeof kChunkMagic) != 0) break;
    const uint32_t len = get_u32le(h + 8);
    const uint32_t count = get_u32le(h + 12);
    if (h[4] != kChunkEvents || len > kMaxChunkPayload || uint64_t{count} * kMinEventBytes > len) break;
    total += count;
    if (options.max_events != 0 && total >= options.max_events) return options.max_events;
    offset += kChunkHeaderSize + len;
    if (offset > size) break;
  }
  return std::min<uint64_t>(total, size / kMinEventBytes);
}

Status walk_trace(ByteSource& source, const ReadOptions& options, ChunkConsumer& consumer, TraceHeader& header,
                  ReadSummary& summary, WalkEnd* end) {
  summary = ReadSummary{};
  // The header is at most this long; a shorter file is read whole, so every
  // message decode_file_header gives is the one it would give for the file.
  const uint64_t prefix = std::min<uint64_t>(source.size(), kFileHeaderFixed + kMaxHeaderBlock + 4);
  std::vector<uint8_t> buf;
  auto bytes = source.read(0, static_cast<size_t>(prefix), buf);
  if (!bytes) return bytes.error();
  size_t header_size = 0;
  auto h = decode_file_header(bytes.value(), static_cast<size_t>(prefix), header_size);
  if (!h) return h.error();
  header = std::move(h).value();
  WalkEnd ignored;
  return Walker(source, options, consumer, summary, end ? *end : ignored).walk(header_size);
}

Status walk_chunks(ByteSource& source, uint64_t offset, const ReadOptions& options, ChunkConsumer& consumer,
                   ReadSummary& summary, WalkEnd& end) {
  summary.complete = false;
  summary.warning.clear();
  return Walker(source, options, consumer, summary, end).walk(offset);
}

}  // namespace ringscope::trace
