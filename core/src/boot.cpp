// boot.cpp — building the guest's first moments: start_info and entry state.
#include "ringscope/boot.h"

#include <fmt/format.h>

#include <cstring>

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

// Copies a string into the strings area; returns its GPA.
Result<uint64_t> put_string(GuestMemory& mem, uint64_t& cursor, const std::string& s) {
  if (cursor + s.size() + 1 > boot_layout::kStringsEnd)
    return make_error(ErrorKind::Usage, fmt::format("the kernel command line and module names exceed {} bytes",
                                                    boot_layout::kStringsEnd - boot_layout::kStrings));
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

void build_long_mode_tables(GuestMemory& mem) {
  using namespace boot_layout;
  constexpr uint64_t kPresentWrite = 0x3, kHuge = 0x80;
  uint64_t pml4e = kPdpt | kPresentWrite, pdpte = kPd | kPresentWrite;
  mem.write(kPml4, &pml4e, 8);
  mem.write(kPdpt, &pdpte, 8);
  for (uint64_t i = 0; i < 512; i++) {
    uint64_t pde = (i << 21) | kPresentWrite | kHuge;
    mem.write(kPd + i * 8, &pde, 8);
  }
  // GDT: null, 64-bit code (0x08), data (0x10).
  const uint64_t gdt[3] = {0, 0x00af9a000000ffffull, 0x00cf92000000ffffull};
  mem.write(kGdt, gdt, sizeof gdt);
}

}  // namespace

Result<BootState> prepare_boot(GuestMemory& mem, const ElfImage& kernel, const std::vector<BootModule>& modules,
                               const std::string& cmdline, bool force_pvh) {
  using namespace boot_layout;
  if (kernel.lowest_paddr < kKernelMin)
    return make_error(ErrorKind::BadData, fmt::format("the kernel loads at {:#x}, below 1 MiB where the VMM keeps its "
                                                      "boot structures; link it at 0x100000 or above",
                                                      kernel.lowest_paddr));
  if (modules.size() > kMaxModules)
    return make_error(ErrorKind::Usage, fmt::format("{} boot modules given; at most {}", modules.size(), kMaxModules));

  uint64_t strings = kStrings;
  HvmStartInfo si{};
  si.magic = kHvmStartMagic;
  si.version = 1;
  TRY_ASSIGN(si.cmdline_paddr, put_string(mem, strings, cmdline));

  // Modules go page-aligned above the kernel image.
  uint64_t place = page_up(kernel.highest_paddr);
  for (size_t i = 0; i < modules.size(); i++) {
    const auto& m = modules[i];
    if (!mem.contains(place, m.bytes.size()))
      return make_error(ErrorKind::Usage, fmt::format("boot module {} ({} bytes) does not fit in guest RAM", m.name,
                                                      m.bytes.size()));
    mem.write(place, m.bytes.data(), m.bytes.size());
    HvmModlistEntry e{place, m.bytes.size(), 0, 0};
    TRY_ASSIGN(e.cmdline_paddr, put_string(mem, strings, m.name));
    mem.write(kModlist + i * sizeof e, &e, sizeof e);
    place = page_up(place + m.bytes.size());
  }
  si.nr_modules = static_cast<uint32_t>(modules.size());
  si.modlist_paddr = modules.empty() ? 0 : kModlist;

  // The PC memory map: low RAM, the legacy VGA/BIOS hole, then the rest.
  const HvmMemmapEntry map[3] = {{0, 0xa0000, kE820Ram, 0},
                                 {0xa0000, 0x60000, kE820Reserved, 0},
                                 {0x100000, mem.size() - 0x100000, kE820Ram, 0}};
  mem.write(kMemmap, map, sizeof map);
  si.memmap_paddr = kMemmap;
  si.memmap_entries = 3;
  mem.write(kStartInfo, &si, sizeof si);

  BootState b;
  b.start_info = kStartInfo;
  b.rbx = kStartInfo;
  if (kernel.entry64 && !force_pvh) {
    build_long_mode_tables(mem);
    b.entry = BootEntry::Long64;
    b.rip = *kernel.entry64;
    b.cr0 = 0x80050033;  // PG | AM | WP | NE | ET | MP | PE
    b.cr3 = kPml4;
    b.cr4 = 0x20;     // PAE
    b.efer = 0x500;   // LME | LMA
    b.cs = flat(0x08, 0xb, /*code64=*/true, /*db=*/false);
    b.ds = flat(0x10, 0x3, false, true);
    b.gdt_base = kGdt;
    b.gdt_limit = 3 * 8 - 1;
  } else if (kernel.pvh_entry) {
    b.entry = BootEntry::Pvh32;
    b.rip = *kernel.pvh_entry;
    b.cr0 = 0x11;  // PE | ET: protected mode, paging off (PVH spec)
    b.cs = flat(0x08, 0xb, false, /*db=*/true);
    b.ds = flat(0x10, 0x3, false, true);
    b.gdt_base = 0;
    b.gdt_limit = 0xffff;
  } else {
    return make_error(ErrorKind::BadData, "the kernel has neither a PVH nor a ringscope entry note");
  }
  // A busy 64/32-bit TSS is required for VM entry; its contents do not
  // matter until the guest loads its own.
  b.tr.type = 0xb;
  b.tr.present = true;
  b.tr.s = false;
  b.tr.limit = 0x67;
  return b;
}

}  // namespace ringscope
