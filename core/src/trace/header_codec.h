// header_codec.h — the file header: magic, versions, the TraceHeader fields,
// CRC (docs/trace-format.md "File header").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ringscope/result.h"
#include "ringscope/trace.h"

namespace ringscope::trace {

// The complete header bytes for `h` (strings longer than the limit are cut).
std::vector<uint8_t> encode_file_header(const TraceHeader& h);

// Parses and validates the header at the start of `data`; on success sets
// `header_size` to the offset of the first chunk. Errors are BadData and
// name the byte offset.
Result<TraceHeader> decode_file_header(const uint8_t* data, size_t size, size_t& header_size);

}  // namespace ringscope::trace
