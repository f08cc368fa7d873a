// paging.cpp — a software MMU walk, for reading guest instructions.
#include "ringscope/paging.h"

namespace ringscope {

namespace {
constexpr uint64_t kPresent = 1, kPageSize = 1ull << 7;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
}  // namespace

std::optional<uint64_t> translate(const GuestMemory& memory, const PagingState& paging, uint64_t gva) {
  if (!(paging.cr0 & (1ull << 31))) return gva & 0xffffffffull;  // paging off
  if (!(paging.efer & (1ull << 10))) return std::nullopt;        // only long-mode paging (LMA) is walked
  uint64_t table = paging.cr3 & kAddrMask;
  // Levels: PML4 (bits 47:39), PDPT (38:30), PD (29:21), PT (20:12).
  for (int level = 3; level >= 0; level--) {
    uint64_t index = (gva >> (12 + 9 * level)) & 0x1ff;
    uint64_t entry;
    if (!memory.read(table + index * 8, &entry, 8)) return std::nullopt;
    if (!(entry & kPresent)) return std::nullopt;
    if ((level == 2 || level == 1) && (entry & kPageSize)) {
      uint64_t page_bits = 12 + 9 * level;  // 1 GiB or 2 MiB page
      uint64_t base = entry & kAddrMask & ~((1ull << page_bits) - 1);
      return base | (gva & ((1ull << page_bits) - 1));
    }
    table = entry & kAddrMask;
  }
  return table | (gva & 0xfff);
}

size_t read_virtual(const GuestMemory& memory, const PagingState& paging, uint64_t gva, void* out, size_t len) {
  auto* dst = static_cast<uint8_t*>(out);
  size_t done = 0;
  while (done < len) {
    uint64_t va = gva + done;
    size_t chunk = std::min<size_t>(len - done, 0x1000 - (va & 0xfff));
    auto pa = translate(memory, paging, va);
    if (!pa || !memory.read(*pa, dst + done, chunk)) break;
    done += chunk;
  }
  return done;
}

}  // namespace ringscope
