// boot.cpp — building the guest's first moments: start_info and entry state.
#include "ringscope/boot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

// struct hvm_start_info / hvm_modlist_entry / hvm_memmap_table_entry, from
// Xen's public/arch-x86/hvm/start_info.h (version 1).
struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);
static_assert(offsetof(HvmStartInfo, rsdp_paddr) == boot_layout::kStartInfoRsdp);
struct HvmModlistEntry {
  uint64_t paddr, size, cmdline_paddr, reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);
struct HvmMemmapEntry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);
constexpr uint32_t kE820Ram = 1, kE820Reserved = 2;

constexpr uint64_t page_up(uint64_t v) { return (v + 0xfff) & ~0xfffull; }
constexpr uint64_t page_down(uint64_t v) { return v & ~0xfffull; }

void zero(GuestMemory& mem, uint64_t gpa, uint64_t len) {
  auto s = mem.slice(gpa, len);
  std::memset(s.data(), 0, s.size());
}

// Copies a string into block 2's strings area; returns its GPA.
Result<uint64_t> put_string(GuestMemory& mem, uint64_t info, uint64_t& cursor, const std::string& s) {
  using namespace boot_layout;
  if (cursor + s.size() + 1 > info + kStringsEnd)
    return make_error(ErrorKind::Usage,
                      trf("the kernel command line and module names exceed {} bytes", kStringsEnd - kStrings));
  uint64_t at = cursor;
  mem.write(at, s.c_str(), s.size() + 1);
  cursor += s.size() + 1;
  return at;
}

SegmentState flat(uint16_t selector, uint8_t type, bool code64, bool db) {
  SegmentState s;
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = true;
  s.s = true;
  s.l = code64;
  s.db = db;
  s.g = true;
  return s;
}

void build_long_mode_tables(GuestMemory& mem, uint64_t tables) {
  using namespace boot_layout;
  constexpr uint64_t kPresentWrite = 0x3, kHuge = 0x80;
  uint64_t pml4e = (tables + kPdpt) | kPresentWrite, pdpte = (tables + kPd) | kPresentWrite;
  zero(mem, tables, kTablesBytes);
  mem.write(tables + kPml4, &pml4e, 8);
  mem.write(tables + kPdpt, &pdpte, 8);
  for (uint64_t i = 0; i < 512; i++) {
    uint64_t pde = (i << 21) | kPresentWrite | kHuge;
    mem.write(tables + kPd + i * 8, &pde, 8);
  }
}

// The first range in `occupied` that overlaps `r`, or nullptr.
const GpaRange* first_overlap(const std::vector<GpaRange>& occupied, const GpaRange& r) {
  for (const auto& o : occupied)
    if (o.overlaps(r)) return &o;
  return nullptr;
}

// The PC memory map: low RAM, the legacy VGA/BIOS hole, then the rest of
// RAM, with any VMM block above 1 MiB cut out as reserved (so a kernel's
// page allocator leaves start_info alone). Sorted, non-overlapping.
std::vector<HvmMemmapEntry> memory_map(uint64_t ram_bytes, const std::vector<GpaRange>& high_blocks) {
  std::vector<HvmMemmapEntry> map = {{0, 0xa0000, kE820Ram, 0}, {0xa0000, 0x60000, kE820Reserved, 0}};
  std::vector<GpaRange> cuts = high_blocks;
  std::sort(cuts.begin(), cuts.end(), [](const GpaRange& a, const GpaRange& b) { return a.begin < b.begin; });
  uint64_t at = boot_layout::kHighBegin;
  for (const auto& c : cuts) {
    if (c.begin > at) map.push_back({at, c.begin - at, kE820Ram, 0});
    map.push_back({c.begin, c.end - c.begin, kE820Reserved, 0});
    at = c.end;
  }
  if (ram_bytes > at) map.push_back({at, ram_bytes - at, kE820Ram, 0});
  return map;
}

}  // namespace

Result<GpaRange> place_block(const std::vector<GpaRange>& occupied, uint64_t ram_bytes, uint64_t bytes,
                             uint64_t preferred, const std::string& what) {
  using namespace boot_layout;
  auto fits = [&](uint64_t at) {
    GpaRange r{at, at + bytes, what};
    return r.end <= ram_bytes && !first_overlap(occupied, r);
  };
  if (preferred && fits(preferred)) return GpaRange{preferred, preferred + bytes, what};
  // Low memory, lowest first: a candidate is the region's start or the
  // page after something that is in the way.
  std::vector<uint64_t> starts = {kLowBegin};
  for (const auto& o : occupied) starts.push_back(page_up(o.end));
  std::sort(starts.begin(), starts.end());
  for (uint64_t at : starts)
    if (at >= kLowBegin && at + bytes <= kLowEnd && fits(at)) return GpaRange{at, at + bytes, what};
  // Above 1 MiB, highest first: the top of RAM, or just below something.
  std::vector<uint64_t> ends = {page_down(ram_bytes)};
  for (const auto& o : occupied) ends.push_back(page_down(o.begin));
  std::sort(ends.rbegin(), ends.rend());
  for (uint64_t end : ends)
    if (end >= kHighBegin + bytes && end <= ram_bytes && fits(end - bytes)) return GpaRange{end - bytes, end, what};
  std::string in_the_way;
  for (const auto& o : occupied) in_the_way += (in_the_way.empty() ? "" : ", ") + o.describe();
  return make_error(ErrorKind::BadData,
                    trf("no room for the {} ({:#x} bytes) in {} MiB of guest RAM: the image and modules "
                        "occupy {}; give the machine more RAM (--ram) or make the image smaller",
                        what, bytes, ram_bytes >> 20, in_the_way.empty() ? "nothing" : in_the_way));
}

Result<BootState> prepare_boot(GuestMemory& mem, const ElfImage& kernel, const std::vector<BootModule>& modules,
                               const std::string& cmdline, bool force_pvh) {
  using namespace boot_layout;
  if (modules.size() > kMaxModules)
    return make_error(ErrorKind::Usage, trf("{} boot modules given; at most {}", modules.size(), kMaxModules));
  bool long64 = kernel.entry64 && !force_pvh;
  if (!long64 && !kernel.pvh_entry)
    return make_error(ErrorKind::BadData, tr("the kernel has neither a PVH nor a ringscope entry note"));

  // What the image occupies: every PT_LOAD segment (an image without the
  // list, built by hand, stands for its whole span).
  BootLayout layout;
  layout.occupied = kernel.segments;
  if (layout.occupied.empty() && kernel.highest_paddr > kernel.lowest_paddr)
    layout.occupied.push_back({kernel.lowest_paddr, kernel.highest_paddr, "the kernel image"});

  // Modules go page-aligned above the kernel image, where the teaching
  // kernel's allocator already leaves them alone; one that does not fit
  // there goes wherever there is room (as QEMU puts an initrd at the top of
  // RAM).
  uint64_t place = page_up(std::max(kernel.highest_paddr, kHighBegin));
  const GpaRange ram{0, mem.size(), fmt::format("guest RAM ({} MiB)", mem.size() >> 20)};
  for (const auto& m : modules) {
    GpaRange r{place, place + m.bytes.size(), fmt::format("boot module {}", m.name)};
    if (r.end < r.begin || !ram.contains(r)) {
      TRY_ASSIGN(GpaRange elsewhere, place_block(layout.occupied, mem.size(), page_up(m.bytes.size()), 0, r.what));
      r = {elsewhere.begin, elsewhere.begin + m.bytes.size(), r.what};
    }
    mem.write(r.begin, m.bytes.data(), m.bytes.size());
    layout.modules.push_back(r);
    layout.occupied.push_back(r);
    place = std::max(place, page_up(r.end));
  }

  // The VMM's own blocks, where nothing else is.
  std::vector<GpaRange> placed = layout.occupied;
  std::vector<GpaRange> high_blocks;
  TRY_ASSIGN(GpaRange info, place_block(placed, mem.size(), kInfoBytes, kPreferredInfo, "boot information"));
  placed.push_back(info);
  if (info.begin >= kHighBegin) high_blocks.push_back(info);
  layout.info = info.begin;
  if (long64) {
    TRY_ASSIGN(GpaRange tables, place_block(placed, mem.size(), kTablesBytes, kPreferredTables, "boot page tables"));
    if (tables.begin >= kHighBegin) high_blocks.push_back(tables);
    layout.tables = tables.begin;
  }
  const uint64_t base = layout.info;
  zero(mem, base, kInfoBytes);

  uint64_t strings = base + kStrings;
  HvmStartInfo si{};
  si.magic = kHvmStartMagic;
  si.version = 1;
  TRY_ASSIGN(si.cmdline_paddr, put_string(mem, base, strings, cmdline));
  for (size_t i = 0; i < modules.size(); i++) {
    HvmModlistEntry e{layout.modules[i].begin, modules[i].bytes.size(), 0, 0};
    TRY_ASSIGN(e.cmdline_paddr, put_string(mem, base, strings, modules[i].name));
    mem.write(base + kModlist + i * sizeof e, &e, sizeof e);
  }
  si.nr_modules = static_cast<uint32_t>(modules.size());
  si.modlist_paddr = modules.empty() ? 0 : base + kModlist;

  std::vector<HvmMemmapEntry> map = memory_map(mem.size(), high_blocks);
  if (map.size() > kMaxMemmapEntries)
    return make_error(ErrorKind::Internal,
                      trf("the memory map has {} entries, more than its {} slots", map.size(), kMaxMemmapEntries));
  mem.write(base + kMemmap, map.data(), map.size() * sizeof map[0]);
  si.memmap_paddr = base + kMemmap;
  si.memmap_entries = static_cast<uint32_t>(map.size());
  mem.write(base + kStartInfo, &si, sizeof si);
  layout.start_info = base + kStartInfo;

  BootState b;
  b.start_info = layout.start_info;
  b.rbx = layout.start_info;
  if (long64) {
    build_long_mode_tables(mem, layout.tables);
    // GDT: null, 64-bit code (0x08), data (0x10).
    const uint64_t gdt[3] = {0, 0x00af9a000000ffffull, 0x00cf92000000ffffull};
    mem.write(base + kGdt, gdt, sizeof gdt);
    b.entry = BootEntry::Long64;
    b.rip = *kernel.entry64;
    b.cr0 = 0x80050033;  // PG | AM | WP | NE | ET | MP | PE
    b.cr3 = layout.tables + kPml4;
    b.cr4 = 0x20;    // PAE
    b.efer = 0x500;  // LME | LMA
    b.cs = flat(0x08, 0xb, /*code64=*/true, /*db=*/false);
    b.ds = flat(0x10, 0x3, false, true);
    b.gdt_base = base + kGdt;
    b.gdt_limit = 3 * 8 - 1;
  } else {
    // The PVH boot ABI (Xen's xen.git/docs/misc/pvh.pandoc): CR0.PE only, CR4 0,
    // EFER 0, flat 4 GiB 32-bit CS (execute/read) and DS/ES/SS
    // (read/write), a busy 32-bit TSS with limit 0x67, IF/TF/VM clear.
    // The selectors and the GDTR are unspecified: the kernel loads its own.
    b.entry = BootEntry::Pvh32;
    b.rip = *kernel.pvh_entry;
    b.cr0 = 0x11;  // PE | ET: protected mode, paging off (PVH spec)
    b.cs = flat(0x08, 0xb, false, /*db=*/true);
    b.ds = flat(0x10, 0x3, false, true);
    b.gdt_base = 0;
    b.gdt_limit = 0xffff;
  }
  b.layout = std::move(layout);
  // A busy 64/32-bit TSS is required for VM entry; its contents do not
  // matter until the guest loads its own.
  b.tr.type = 0xb;
  b.tr.present = true;
  b.tr.s = false;
  b.tr.limit = 0x67;
  return b;
}

}  // namespace ringscope
