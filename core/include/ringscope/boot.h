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

// Guest physical memory map used by the VMM (below the kernel at 1 MiB).
namespace boot_layout {
inline constexpr uint64_t kPml4 = 0x1000;  // boot page tables (Long64 entry only)
inline constexpr uint64_t kPdpt = 0x2000;
inline constexpr uint64_t kPd = 0x3000;    // 512 x 2 MiB = identity map of 1 GiB
inline constexpr uint64_t kGdt = 0x5000;
inline constexpr uint64_t kStartInfo = 0x6000;
inline constexpr uint64_t kMemmap = 0x6100;
inline constexpr uint64_t kModlist = 0x6200;
inline constexpr uint64_t kStrings = 0x6400;  // cmdline, then module names
inline constexpr uint64_t kStringsEnd = 0x8000;
inline constexpr uint64_t kMaxModules = 8;
inline constexpr uint64_t kKernelMin = 0x100000;
}  // namespace boot_layout

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
};

struct BootModule {
  std::string name;  // becomes the module's cmdline (the kernel shows it as the program name)
  std::vector<uint8_t> bytes;
};

// Writes start_info (cmdline, module list, memory map), places modules
// page-aligned above the kernel, and for Long64 builds the boot page tables
// and GDT. Prefers the Long64 entry when the image has one, unless
// force_pvh is set.
Result<BootState> prepare_boot(GuestMemory& memory, const ElfImage& kernel, const std::vector<BootModule>& modules,
                               const std::string& cmdline, bool force_pvh = false);

}  // namespace ringscope
