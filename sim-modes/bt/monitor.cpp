// monitor.cpp — building the monitor's pages and mapping them into the guest.
#include "monitor.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "ringscope/arch/transitions.h"
#include "ringscope/paging.h"

namespace ringscope::bt {

namespace {
constexpr uint64_t kPresent = 1, kWritable = 2;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
constexpr int kPml4Entries = 512;

uint64_t slot_base(int slot) {
  uint64_t va = uint64_t(slot) << 39;
  if (slot >= 256) va |= 0xffff000000000000ull;  // canonical upper half
  return va;
}

// A 64-bit code or data segment descriptor (SDM Vol. 3A §3.4.5), DPL 0.
uint64_t descriptor(bool code) {
  uint64_t d = 0xffff;                    // limit 15:0
  d |= uint64_t(code ? 0xb : 0x3) << 40;  // type: execute/read accessed, or read/write accessed
  d |= 1ull << 44;                        // S: code or data
  d |= 1ull << 47;                        // present
  d |= 0xfull << 48;                      // limit 19:16
  d |= uint64_t(code ? 1 : 0) << 53;      // L: 64-bit code
  d |= uint64_t(code ? 0 : 1) << 54;      // D/B: 32-bit data
  d |= 1ull << 55;                        // G
  return d;
}
}  // namespace

MonitorPages::MonitorPages() {
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  host_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
}

MonitorPages::~MonitorPages() {
  if (host_) munmap(host_, kBytes);
}

// The tables for the monitor at slot `slot`: page tables (one PDPT, PD and
// PT), trampolines, GDT, IDT and TSS. Everything that holds a linear
// address is rewritten; the guest's descriptors are mirrored separately.
void MonitorPages::build(int slot) {
  slot_ = slot;
  base_ = slot_base(slot);
  auto* pdpt = reinterpret_cast<uint64_t*>(host_ + kPdptPage * 4096);
  auto* pd = reinterpret_cast<uint64_t*>(host_ + kPdPage * 4096);
  auto* pt = reinterpret_cast<uint64_t*>(host_ + kPtPage * 4096);
  std::memset(host_, 0, 3 * 4096);
  pdpt[0] = (gpa_ + kPdPage * 4096) | kPresent | kWritable;
  pd[0] = (gpa_ + kPtPage * 4096) | kPresent | kWritable;
  for (uint64_t i = 0; i < kMappedBytes / 4096; i++) pt[i] = (gpa_ + (kMapped + i) * 4096) | kPresent | kWritable;

  // Trampolines: [push $0;] push $vector; out %al, $kTrapPort; jmp .
  for (int v = 0; v < 256; v++) {
    uint8_t* s = virt(kStubsOff + uint64_t(v) * 16);
    std::memset(s, 0xcc, 16);
    size_t n = 0;
    if (!arch::pushes_error_code(static_cast<uint8_t>(v))) {
      s[n++] = 0x6a;  // push $0
      s[n++] = 0x00;
    }
    s[n++] = 0x68;  // push $imm32
    uint32_t imm = uint32_t(v);
    std::memcpy(s + n, &imm, 4);
    n += 4;
    s[n++] = 0xe6;  // out %al, $imm8
    s[n++] = kTrapPort;
    s[n++] = 0xeb;  // jmp .
    s[n++] = 0xfe;
  }
  static const uint8_t entry[] = {0x48, 0xcf, 0xeb, 0xfe};                              // iretq; jmp .
  static const uint8_t sys[] = {0xe6, static_cast<uint8_t>(kSyscallPort), 0xeb, 0xfe};  // out %al, $port; jmp .
  std::memset(virt(kEntryOff), 0xcc, 0x1000);
  std::memcpy(virt(kEntryOff), entry, sizeof entry);
  std::memcpy(virt(kSyscallOff), sys, sizeof sys);

  // GDT: the guest's descriptors below (mirror_guest_tables), ours on top.
  auto* gdt = reinterpret_cast<uint64_t*>(virt(kGdtOff));
  gdt[kMonitorCs >> 3] = descriptor(true);
  gdt[kMonitorSs >> 3] = descriptor(false);
  uint64_t tss = this->tss();
  uint64_t limit = 0x67;
  uint64_t lo =
      (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x9ull << 40) | (1ull << 47) | (((tss >> 24) & 0xff) << 56);
  gdt[kMonitorTr >> 3] = lo;  // type 9: available 64-bit TSS
  gdt[(kMonitorTr >> 3) + 1] = tss >> 32;

  // IDT: every vector to its trampoline, an interrupt gate (IF cleared);
  // the DPLs come from the guest's gates (mirror_guest_tables).
  for (int v = 0; v < 256; v++) {
    uint64_t off = base_ + kStubsOff + uint64_t(v) * 16;
    auto* g = reinterpret_cast<uint64_t*>(virt(kIdtOff + uint64_t(v) * 16));
    g[0] =
        (off & 0xffff) | (uint64_t(kMonitorCs) << 16) | (0xeull << 40) | (1ull << 47) | (((off >> 16) & 0xffff) << 48);
    g[1] = off >> 32;
  }

  // TSS: RSP0 is the monitor's stack; no I/O bitmap (all ports fault in ring 3).
  uint8_t* t = virt(kTssOff);
  std::memset(t, 0, 0x68);
  uint64_t rsp0 = stack_top();
  std::memcpy(t + 4, &rsp0, 8);
  uint16_t iomap = 0x68;
  std::memcpy(t + 0x66, &iomap, 2);
}

Status MonitorPages::install(GuestMemory& ram, uint64_t cr3) {
  if (!host_) return make_error(ErrorKind::Internal, "cannot allocate the monitor's pages");
  uint64_t pml4 = cr3 & kAddrMask;
  if (!ram.contains(pml4, 4096))
    return make_error(
        ErrorKind::Unavailable,
        fmt::format("the guest's CR3 ({:#x}) is outside its RAM: the monitor has no PML4 to map into", cr3));
  auto entry = [&](int i) {
    uint64_t e = 0;
    ram.read(pml4 + uint64_t(i) * 8, &e, 8);
    return e;
  };
  int slot = -1;
  if (slot_ >= 0 && !(entry(slot_) & kPresent)) slot = slot_;
  // From the top down: guests (like the teaching kernel) fill the bottom.
  for (int i = kPml4Entries - 1; slot < 0 && i >= 0; i--)
    if (!(entry(i) & kPresent)) slot = i;
  if (slot < 0)
    return make_error(ErrorKind::Unavailable,
                      fmt::format("the guest uses all 512 PML4 slots of its address space (CR3 {:#x}), so the "
                                  "binary-translation monitor has nowhere to map its IDT, GDT and TSS while user "
                                  "code runs; run this guest with --mode full-virt or --mode emulation",
                                  cr3));
  if (slot != slot_) build(slot);
  uint64_t e = (gpa_ + kPdptPage * 4096) | kPresent | kWritable;
  ram.write(pml4 + uint64_t(slot) * 8, &e, 8);
  installed_ = true;
  installed_at_ = pml4;
  return ok_status();
}

void MonitorPages::remove(GuestMemory& ram) {
  if (!installed_) return;
  uint64_t zero = 0;
  ram.write(installed_at_ + uint64_t(slot_) * 8, &zero, 8);
  installed_ = false;
}

Status MonitorPages::mirror_guest_tables(GuestMemory& ram, const arch::CpuState& guest) {
  PagingState paging = guest.paging();
  auto* gdt = reinterpret_cast<uint64_t*>(virt(kGdtOff));
  size_t entries = (size_t(guest.gdtr.limit) + 1) / 8;
  if (entries > size_t(kGuestGdtEntries)) {
    // Only what the guest's selectors in use can name must fit.
    uint16_t highest = std::max(guest.cs.selector, guest.ss.selector);
    if ((highest >> 3) >= kGuestGdtEntries)
      return make_error(ErrorKind::Unavailable,
                        fmt::format("the guest's user selectors ({:#x}, {:#x}) collide with the monitor's own "
                                    "descriptors at {:#x} and up; run this guest with --mode full-virt",
                                    guest.cs.selector, guest.ss.selector, kMonitorCs));
    entries = kGuestGdtEntries;
  }
  if (copied_gdt_ > entries) std::memset(gdt + entries, 0, (copied_gdt_ - entries) * 8);
  if (entries && read_virtual(ram, paging, guest.gdtr.base, gdt, entries * 8) != entries * 8)
    return make_error(ErrorKind::Unavailable,
                      fmt::format("cannot read the guest's GDT at {:#x} through its page tables", guest.gdtr.base));
  copied_gdt_ = entries;
  uint8_t idt[256 * 16] = {};
  size_t idt_bytes = std::min<size_t>(sizeof idt, size_t(guest.idtr.limit) + 1);
  if (read_virtual(ram, paging, guest.idtr.base, idt, idt_bytes) != idt_bytes)
    return make_error(ErrorKind::Unavailable,
                      fmt::format("cannot read the guest's IDT at {:#x} through its page tables", guest.idtr.base));
  for (size_t v = 0; v < 256; v++) {
    uint8_t dpl = 0;
    if ((v + 1) * 16 <= idt_bytes && (idt[v * 16 + 5] & 0x80)) dpl = (idt[v * 16 + 5] >> 5) & 3;
    uint8_t* attr = virt(kIdtOff + v * 16 + 5);
    *attr = static_cast<uint8_t>((*attr & ~0x60) | (dpl << 5));
  }
  return ok_status();
}

uint64_t MonitorPages::push_entry_frame(uint64_t rip, uint16_t cs, uint64_t rflags, uint64_t rsp, uint16_t ss) {
  uint64_t frame[5] = {rip, cs, rflags, rsp, ss};
  uint64_t at = kStackTop - sizeof frame;
  std::memcpy(virt(at), frame, sizeof frame);
  entry_rsp_ = base_ + at;
  return entry_rsp_;
}

TrapFrame MonitorPages::entry_frame() const {
  TrapFrame f{};
  uint64_t frame[5];
  std::memcpy(frame, virt(kStackTop - sizeof frame), sizeof frame);
  f.rip = frame[0], f.cs = frame[1], f.rflags = frame[2], f.rsp = frame[3], f.ss = frame[4];
  return f;
}

TrapFrame MonitorPages::trap_frame() const {
  TrapFrame f{};
  std::memcpy(&f, virt(kStackTop - sizeof f), sizeof f);
  return f;
}

}  // namespace ringscope::bt
