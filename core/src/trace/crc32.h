// crc32.h — CRC-32 (IEEE 802.3, the zlib/PNG polynomial), used to seal the
// trace header and every chunk so a reader can tell a torn or flipped byte
// from data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringscope::trace {

// CRC of `len` bytes, continuing from `crc` (pass 0 to start).
uint32_t crc32(const void* data, size_t len, uint32_t crc = 0);

}  // namespace ringscope::trace
