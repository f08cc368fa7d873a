// descriptors.cpp — reading descriptors the way the CPU does.
//
// A segment descriptor scatters its base and limit across the 8 bytes for
// historical reasons (the 80286 had 24-bit bases); a 64-bit gate is two
// quadwords. Both layouts are drawn in SDM Vol. 3A Figures 3-8 and 6-8.
#include "ringscope/arch/descriptors.h"

#include <algorithm>
#include <cstring>

namespace ringscope::arch {

bool PagedMemory::read(uint64_t la, void* out, size_t len, uint64_t* fault_address) {
  auto* dst = static_cast<uint8_t*>(out);
  for (size_t done = 0; done < len;) {
    uint64_t va = la + done;
    size_t chunk = std::min<size_t>(len - done, 0x1000 - (va & 0xfff));
    auto pa = translate(memory_, paging_, va);
    if (!pa || !memory_.read(*pa, dst + done, chunk)) {
      if (fault_address) *fault_address = va;
      return false;
    }
    done += chunk;
  }
  return true;
}

bool PagedMemory::write(uint64_t la, const void* in, size_t len, uint64_t* fault_address) {
  const auto* src = static_cast<const uint8_t*>(in);
  for (size_t done = 0; done < len;) {
    uint64_t va = la + done;
    size_t chunk = std::min<size_t>(len - done, 0x1000 - (va & 0xfff));
    auto pa = translate(memory_, paging_, va);
    if (!pa || !memory_.write(*pa, src + done, chunk)) {
      if (fault_address) *fault_address = va;
      return false;
    }
    done += chunk;
  }
  return true;
}

// Figure 3-8: limit 15:0 in bits 15:0 and 19:16 in bits 51:48; base 23:0 in
// bits 39:16 and 31:24 in bits 63:56; then type, S, DPL, P, AVL, L, D/B, G.
Segment decode_segment(uint64_t d, uint16_t selector) {
  Segment s;
  s.selector = selector;
  uint32_t limit = static_cast<uint32_t>((d & 0xffff) | ((d >> 32) & 0xf0000));
  s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
  s.type = (d >> 40) & 0xf;
  s.s = (d >> 44) & 1;
  s.dpl = (d >> 45) & 3;
  s.present = (d >> 47) & 1;
  s.l = (d >> 53) & 1;
  s.db = (d >> 54) & 1;
  s.g = (d >> 55) & 1;
  s.limit = s.g ? (limit << 12) | 0xfff : limit;  // G: the limit counts 4 KiB pages
  return s;
}

uint64_t encode_segment(const Segment& s) {
  uint64_t limit = s.g ? (uint64_t(s.limit) >> 12) : s.limit;
  uint64_t d = (limit & 0xffff) | ((limit & 0xf0000) << 32);
  d |= (s.base & 0xffffff) << 16;
  d |= ((s.base >> 24) & 0xff) << 56;
  d |= uint64_t(s.type & 0xf) << 40;
  d |= uint64_t(s.s) << 44;
  d |= uint64_t(s.dpl & 3) << 45;
  d |= uint64_t(s.present) << 47;
  d |= uint64_t(s.l) << 53;
  d |= uint64_t(s.db) << 54;
  d |= uint64_t(s.g) << 55;
  return d;
}

// Figure 6-8: offset 15:0, selector, IST (bits 34:32), type, DPL, P,
// offset 31:16; then offset 63:32 in the second quadword.
Gate decode_gate(const uint8_t b[16]) {
  uint64_t lo, hi;
  std::memcpy(&lo, b, 8);
  std::memcpy(&hi, b + 8, 8);
  Gate g;
  g.offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | ((hi & 0xffffffff) << 32);
  g.selector = static_cast<uint16_t>(lo >> 16);
  g.ist = (lo >> 32) & 7;
  g.type = (lo >> 40) & 0xf;
  g.dpl = (lo >> 45) & 3;
  g.present = (lo >> 47) & 1;
  return g;
}

void encode_gate(const Gate& g, uint8_t b[16]) {
  uint64_t lo = (g.offset & 0xffff) | (uint64_t(g.selector) << 16) | (uint64_t(g.ist & 7) << 32) |
                (uint64_t(g.type & 0xf) << 40) | (uint64_t(g.dpl & 3) << 45) | (uint64_t(g.present) << 47) |
                ((g.offset & 0xffff0000) << 32);
  uint64_t hi = g.offset >> 32;
  std::memcpy(b, &lo, 8);
  std::memcpy(b + 8, &hi, 8);
}

// §3.4.2: index = selector >> 3, TI = bit 2, RPL = bits 1:0. The descriptor
// must lie entirely within GDTR.limit (§3.5.1).
std::optional<Segment> read_gdt_segment(const CpuState& cpu, LinearMemory& memory, uint16_t selector) {
  if (selector & 4) return std::nullopt;  // TI = 1: the LDT, which this model does not have
  uint64_t offset = selector & 0xfff8;
  if (offset + 7 > cpu.gdtr.limit) return std::nullopt;
  uint64_t d;
  if (!memory.read(cpu.gdtr.base + offset, &d, 8, nullptr)) return std::nullopt;
  return decode_segment(d, selector);
}

}  // namespace ringscope::arch
