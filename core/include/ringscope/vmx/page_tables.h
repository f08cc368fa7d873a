// vmx/page_tables.h — which guest pages hold the guest's own page tables.
//
// The cost that made EPT worth building. With EPT off the CPU never walks
// the guest's page tables: it walks *shadow* tables that the hypervisor
// builds from them (guest-virtual straight to host-physical). A shadow is
// only right while the guest's tables do not change behind the
// hypervisor's back, so the hypervisor write-protects every guest page that
// holds a paging structure it has shadowed: each guest store into one of
// them faults (#PF), exits, and the hypervisor emulates the store and fixes
// its shadow entry (KVM: arch/x86/kvm/mmu/mmu.c, account_shadowed,
// kvm_mmu_page_fault, kvm_mmu_pte_write). With EPT the guest's tables are
// ordinary memory: the CPU walks them itself, then walks EPT for each
// guest-physical address it finds.
//
// PageTableSet is the hypervisor's list of write-protected pages, as the
// model keeps it: every page reachable as a paging structure from the
// current CR3 (4-level paging, SDM Vol. 3A §4.5: PML4 -> PDPT -> PD -> PT,
// not descending through a 1 GiB or 2 MiB page, PS = 1). It is rebuilt on
// every CR3 load and grows as the guest links new tables in (a present
// entry written into a table names a next-level table). It does not shrink
// between CR3 loads: a table the guest unlinks stays protected until the
// next one (as KVM keeps a shadow page until it zaps it).
//
// A guest may make its tables hostile (cycles, a page at several levels,
// entries pointing outside RAM, millions of tables): every page is visited
// at most once per level, entries outside guest RAM are never followed, and
// the set stops growing at a cap (truncated() then says some tables are not
// tracked). Every read goes through GuestMemory's bounds checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ringscope/guest_memory.h"

namespace ringscope::vmx {

// Paging-structure levels as bits, one per level the SDM numbers (§4.5):
// a page may hold tables at several levels at once (a hostile or
// self-mapping guest), so levels() returns a mask.
enum TableLevel : uint8_t {
  kPt = 1 << 0,    // level 1: page table, entries map 4 KiB pages
  kPd = 1 << 1,    // level 2: page directory, entries map 2 MiB pages or point to PTs
  kPdpt = 1 << 2,  // level 3: page-directory-pointer table, 1 GiB pages or PDs
  kPml4 = 1 << 3,  // level 4: the root CR3 names
};
// The entry a store into a table at these levels writes: "pte", "pde",
// "pdpte", "pml4e" (the lowest level when several); "" for none.
std::string_view table_entry_name(uint8_t levels);

class PageTableSet {
 public:
  // 4096 tables map up to 2 M pages (8 GiB in 4 KiB pages): far beyond any
  // teaching guest, and a walk that stays under a few milliseconds.
  static constexpr size_t kDefaultMaxTables = 4096;
  explicit PageTableSet(size_t max_tables = kDefaultMaxTables) : max_tables_(max_tables) {}

  // Forget the old set and walk the tables rooted at `cr3` (its PCID and
  // flag bits ignored). A root outside guest RAM gives an empty set.
  void reload(const GuestMemory& memory, uint64_t cr3);
  void clear();

  // The levels at which the page holding `gpa` is a paging structure; 0 if
  // it is none. One array lookup: the emulator asks this on every store.
  uint8_t levels(uint64_t gpa) const {
    uint64_t pfn = gpa >> 12;
    return pfn < levels_.size() ? levels_[pfn] : 0;
  }
  bool contains(uint64_t gpa) const { return levels(gpa) != 0; }

  // A guest store of `size` bytes (1..16; `value` little-endian, the bytes
  // beyond 8 read as 0) at `gpa`, seen before it lands (Unicorn's write
  // hook). If it lands in a table, each entry it touches is computed as it
  // will be after the store, and a present entry that names a next-level
  // table adds that table (and whatever it already links to). Returns
  // whether the store landed in a table.
  bool note_write(const GuestMemory& memory, uint64_t gpa, uint8_t size, uint64_t value);

  size_t size() const { return pages_.size(); }  // distinct pages
  bool truncated() const { return truncated_; }  // the cap stopped the set growing
  uint64_t root() const { return root_; }
  const std::vector<uint64_t>& pages() const { return pages_; }  // page frame numbers, in walk order
  // Changes whenever the set is rebuilt or a store lands in a table: what
  // a cache of the guest's translations must be invalidated by.
  uint64_t generation() const { return generation_; }

 private:
  // Marks `pfn` a table at `level` (a TableLevel bit) and walks what it
  // links to, breadth first, each (page, level) at most once.
  void add(const GuestMemory& memory, uint64_t pfn, uint8_t level);

  std::vector<uint8_t> levels_;  // per page frame of guest RAM
  std::vector<uint64_t> pages_;  // the frames whose levels_ is non-zero
  size_t max_tables_;
  bool truncated_ = false;
  uint64_t root_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace ringscope::vmx
