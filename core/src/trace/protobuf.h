// protobuf.h — just enough of the protobuf wire format to write Perfetto
// traces without the Perfetto SDK: varint, fixed64, double and
// length-delimited fields. Nested messages are built in their own
// ProtoWriter and appended as bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "varint.h"

namespace ringscope::trace {

class ProtoWriter {
 public:
  enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2 };

  void varint_field(uint32_t field, uint64_t v) {
    key(field, kVarint);
    varint(v);
  }
  void int64_field(uint32_t field, int64_t v) { varint_field(field, static_cast<uint64_t>(v)); }
  void fixed64_field(uint32_t field, uint64_t v) {
    key(field, kFixed64);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    buf_.append(b, 8);
  }
  void double_field(uint32_t field, double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(uint32_t field, std::string_view bytes) {
    key(field, kLen);
    varint(bytes.size());
    buf_.append(bytes);
  }
  void message_field(uint32_t field, const ProtoWriter& nested) { bytes_field(field, nested.buf_); }

  const std::string& bytes() const { return buf_; }
  void clear() { buf_.clear(); }

 private:
  void key(uint32_t field, WireType t) { varint((uint64_t{field} << 3) | t); }
  void varint(uint64_t v) {
    uint8_t tmp[kMaxVarint];
    const uint8_t* end = put_varint(tmp, v);
    buf_.append(reinterpret_cast<const char*>(tmp), static_cast<size_t>(end - tmp));
  }

  std::string buf_;
};

}  // namespace ringscope::trace
