// format.h — the constants of the .rtrace layout (docs/trace-format.md has
// the byte-by-byte description). Writer and reader include only this file for
// magic numbers and limits, so the two cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringscope::trace {

// File magic, PNG style: a high byte catches 7-bit transfers, CR LF and LF
// catch line-ending conversion, ^Z stops `type` on DOS.
inline constexpr uint8_t kFileMagic[8] = {0x89, 'R', 'T', 'R', '\r', '\n', 0x1a, '\n'};

// Fixed part of the file header: magic, format version, schema version,
// field-block length. Then the field block, then a CRC-32 of everything
// before it.
inline constexpr size_t kFileHeaderFixed = 8 + 4 + 4 + 4;
inline constexpr uint32_t kMaxHeaderBlock = 64 * 1024;
inline constexpr uint32_t kMaxHeaderString = 4096;

// Every chunk starts with this 40-byte frame:
//   0 magic "RTCK"   4 type u8   5 flags u8 (0)   6 reserved u16 (0)
//   8 payload length u32   12 event count u32   16 first time_ns u64
//  24 first seq u64   32 payload CRC-32   36 CRC-32 of bytes 0..35
inline constexpr uint8_t kChunkMagic[4] = {'R', 'T', 'C', 'K'};
inline constexpr size_t kChunkHeaderSize = 40;
inline constexpr uint8_t kChunkEvents = 1;
inline constexpr uint8_t kChunkEnd = 2;  // written by close(): the trace is complete

// The writer seals a chunk once its payload reaches this size.
inline constexpr size_t kChunkTarget = 64 * 1024;
// The reader refuses larger payloads (a hostile length must not make it
// allocate or wait for gigabytes).
inline constexpr uint32_t kMaxChunkPayload = 16 * 1024 * 1024;
// Every event takes at least two bytes (tag and time delta).
inline constexpr uint32_t kMinEventBytes = 2;

// Strings in events: longer ones are cut by the writer and refused by the reader.
inline constexpr uint32_t kMaxEventString = 1024 * 1024;
// Strings up to this length are interned per chunk ("uart", "THR", counter
// names, instruction bytes); longer ones (console output) are written inline.
inline constexpr uint32_t kMaxInternedLength = 64;
inline constexpr uint32_t kMaxInternedPerChunk = 1024;

// The event tag byte: kind in the low nibble, which recent event of the same
// kind the fields are relative to, and whether a field mask follows.
inline constexpr uint8_t kTagKindMask = 0x0f;
inline constexpr int kTagRefShift = 4;
inline constexpr uint8_t kTagRefMask = 0x30;
inline constexpr uint8_t kTagHasMask = 0x40;
inline constexpr uint8_t kTagReserved = 0x80;
inline constexpr int kHistoryDepth = 4;

// String references inside an event (after the field's mask bit):
//   0 empty   1 inline string, not interned   2 inline string, interned as the
//   next id   n >= 3: interned string id n - 2
inline constexpr uint64_t kStrEmpty = 0;
inline constexpr uint64_t kStrInline = 1;
inline constexpr uint64_t kStrInlineInterned = 2;
inline constexpr uint64_t kStrFirstId = 3;

}  // namespace ringscope::trace
