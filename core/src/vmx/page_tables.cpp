// page_tables.cpp — the guest's paging structures, found the way the CPU
// finds them (Intel SDM Vol. 3A §4.5, 4-level paging), for the shadow
// paging model (vmx/page_tables.h).
#include "ringscope/vmx/page_tables.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

namespace ringscope::vmx {

namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kPageSize = 1ull << 7;              // PS: this entry maps a page, not a table
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;  // bits 51:12, the next table or page frame

// The table an entry of a table at `level` points to, or nothing: not
// present; PS set in a PDPTE or PDE (a 1 GiB or 2 MiB page: the walk ends
// there, Table 4-16 and 4-18); PS set in a PML4E (reserved, the walk faults);
// an entry of a PT (it maps a 4 KiB page); or a table not wholly in guest RAM
// (never read: under a hypervisor that is MMIO or nothing, not a table).
std::optional<uint64_t> next_table(const GuestMemory& memory, uint64_t entry, uint8_t level) {
  if (level == kPt || !(entry & kPresent) || (entry & kPageSize)) return std::nullopt;
  uint64_t table = entry & kAddrMask;
  if (!memory.contains(table, 4096)) return std::nullopt;
  return table;
}

}  // namespace

std::string_view table_entry_name(uint8_t levels) {
  if (levels & kPt) return "pte";
  if (levels & kPd) return "pde";
  if (levels & kPdpt) return "pdpte";
  if (levels & kPml4) return "pml4e";
  return "";
}

void PageTableSet::clear() {
  for (uint64_t pfn : pages_) levels_[pfn] = 0;
  pages_.clear();
  truncated_ = false;
  root_ = 0;
  generation_++;
}

void PageTableSet::reload(const GuestMemory& memory, uint64_t cr3) {
  clear();
  size_t frames = static_cast<size_t>(memory.size() >> 12);
  if (levels_.size() != frames) levels_.assign(frames, 0);
  root_ = cr3 & kAddrMask;  // bits 11:0 are PCID or PWT/PCD, bit 63 "no flush" on a MOV to CR3
  if (memory.contains(root_, 4096)) add(memory, root_ >> 12, kPml4);
}

// Each (page, level) is marked when first seen and scanned once, so a cycle
// (a table linking back to an ancestor, or to itself) ends, and the work
// list never holds more than four entries per tracked page.
void PageTableSet::add(const GuestMemory& memory, uint64_t pfn, uint8_t level) {
  auto mark = [&](uint64_t f, uint8_t l) {
    if (f >= levels_.size() || (levels_[f] & l)) return false;
    if (!levels_[f]) {
      if (pages_.size() >= max_tables_) {
        truncated_ = true;
        return false;
      }
      pages_.push_back(f);
    }
    levels_[f] |= l;
    return true;
  };
  if (!mark(pfn, level)) return;
  std::vector<std::pair<uint64_t, uint8_t>> work{{pfn, level}};
  while (!work.empty()) {
    auto [f, l] = work.back();
    work.pop_back();
    if (l == kPt) continue;  // its entries map pages
    std::span<uint8_t> table = memory.slice(f << 12, 4096);
    if (table.empty()) continue;
    for (size_t i = 0; i < 512; i++) {
      uint64_t entry;
      std::memcpy(&entry, table.data() + 8 * i, 8);
      if (auto child = next_table(memory, entry, l); child && mark(*child >> 12, uint8_t(l >> 1)))
        work.emplace_back(*child >> 12, uint8_t(l >> 1));
    }
  }
}

bool PageTableSet::note_write(const GuestMemory& memory, uint64_t gpa, uint8_t size, uint64_t value) {
  uint8_t levels_here = levels(gpa);
  if (!levels_here) return false;
  generation_++;
  size = std::min<uint8_t>(size, 8);
  if (size == 0) return true;
  // The entries the store touches, each as it will read once the store has
  // landed: its old bytes with the stored ones laid over them. (A store
  // running past the end of the page leaves the next page to its own check.)
  uint64_t end = std::min(gpa + size, (gpa | 0xfff) + 1);
  for (uint64_t at = gpa & ~7ull; at < end; at += 8) {
    uint64_t entry;
    if (!memory.read(at, &entry, 8)) continue;
    for (uint64_t b = std::max(gpa, at); b < std::min(end, at + 8); b++) {
      uint64_t byte = (value >> (8 * (b - gpa))) & 0xff;
      unsigned shift = unsigned(8 * (b - at));
      entry = (entry & ~(0xffull << shift)) | (byte << shift);
    }
    // A new link: the table it names is shadowed (write-protected) from now on.
    for (uint8_t l = kPd; l <= kPml4; l = uint8_t(l << 1))
      if (levels_here & l)
        if (auto child = next_table(memory, entry, l)) add(memory, *child >> 12, uint8_t(l >> 1));
  }
  return true;
}

}  // namespace ringscope::vmx
