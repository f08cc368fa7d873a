// reader.cpp — read_trace: validate the header, then walk the chunks.
//
// The promise (DESIGN.md): a bad header is an Error naming the byte offset;
// anything wrong after it (a torn tail, a flipped bit, a hostile length)
// stops the walk, keeps every complete chunk before it, and says where and
// why in Trace::warning with complete = false. A chunk's events are kept
// all or nothing.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "chunk_decoder.h"
#include "crc32.h"
#include "fmt/format.h"
#include "format.h"
#include "header_codec.h"
#include "ringscope/trace.h"
#include "varint.h"

namespace ringscope {

using namespace trace;

namespace {

class ChunkWalker {
 public:
  ChunkWalker(const uint8_t* data, size_t size, const ReadOptions& options, Trace& t)
      : data_(data), size_(size), options_(options), t_(t), store_(t.strings), decoder_(store_, t.regs) {}

  void walk(size_t offset) {
    while (true) {
      if (offset == size_) return stop(offset, "the file ends without an end-of-trace mark (the writer did not "
                                               "close it: killed, crashed, or still running)");
      if (size_ - offset < kChunkHeaderSize)
        return stop(offset, fmt::format("the file ends inside a chunk header ({} of {} bytes)", size_ - offset,
                                        kChunkHeaderSize));
      const uint8_t* h = data_ + offset;
      // The header CRC covers the magic too, so check it first: any damaged
      // byte of a chunk header then reads as a CRC mismatch.
      if (crc32(h, 36) != get_u32le(h + 36)) return stop(offset, "the chunk header's CRC does not match");
      if (std::memcmp(h, kChunkMagic, sizeof kChunkMagic) != 0) return stop(offset, "no chunk magic here");
      const uint8_t type = h[4];
      const uint32_t len = get_u32le(h + 8);
      const uint32_t count = get_u32le(h + 12);
      const uint64_t first_time = get_u64le(h + 16);
      const uint64_t first_seq = get_u64le(h + 24);
      const uint32_t crc = get_u32le(h + 32);
      if (h[5] != 0 || h[6] != 0 || h[7] != 0) return stop(offset, "the chunk's reserved bytes are not zero");
      if (len > kMaxChunkPayload)
        return stop(offset, fmt::format("the chunk claims a {}-byte payload, more than the {} allowed", len,
                                        kMaxChunkPayload));
      const size_t payload_at = offset + kChunkHeaderSize;
      if (size_ - payload_at < len)
        return stop(offset, fmt::format("the file ends inside a chunk ({} of {} payload bytes present)",
                                        size_ - payload_at, len));
      const uint8_t* payload = data_ + payload_at;
      if (crc32(payload, len) != crc) return stop(offset, "the chunk's CRC does not match (corrupt data)");
      const uint64_t have = t_.events.size();
      if (first_seq != have)
        return stop(offset, fmt::format("the chunk starts at event {} but {} events came before it", first_seq,
                                        have));

      if (type == kChunkEnd) {
        ByteReader r(payload, payload + len);
        uint64_t total = 0;
        if (count != 0 || !r.varint(total) || !r.at_end() || total != have)
          return stop(offset, "the end-of-trace mark is malformed");
        t_.complete = true;
        const size_t end = payload_at + len;
        if (end != size_)
          t_.warning = fmt::format("{} bytes after the end-of-trace mark at byte {} were ignored", size_ - end,
                                   offset);
        return;
      }
      if (type != kChunkEvents) return stop(offset, fmt::format("unknown chunk type {}", type));
      if (options_.max_events != 0 && have >= options_.max_events) return limit();
      if (count == 0 || uint64_t{count} * kMinEventBytes > len)
        return stop(offset, fmt::format("the chunk claims {} events in {} bytes", count, len));

      size_t bad_at = 0;
      std::string why;
      if (!decoder_.decode(ChunkInfo{payload, len, count, first_time, first_seq}, t_.events, bad_at, why)) {
        t_.events.resize(have);
        return stop(payload_at + bad_at, why);
      }
      if (options_.max_events != 0 && t_.events.size() > options_.max_events) {
        t_.events.resize(options_.max_events);
        return limit();
      }
      offset = payload_at + len;
    }
  }

 private:
  void limit() {
    t_.complete = false;
    t_.warning = fmt::format("stopped after {} events as asked (max_events); the file has more", t_.events.size());
  }
  void stop(size_t offset, const std::string& why) {
    t_.complete = false;
    t_.warning = fmt::format("truncated after {} events at byte {}: {}", t_.events.size(), offset, why);
  }

  const uint8_t* data_;
  size_t size_;
  const ReadOptions& options_;
  Trace& t_;
  StringStore store_;
  ChunkDecoder decoder_;
};

}  // namespace

Result<Trace> read_trace_bytes(const std::vector<uint8_t>& bytes, const ReadOptions& options) {
  size_t header_size = 0;
  auto header = decode_file_header(bytes.data(), bytes.size(), header_size);
  if (!header) return header.error();
  Trace t;
  t.header = std::move(header).value();
  ChunkWalker(bytes.data(), bytes.size(), options, t).walk(header_size);
  return t;
}

Result<Trace> read_trace(const std::string& path, const ReadOptions& options) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rbe"), &std::fclose);
  if (!f)
    return make_error(errno == ENOENT ? ErrorKind::NoInput : ErrorKind::IoError,
                      fmt::format("cannot open the trace {}: {}", path, std::strerror(errno)));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.insert(bytes.end(), buf, buf + n);
  if (std::ferror(f.get()))
    return make_error(ErrorKind::IoError, fmt::format("cannot read the trace {}: {}", path, std::strerror(errno)));
  auto t = read_trace_bytes(bytes, options);
  if (!t) return make_error(t.error().kind, path + ": " + t.error().message);
  return t;
}

}  // namespace ringscope
