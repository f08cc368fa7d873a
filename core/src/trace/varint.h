// varint.h — LEB128 varints, zigzag deltas and little-endian fixed fields:
// the byte-level vocabulary of the .rtrace format (docs/trace-format.md).
//
// Writers put bytes through a raw pointer whose room the caller guaranteed
// (kMaxVarint per varint); readers go through ByteReader, which checks every
// byte against the end and never reads past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringscope::trace {

inline constexpr size_t kMaxVarint = 10;  // a uint64 needs at most 10 LEB128 bytes

inline uint8_t* put_varint(uint8_t* p, uint64_t v) {
  if (v < 0x80) [[likely]] {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// Zigzag maps small signed deltas (either direction) onto small unsigned
// numbers: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... The subtraction wraps, so any
// pair of uint64 values round-trips exactly.
inline uint64_t zigzag_delta(uint64_t value, uint64_t reference) {
  uint64_t d = value - reference;
  return (d << 1) ^ static_cast<uint64_t>(static_cast<int64_t>(d) >> 63);
}
inline uint64_t unzigzag_delta(uint64_t zz, uint64_t reference) {
  uint64_t d = (zz >> 1) ^ (~(zz & 1) + 1);
  return reference + d;
}

inline void put_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put_u64le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t get_u32le(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t get_u64le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A bounds-checked cursor over untrusted bytes. Every getter returns false
// (and leaves the cursor where the bad field started) instead of reading
// past the end or accepting an over-long varint.
class ByteReader {
 public:
  ByteReader(const uint8_t* begin, const uint8_t* end) : begin_(begin), p_(begin), end_(end) {}

  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  const uint8_t* pos() const { return p_; }

  bool byte(uint8_t& out) {
    if (p_ == end_) return false;
    out = *p_++;
    return true;
  }

  bool varint(uint64_t& out) {
    if (p_ != end_ && *p_ < 0x80) {  // most varints in a trace are one byte
      out = *p_++;
      return true;
    }
    return varint_long(out);
  }
  bool varint_long(uint64_t& out) {
    uint64_t v = 0;
    const uint8_t* q = p_;
    for (int shift = 0; shift < 64; shift += 7) {
      if (q == end_) return false;
      uint8_t b = *q++;
      // The 10th byte may only carry the top bit of a uint64.
      if (shift == 63 && b > 1) return false;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        p_ = q;
        out = v;
        return true;
      }
    }
    return false;
  }

  // A length-prefixed byte string of at most max_len bytes, as a view into
  // the input.
  bool bytes(std::string_view& out, uint64_t max_len) {
    const uint8_t* start = p_;
    uint64_t n = 0;
    if (!varint(n)) return false;
    if (n > max_len || n > remaining()) {
      p_ = start;
      return false;
    }
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return true;
  }

 private:
  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace ringscope::trace
