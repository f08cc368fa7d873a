// boot.h — the state a vCPU starts in, and the PVH start_info the guest reads.
//
// docs/boot-protocol.md is the guest-facing description. Two entries:
//   Long64: ringscope's direct 64-bit entry (ELF note "ringscope", type 1):
//           long mode, identity map of the first 1 GiB, RBX = start_info.
//   Pvh32:  the Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY): 32-bit protected
//           mode, paging off, EBX = start_info. Any PVH kernel boots this way.
// The state is plain data so every backend (KVM, Unicorn) applies the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ringscope/elf_loader.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope {

// Where the VMM puts its own boot structures (docs/boot-protocol.md, "Where
// the VMM puts things"). Nothing is at a fixed address: prepare_boot()
// computes what the image occupies (every PT_LOAD segment, then the
// modules) and places each block in free RAM, as a real VMM does: the
// preferred address below if it is free (where they always were for a
// kernel linked at 1 MiB), else the first free place in low memory, else
// the highest free place above 1 MiB (then marked reserved in the memory
// map, so the kernel does not hand those pages out).
namespace boot_layout {
// Block 1: the boot page tables (Long64 entry only): PML4, PDPT, one page
// directory of 512 x 2 MiB pages = an identity map of the first 1 GiB.
inline constexpr uint64_t kTablesBytes = 0x3000;
inline constexpr uint64_t kPml4 = 0x0000, kPdpt = 0x1000, kPd = 0x2000;  // offsets in block 1
inline constexpr uint64_t kPreferredTables = 0x1000;
// Block 2: GDT, start_info, memory map, module list, strings (cmdline, then
// module names). Offsets in block 2.
inline constexpr uint64_t kInfoBytes = 0x3000;
inline constexpr uint64_t kGdt = 0x0000;
inline constexpr uint64_t kStartInfo = 0x1000;
inline constexpr uint64_t kStartInfoRsdp = 32;  // offset of rsdp_paddr in start_info (acpi_tables.h)
inline constexpr uint64_t kMemmap = 0x1100;
inline constexpr uint64_t kModlist = 0x1200;
inline constexpr uint64_t kStrings = 0x1400;
inline constexpr uint64_t kStringsEnd = 0x3000;
inline constexpr uint64_t kPreferredInfo = 0x5000;
inline constexpr uint64_t kMaxModules = 8;
inline constexpr uint64_t kMaxMemmapEntries = (kModlist - kMemmap) / 24;
// Low memory the VMM may use: page 0 stays free (a null pointer there
// should fault in the guest's own tables, not scribble on start_info), and
// 640 KiB .. 1 MiB is the PC's legacy hole.
inline constexpr uint64_t kLowBegin = 0x1000, kLowEnd = 0xa0000, kHighBegin = 0x100000;
}  // namespace boot_layout

// Where prepare_boot() put everything, for backends, tests and `show`.
struct BootLayout {
  std::vector<GpaRange> occupied;  // the image's segments and the modules (what the VMM worked around)
  uint64_t tables = 0;             // block 1, or 0 when the entry needs none
  uint64_t info = 0;               // block 2
  uint64_t start_info = 0;
  std::vector<GpaRange> modules;
};

// Finds `bytes` (a multiple of 4 KiB) of free RAM for `what`: `preferred`
// if free, else the lowest free page-aligned place in [kLowBegin, kLowEnd),
// else the highest one in [kHighBegin, ram_bytes). "Free" means inside RAM
// and overlapping nothing in `occupied`. No room is a BadData error that
// names what was being placed and the ranges in the way.
Result<GpaRange> place_block(const std::vector<GpaRange>& occupied, uint64_t ram_bytes, uint64_t bytes,
                             uint64_t preferred, const std::string& what);

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;

enum class BootEntry : uint8_t { Long64, Pvh32 };

struct SegmentState {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint8_t type = 0;  // descriptor type field
  uint8_t dpl = 0;
  bool present = false, s = true, db = false, l = false, g = false;
};

struct BootState {
  BootEntry entry = BootEntry::Long64;
  uint64_t rip = 0;
  uint64_t rbx = 0;  // GPA of hvm_start_info
  uint64_t rflags = 0x2;
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
  SegmentState cs, ds, tr;
  uint64_t gdt_base = 0;
  uint16_t gdt_limit = 0;
  uint64_t start_info = 0;
  BootLayout layout;
};

struct BootModule {
  std::string name;  // becomes the module's cmdline (the kernel shows it as the program name)
  std::vector<uint8_t> bytes;
};

// Places modules page-aligned above the kernel's highest segment, then the
// VMM's own blocks where nothing is (place_block), writes start_info
// (cmdline, module list, memory map), and for Long64 builds the boot page
// tables and GDT. Prefers the Long64 entry when the image has one, unless
// force_pvh is set. Refuses only a real conflict: a module past the end of
// RAM, or no free room for a block (both ranges named).
Result<BootState> prepare_boot(GuestMemory& memory, const ElfImage& kernel, const std::vector<BootModule>& modules,
                               const std::string& cmdline, bool force_pvh = false);

}  // namespace ringscope
