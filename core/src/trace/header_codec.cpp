// header_codec.cpp — write and validate the .rtrace file header.
#include "header_codec.h"

#include <cstring>
#include <string_view>

#include "crc32.h"
#include "fmt/format.h"
#include "format.h"
#include "ringscope/i18n.h"
#include "varint.h"

namespace ringscope::trace {
namespace {

// The header strings in file order. Adding a field means appending it here
// (and bumping nothing: a reader ignores bytes after the fields it knows).
std::string TraceHeader::*const kStrings[] = {
    &TraceHeader::scenario,    &TraceHeader::mode,        &TraceHeader::level,     &TraceHeader::params,
    &TraceHeader::host_kernel, &TraceHeader::kvm_flavour, &TraceHeader::cpu_model, &TraceHeader::tool_version,
};

Error bad(size_t offset, std::string_view why) {
  return make_error(ErrorKind::BadData,
                    trf("not a readable ringscope trace: {} (at byte {}); was it written by `ringscope run "
                        "--trace`?",
                        why, offset));
}

}  // namespace

std::vector<uint8_t> encode_file_header(const TraceHeader& h) {
  std::vector<uint8_t> block;
  block.reserve(256);
  uint8_t tmp[kMaxVarint];
  auto put = [&](uint64_t v) { block.insert(block.end(), tmp, put_varint(tmp, v)); };
  for (auto field : kStrings) {
    std::string_view s = h.*field;
    s = s.substr(0, kMaxHeaderString);
    put(s.size());
    block.insert(block.end(), s.begin(), s.end());
  }
  put(h.start_unix_ns);
  put(h.start_mono_ns);
  put(h.vcpus);
  {  // appended fields: a reader that does not know them stops before them
    std::string_view s = std::string_view(h.disk_cache).substr(0, kMaxHeaderString);
    put(s.size());
    block.insert(block.end(), s.begin(), s.end());
  }

  std::vector<uint8_t> out(kFileHeaderFixed + block.size() + 4);
  std::memcpy(out.data(), kFileMagic, sizeof kFileMagic);
  put_u32le(&out[8], kTraceFormatVersion);
  put_u32le(&out[12], kTraceSchemaVersion);
  put_u32le(&out[16], static_cast<uint32_t>(block.size()));
  std::memcpy(&out[kFileHeaderFixed], block.data(), block.size());
  const size_t crc_at = kFileHeaderFixed + block.size();
  put_u32le(&out[crc_at], crc32(out.data(), crc_at));
  return out;
}

Result<TraceHeader> decode_file_header(const uint8_t* data, size_t size, size_t& header_size) {
  if (size == 0) return bad(0, "the file is empty");
  if (size < sizeof kFileMagic || std::memcmp(data, kFileMagic, sizeof kFileMagic) != 0) {
    if (size < sizeof kFileMagic && std::memcmp(data, kFileMagic, size) == 0)
      return bad(size, fmt::format("the file is only {} bytes long, shorter than the header", size));
    return bad(0, "the file does not start with the .rtrace magic bytes");
  }
  if (size < kFileHeaderFixed) return bad(size, "the file ends inside the header");
  TraceHeader h;
  h.format_version = get_u32le(data + 8);
  h.schema_version = get_u32le(data + 12);
  if (h.format_version == 0 || h.format_version > kTraceFormatVersion)
    return make_error(ErrorKind::BadData,
                      trf("the trace uses file format version {} but this ringscope reads version {} "
                          "(at byte 8); upgrade ringscope to read it",
                          h.format_version, kTraceFormatVersion));
  if (h.schema_version == 0 || h.schema_version > kTraceSchemaVersion)
    return make_error(ErrorKind::BadData,
                      trf("the trace uses event schema version {} but this ringscope knows version {} "
                          "(at byte 12); upgrade ringscope to read it",
                          h.schema_version, kTraceSchemaVersion));
  const uint32_t block_len = get_u32le(data + 16);
  if (block_len > kMaxHeaderBlock)
    return bad(16, fmt::format("the header claims {} bytes, more than the {} allowed", block_len, kMaxHeaderBlock));
  const size_t crc_at = kFileHeaderFixed + block_len;
  if (size < crc_at + 4) return bad(size, "the file ends inside the header");
  if (crc32(data, crc_at) != get_u32le(data + crc_at)) return bad(crc_at, "the header's CRC does not match");

  ByteReader r(data + kFileHeaderFixed, data + crc_at);
  for (auto field : kStrings) {
    std::string_view s;
    if (!r.bytes(s, kMaxHeaderString)) return bad(kFileHeaderFixed + r.offset(), "a header string is malformed");
    (h.*field).assign(s);
  }
  uint64_t vcpus = 0;
  if (!r.varint(h.start_unix_ns) || !r.varint(h.start_mono_ns) || !r.varint(vcpus) || vcpus > 0xffffffffu)
    return bad(kFileHeaderFixed + r.offset(), "a header number is malformed");
  h.vcpus = static_cast<uint32_t>(vcpus);
  if (!r.at_end()) {  // absent in traces written before it
    std::string_view s;
    if (!r.bytes(s, kMaxHeaderString)) return bad(kFileHeaderFixed + r.offset(), "the disk cache mode is malformed");
    h.disk_cache.assign(s);
  }
  header_size = crc_at + 4;
  return h;
}

}  // namespace ringscope::trace
