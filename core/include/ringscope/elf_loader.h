// elf_loader.h — load an ELF64 kernel image into guest RAM by physical address.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope {

// Xen's PVH entry note (xen/include/public/elfnote.h) and ringscope's own.
inline constexpr uint32_t kXenElfnotePhys32Entry = 18;
inline constexpr uint32_t kRingscopeNoteEntry64 = 1;

// A half-open range [begin, end) of guest-physical addresses and what
// occupies it, for placement and for error messages that name both sides
// of an overlap.
struct GpaRange {
  uint64_t begin = 0, end = 0;
  std::string what;
  bool overlaps(const GpaRange& o) const { return begin < o.end && o.begin < end; }
  bool contains(const GpaRange& o) const { return begin <= o.begin && o.end <= end; }
  std::string describe() const;  // "what [0xbegin, 0xend)"
};

struct ElfImage {
  uint64_t elf_entry = 0;         // e_entry
  uint64_t lowest_paddr = ~0ull;  // of all PT_LOAD segments
  uint64_t highest_paddr = 0;     // end (exclusive) of all PT_LOAD segments
  // Every PT_LOAD segment, in file order: what the image really occupies.
  // The span [lowest_paddr, highest_paddr) may have large holes (GNU ld
  // puts the read-only ELF-header segment a page below .text, and orphan
  // notes megabytes above it); the VMM places its own structures in them.
  std::vector<GpaRange> segments;
  std::optional<uint32_t> pvh_entry;  // XEN_ELFNOTE_PHYS32_ENTRY
  std::optional<uint64_t> entry64;    // ringscope note: direct long-mode entry
};

// Parses and validates `bytes` as an ELF64 x86-64 executable, then copies each
// PT_LOAD segment to its p_paddr (zero-filling up to p_memsz). Every offset
// and size is checked against the file and against guest RAM (a segment
// outside RAM is an error naming the segment's range and RAM's); a bad
// image is a BadData error naming what is wrong, and guest RAM is left
// untouched unless the whole image is valid. Segments may lie anywhere in
// RAM, below 1 MiB too: prepare_boot() works around them.
Result<ElfImage> load_elf(std::span<const uint8_t> bytes, GuestMemory& memory, const std::string& what);

// Only parses (no loading), for `doctor` and tests.
Result<ElfImage> inspect_elf(std::span<const uint8_t> bytes, const std::string& what);

}  // namespace ringscope
