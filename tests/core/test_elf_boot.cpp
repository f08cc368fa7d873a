// Tests of the ELF loader against good and hostile images, and of the boot
// state and start_info it leads to.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/boot.h"
#include "ringscope/elf_loader.h"
#include "support/tiny_elf.h"

namespace ringscope {
namespace {

std::vector<uint8_t> make_kernel(bool with_entry64 = true, bool with_pvh = true) {
  test::TinyKernel k;
  k.code.assign(0x100, 0);
  for (int i = 0; i < 0x100; i++) k.code[i] = static_cast<uint8_t>(i);
  k.entry64 = with_entry64;
  k.pvh = with_pvh;
  return test::make_tiny_kernel(k);
}

struct Ram {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(8 << 20, 0xcc);
  GuestMemory mem{bytes.data(), bytes.size()};
};

TEST(ElfLoader, LoadsSegmentsByPhysicalAddressAndFindsBothEntryNotes) {
  Ram ram;
  auto img = load_elf(make_kernel(), ram.mem, "k");
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pvh_entry.value(), 0x100000u);
  EXPECT_EQ(img->entry64.value(), 0x100000u);
  EXPECT_EQ(img->lowest_paddr, 0x100000u);
  EXPECT_EQ(img->highest_paddr, 0x102000u);
  EXPECT_EQ(ram.bytes[0x100000 + 0x42], 0x42);
  EXPECT_EQ(ram.bytes[0x100000 + 0x1fff], 0) << "memsz beyond filesz is zeroed";
}

TEST(ElfLoader, RejectsBadFilesWithASentenceAndTouchesNothing) {
  Ram ram;
  auto expect_bad = [&](std::vector<uint8_t> f, const char* needle) {
    auto r = load_elf(f, ram.mem, "kernel.elf");
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.error().kind, ErrorKind::BadData);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    EXPECT_EQ(ram.bytes[0x100000], 0xcc) << "guest RAM must stay untouched";
  };
  expect_bad({}, "shorter than an ELF header");
  auto f = make_kernel();
  f[0] = 'X';
  expect_bad(f, "no ELF magic");
  f = make_kernel();
  f[EI_CLASS] = ELFCLASS32;
  expect_bad(f, "64-bit");
  f = make_kernel();
  f.resize(0x420);  // the segment's bytes run past the end
  expect_bad(f, "past the end of the file");
  f = make_kernel();
  reinterpret_cast<Elf64_Ehdr*>(f.data())->e_phoff = 0xffffffffffff0000ull;
  expect_bad(f, "program headers");
  f = make_kernel(false, false);
  expect_bad(f, "no PVH entry note");
  // A segment that does not fit in guest RAM.
  f = make_kernel();
  auto* ph = reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr));
  ph->p_paddr = 0x7ff000;
  expect_bad(f, "does not fit");
  // Every truncation of a valid image fails cleanly (or succeeds), never crashes.
  auto good = make_kernel();
  for (size_t n = 0; n < good.size(); n += 7) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + n);
    (void)inspect_elf(cut, "cut");
  }
}

TEST(Boot, Long64EntryGetsPageTablesStartInfoAndModules) {
  Ram ram;
  auto img = load_elf(make_kernel(), ram.mem, "k");
  ASSERT_TRUE(img.ok());
  std::vector<BootModule> mods = {{"prog", std::vector<uint8_t>(5000, 0xab)}};
  auto boot = prepare_boot(ram.mem, *img, mods, "n=16");
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  EXPECT_EQ(boot->entry, BootEntry::Long64);
  EXPECT_EQ(boot->rip, 0x100000u);
  EXPECT_EQ(boot->rbx, boot_layout::kPreferredInfo + boot_layout::kStartInfo) << "low memory is free: the usual place";
  EXPECT_EQ(boot->rbx, boot->start_info);
  EXPECT_TRUE(boot->cs.l);
  EXPECT_EQ(boot->efer & 0x500, 0x500u);
  uint32_t magic = 0, nr_modules = 0;
  uint64_t modlist = 0, cmdline = 0;
  ram.mem.read(boot->start_info, &magic, 4);
  ram.mem.read(boot->start_info + 12, &nr_modules, 4);
  ram.mem.read(boot->start_info + 16, &modlist, 8);
  ram.mem.read(boot->start_info + 24, &cmdline, 8);
  EXPECT_EQ(magic, kHvmStartMagic);
  EXPECT_EQ(nr_modules, 1u);
  std::string s;
  ASSERT_TRUE(ram.mem.read_cstring(cmdline, 64, s));
  EXPECT_EQ(s, "n=16");
  uint64_t mod_paddr = 0, mod_size = 0, mod_name = 0;
  ram.mem.read(modlist, &mod_paddr, 8);
  ram.mem.read(modlist + 8, &mod_size, 8);
  ram.mem.read(modlist + 16, &mod_name, 8);
  EXPECT_EQ(mod_paddr, 0x102000u) << "page-aligned above the kernel";
  EXPECT_EQ(mod_size, 5000u);
  EXPECT_EQ(ram.bytes[mod_paddr + 4999], 0xab);
  ASSERT_TRUE(ram.mem.read_cstring(mod_name, 64, s));
  EXPECT_EQ(s, "prog");
  // The identity map covers 1 GiB with 2 MiB pages.
  uint64_t pde;
  EXPECT_EQ(boot->layout.tables, boot_layout::kPreferredTables);
  EXPECT_EQ(boot->cr3, boot->layout.tables);
  ram.mem.read(boot->layout.tables + boot_layout::kPd + 511 * 8, &pde, 8);
  EXPECT_EQ(pde, (511ull << 21) | 0x83);
}

TEST(Boot, PvhEntryIsThirtyTwoBitWithPagingOff) {
  Ram ram;
  auto img = load_elf(make_kernel(), ram.mem, "k");
  ASSERT_TRUE(img.ok());
  auto boot = prepare_boot(ram.mem, *img, {}, "", /*force_pvh=*/true);
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot->entry, BootEntry::Pvh32);
  EXPECT_EQ(boot->rip, 0x100000u);
  EXPECT_EQ(boot->cr0 & 0x80000001u, 1u) << "PE on, PG off";
  EXPECT_TRUE(boot->cs.db);
  EXPECT_FALSE(boot->cs.l);
}

TEST(Boot, RefusesOversizedCommandLines) {
  Ram ram;
  ElfImage img;
  img.lowest_paddr = 0x100000;
  img.highest_paddr = 0x101000;
  img.pvh_entry = 0x100000;
  EXPECT_FALSE(prepare_boot(ram.mem, img, {}, std::string(10000, 'x')).ok());
}

}  // namespace
}  // namespace ringscope
