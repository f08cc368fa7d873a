// paging.h — walking the guest's own page tables (x86-64 4-level paging).
//
// The VMM sees guest *physical* memory; an instruction pointer is a guest
// *virtual* address. To show the instruction at RIP we translate it the way
// the CPU's MMU would (Intel SDM Vol. 3A §4.5), with every table entry read
// through bounds-checked GuestMemory.
#pragma once

#include <cstdint>
#include <optional>

#include "ringscope/guest_memory.h"

namespace ringscope {

struct PagingState {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
};

// The guest physical address of `gva`, or nullopt if not mapped. With paging
// off (CR0.PG = 0) addresses are physical.
std::optional<uint64_t> translate(const GuestMemory& memory, const PagingState& paging, uint64_t gva);

// Reads up to `len` bytes at a guest virtual address, page by page; returns
// how many bytes could be read before the first unmapped page.
size_t read_virtual(const GuestMemory& memory, const PagingState& paging, uint64_t gva, void* out, size_t len);

}  // namespace ringscope
