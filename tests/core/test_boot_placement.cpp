// Where the VMM puts its boot structures (start_info, memory map, module
// list, strings, GDT, page tables): never over the image, wherever the
// image's PT_LOAD segments are; and a real conflict names both ranges.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/boot.h"
#include "ringscope/elf_loader.h"
#include "support/tiny_elf.h"

namespace ringscope {
namespace {

struct Ram {
  explicit Ram(uint64_t bytes = 8 << 20) : bytes(bytes, 0xcc), mem(this->bytes.data(), this->bytes.size()) {}
  std::vector<uint8_t> bytes;
  GuestMemory mem;
};

ElfImage image_of(std::vector<GpaRange> segments, bool entry64) {
  ElfImage img;
  for (const auto& s : segments) {
    img.lowest_paddr = std::min(img.lowest_paddr, s.begin);
    img.highest_paddr = std::max(img.highest_paddr, s.end);
  }
  img.segments = std::move(segments);
  img.pvh_entry = 0x100000;
  if (entry64) img.entry64 = 0x100000;
  return img;
}

// Every block the VMM wrote, as ranges.
std::vector<GpaRange> vmm_blocks(const BootState& b) {
  std::vector<GpaRange> r = {{b.layout.info, b.layout.info + boot_layout::kInfoBytes, "boot information"}};
  if (b.layout.tables) r.push_back({b.layout.tables, b.layout.tables + boot_layout::kTablesBytes, "page tables"});
  return r;
}

void expect_no_overlap(const BootState& b, const std::vector<GpaRange>& segments, uint64_t ram) {
  for (const auto& blk : vmm_blocks(b)) {
    EXPECT_LE(blk.end, ram) << blk.describe();
    EXPECT_EQ(blk.begin % 4096, 0u) << blk.describe();
    for (const auto& s : segments) EXPECT_FALSE(blk.overlaps(s)) << blk.describe() << " overlaps " << s.describe();
    for (const auto& m : b.layout.modules)
      EXPECT_FALSE(blk.overlaps(m)) << blk.describe() << " overlaps " << m.describe();
  }
  for (const auto& m : b.layout.modules)
    for (const auto& s : segments) EXPECT_FALSE(m.overlaps(s)) << m.describe() << " overlaps " << s.describe();
  auto blocks = vmm_blocks(b);
  if (blocks.size() == 2) {
    EXPECT_FALSE(blocks[0].overlaps(blocks[1]));
  }
  EXPECT_GE(b.start_info, b.layout.info);
  EXPECT_LT(b.start_info, b.layout.info + boot_layout::kInfoBytes);
}

// The layouts the linkers really produce (tests/guests/pvh), and worse.
TEST(BootPlacement, StructuresNeverOverlapAnyLoadSegment) {
  const std::vector<std::vector<GpaRange>> layouts = {
      {{0x100000, 0x180000, "kernel at 1 MiB"}},
      // GNU ld's default: the ELF header page just below .text, an orphan note at 4 MiB.
      {{0xff000, 0xff158, "headers"},
       {0x100000, 0x10003b, "text"},
       {0x101000, 0x101068, "rodata"},
       {0x400158, 0x40016c, "note"}},
      // ld.lld's default: headers at 2 MiB, .text at 1 MiB.
      {{0x200000, 0x2001c8, "headers"}, {0x100000, 0x10003b, "text"}, {0x10103c, 0x1010b8, "rodata"}},
      // A kernel sitting on exactly where the VMM used to put everything.
      {{0x1000, 0x9000, "low kernel"}, {0x100000, 0x110000, "text"}},
      // Low memory full: the blocks must go above 1 MiB.
      {{0x0, 0xa0000, "all of low RAM"}, {0x100000, 0x200000, "text"}},
      // Low memory full and the kernel at the top of RAM.
      {{0x0, 0xa0000, "all of low RAM"}, {0x700000, 0x800000, "top"}},
  };
  for (bool entry64 : {true, false}) {
    for (const auto& segs : layouts) {
      Ram ram;
      ElfImage img = image_of(segs, entry64);
      std::vector<BootModule> mods = {{"prog", std::vector<uint8_t>(5000, 0xab)}};
      if (segs.back().end == 0x800000) mods.clear();  // nowhere above the kernel for a module
      auto boot = prepare_boot(ram.mem, img, mods, "task=hello");
      ASSERT_TRUE(boot.ok()) << segs.front().describe() << ": " << boot.error().message;
      SCOPED_TRACE(segs.front().describe() + (entry64 ? " (64-bit entry)" : " (PVH entry)"));
      expect_no_overlap(*boot, segs, ram.mem.size());
      EXPECT_EQ(boot->entry, entry64 ? BootEntry::Long64 : BootEntry::Pvh32);
      EXPECT_EQ(boot->layout.tables != 0, entry64) << "page tables only for the 64-bit entry";
      uint32_t magic = 0;
      ram.mem.read(boot->start_info, &magic, 4);
      EXPECT_EQ(magic, kHvmStartMagic);
      if (entry64) {
        EXPECT_EQ(boot->cr3, boot->layout.tables);
        uint64_t pml4e = 0;
        ram.mem.read(boot->cr3, &pml4e, 8);
        EXPECT_EQ(pml4e & ~0xfffull, boot->layout.tables + boot_layout::kPdpt);
        EXPECT_EQ(boot->gdt_base, boot->layout.info + boot_layout::kGdt);
      }
    }
  }
}

// A block placed above 1 MiB is cut out of the memory map as reserved, so
// the kernel's page allocator does not hand start_info out.
TEST(BootPlacement, HighBlocksAreReservedInTheMemoryMap) {
  Ram ram;
  ElfImage img = image_of({{0x0, 0xa0000, "all of low RAM"}, {0x100000, 0x200000, "text"}}, false);
  auto boot = prepare_boot(ram.mem, img, {}, "");
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  ASSERT_GE(boot->layout.info, boot_layout::kHighBegin);
  uint64_t memmap = 0;
  uint32_t entries = 0;
  ram.mem.read(boot->start_info + 40, &memmap, 8);   // hvm_start_info.memmap_paddr
  ram.mem.read(boot->start_info + 48, &entries, 4);  // .memmap_entries
  ASSERT_GT(entries, 3u);
  bool reserved = false;
  uint64_t ram_total = 0;
  for (uint32_t i = 0; i < entries; i++) {
    uint64_t addr = 0, size = 0;
    uint32_t type = 0;
    ram.mem.read(memmap + i * 24, &addr, 8);
    ram.mem.read(memmap + i * 24 + 8, &size, 8);
    ram.mem.read(memmap + i * 24 + 16, &type, 4);
    GpaRange e{addr, addr + size, "entry"};
    GpaRange info{boot->layout.info, boot->layout.info + boot_layout::kInfoBytes, "info"};
    if (type == 1) {
      EXPECT_FALSE(e.overlaps(info)) << "RAM entry " << e.describe() << " covers start_info";
      ram_total += size;
    }
    if (type == 2 && e.contains(info)) reserved = true;
  }
  EXPECT_TRUE(reserved);
  EXPECT_EQ(ram_total, ram.mem.size() - 0x60000 - boot_layout::kInfoBytes);
}

TEST(BootPlacement, NoRoomNamesWhatIsInTheWay) {
  std::vector<GpaRange> occupied = {{0x0, 0x400000, "segment 0"}};
  auto r = place_block(occupied, 0x400000, 0x3000, 0x5000, "boot information");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadData);
  EXPECT_NE(r.error().message.find("boot information"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("segment 0 [0x0, 0x400000)"), std::string::npos) << r.error().message;
}

TEST(BootPlacement, PrefersTheUsualPlaceThenLowMemoryThenTheTopOfRam) {
  auto at = [](std::vector<GpaRange> occ, uint64_t preferred) {
    auto r = place_block(occ, 8 << 20, 0x3000, preferred, "x");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->begin : 0;
  };
  EXPECT_EQ(at({{0x100000, 0x200000, "k"}}, 0x5000), 0x5000u);
  EXPECT_EQ(at({{0x4000, 0x6000, "k"}}, 0x5000), 0x1000u) << "the lowest free place";
  EXPECT_EQ(at({{0x0, 0x3000, "k"}, {0x4000, 0x6000, "k"}}, 0x5000), 0x6000u);
  EXPECT_EQ(at({{0x0, 0x9f000, "k"}}, 0x5000), (8u << 20) - 0x3000) << "the top of RAM";
  EXPECT_EQ(at({{0x0, 0x9f000, "k"}, {0x7ff000, 0x800000, "k"}}, 0x5000), 0x7fc000u);
}

// A segment outside RAM (over the MMIO space above it) is refused by the
// loader with both ranges in the message.
TEST(BootPlacement, ASegmentBeyondRamNamesBothRanges) {
  Ram ram(4 << 20);
  test::TinyKernel k;
  auto f = test::make_tiny_kernel(k);
  auto* ph = reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr));
  ph->p_paddr = 0x3ff000;  // 0x2000 bytes: one page past the end of RAM
  auto r = load_elf(f, ram.mem, "kernel.elf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadData);
  EXPECT_NE(r.error().message.find("segment 0 [0x3ff000, 0x401000)"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("guest RAM (4 MiB) [0x0, 0x400000)"), std::string::npos) << r.error().message;
  EXPECT_EQ(ram.bytes[0x3ff000], 0xcc) << "nothing loaded";
}

// A module that does not fit above the kernel goes where there is room;
// with no room anywhere, the error names it and what is in the way.
TEST(BootPlacement, ModulesGoWhereThereIsRoomOrNameWhatIsInTheWay) {
  {
    Ram ram(4 << 20);
    ElfImage img = image_of({{0x100000, 0x200000, "segment 1"}, {0x3ff000, 0x400000, "segment 2"}}, false);
    std::vector<BootModule> mods = {{"prog", std::vector<uint8_t>(0x5000, 1)}};
    auto boot = prepare_boot(ram.mem, img, mods, "");
    ASSERT_TRUE(boot.ok()) << boot.error().message;
    ASSERT_EQ(boot->layout.modules.size(), 1u);
    expect_no_overlap(*boot, img.segments, ram.mem.size());
    EXPECT_EQ(ram.bytes[boot->layout.modules[0].begin], 1);
  }
  Ram ram(4 << 20);
  ElfImage img = image_of({{0x100000, 0x200000, "segment 1"}}, false);
  std::vector<BootModule> mods = {{"big", std::vector<uint8_t>(3 << 20, 1)}};
  auto r = prepare_boot(ram.mem, img, mods, "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("boot module big"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("segment 1 [0x100000, 0x200000)"), std::string::npos) << r.error().message;
}

// The image at 0xff000 the way GNU ld links it, loaded for real: the
// segment below 1 MiB is loaded, and boot succeeds around it.
TEST(BootPlacement, AnImageBelowOneMiBBoots) {
  Ram ram;
  test::TinyKernel k;
  k.entry64 = false;
  auto f = test::make_tiny_kernel(k);
  auto* ph = reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr));
  ph->p_paddr = ph->p_vaddr = 0xff000;
  auto img = load_elf(f, ram.mem, "k");
  ASSERT_TRUE(img.ok()) << img.error().message;
  ASSERT_EQ(img->segments.size(), 1u);
  EXPECT_EQ(img->segments[0].begin, 0xff000u);
  auto boot = prepare_boot(ram.mem, *img, {}, "");
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  expect_no_overlap(*boot, img->segments, ram.mem.size());
  EXPECT_EQ(ram.bytes[0xff000], 0xf4) << "the hlt at the start of the segment";
}

}  // namespace
}  // namespace ringscope
