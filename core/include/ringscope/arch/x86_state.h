// x86_state.h — the part of an x86-64 CPU that the ring-transition rules
// read and write, and the guest memory they read and write it through.
//
// A real CPU does all of this in microcode; a software emulator (the
// emulation mode, on Unicorn) must do it itself. The rules live in
// core/src/arch/ and read best next to the Intel SDM:
//   Vol. 3A §3.4    segment selectors and descriptors     (descriptors.cpp)
//   Vol. 3A §6      interrupt and exception handling      (delivery.cpp)
//   Vol. 2B SYSCALL / SYSRET, Vol. 3A §5.8.8              (syscall.cpp)
//   Vol. 2A IRET, Vol. 3A §6.14.3                         (iret.cpp)
// None of this code knows about KVM or Unicorn: a backend copies its CPU
// state into a CpuState, applies a rule, and copies the result back.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::arch {

// A segment register: the visible selector and the hidden part the CPU
// loads from the descriptor (SDM Vol. 3A §3.4.3, "segment registers").
struct Segment {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0;  // in bytes (already scaled by G)
  uint8_t type = 0;    // 4-bit type field (§3.4.5.1)
  bool s = false;      // 1: code or data, 0: system (TSS, gates)
  uint8_t dpl = 0;     // descriptor privilege level
  bool present = false;
  bool l = false;   // 64-bit code segment
  bool db = false;  // default operand size / big
  bool g = false;   // limit granularity 4 KiB
};

struct TableRegister {  // GDTR, IDTR (§2.4)
  uint64_t base = 0;
  uint16_t limit = 0;
};

// RFLAGS bits the rules touch (§2.3).
namespace rflags {
inline constexpr uint64_t kCf = 1ull << 0;
inline constexpr uint64_t kFixed1 = 1ull << 1;  // always 1
inline constexpr uint64_t kTf = 1ull << 8;      // trap (single-step)
inline constexpr uint64_t kIf = 1ull << 9;      // interrupts enabled
inline constexpr uint64_t kDf = 1ull << 10;
inline constexpr uint64_t kIopl = 3ull << 12;
inline constexpr uint64_t kNt = 1ull << 14;
inline constexpr uint64_t kRf = 1ull << 16;
inline constexpr uint64_t kVm = 1ull << 17;
inline constexpr uint64_t kAc = 1ull << 18;
}  // namespace rflags

// MSRs (Vol. 4) and control-register bits the rules read.
inline constexpr uint32_t kMsrEfer = 0xc0000080;
inline constexpr uint32_t kMsrStar = 0xc0000081;
inline constexpr uint32_t kMsrLstar = 0xc0000082;
inline constexpr uint32_t kMsrFmask = 0xc0000084;
inline constexpr uint64_t kEferSce = 1ull << 0;   // SYSCALL enable
inline constexpr uint64_t kEferLma = 1ull << 10;  // long mode active
inline constexpr uint64_t kCr0Wp = 1ull << 16;

// The CPU state the rules need. CPL is not stored: it *is* the RPL of CS
// (§5.5: "the CPL is stored in bits 0 and 1 of the CS and SS registers").
struct CpuState {
  uint64_t rip = 0, rsp = 0, rflags = rflags::kFixed1;
  uint64_t rcx = 0, r11 = 0;  // SYSCALL saves RIP and RFLAGS here
  Segment cs, ss;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
  TableRegister gdtr, idtr;
  uint16_t tr_selector = 0;  // the task register: where the TSS is (§7.2.4)
  uint64_t tr_base = 0;
  uint32_t tr_limit = 0;
  uint64_t star = 0, lstar = 0, fmask = 0;  // SYSCALL/SYSRET MSRs

  uint8_t cpl() const { return cs.selector & 3; }
  bool long_mode() const { return (efer & kEferLma) && cs.l; }  // 64-bit mode proper
  PagingState paging() const { return {cr0, cr3, cr4, efer}; }
};

// Guest *linear* memory as the CPU's own (supervisor, "implicit") accesses
// see it: reading the IDT, GDT and TSS, pushing a frame. A failed access is
// a page fault at the address returned in *fault_address.
class LinearMemory {
 public:
  virtual ~LinearMemory() = default;
  virtual bool read(uint64_t la, void* out, size_t len, uint64_t* fault_address) = 0;
  virtual bool write(uint64_t la, const void* in, size_t len, uint64_t* fault_address) = 0;
};

// LinearMemory over guest RAM and the guest's own page tables (paging.h).
// Only presence is checked: supervisor writes to read-only pages with
// CR0.WP set are allowed here (a shortcut; the teaching kernel never relies
// on the difference).
class PagedMemory final : public LinearMemory {
 public:
  PagedMemory(GuestMemory& memory, PagingState paging) : memory_(memory), paging_(paging) {}
  bool read(uint64_t la, void* out, size_t len, uint64_t* fault_address) override;
  bool write(uint64_t la, const void* in, size_t len, uint64_t* fault_address) override;

 private:
  GuestMemory& memory_;
  PagingState paging_;
};

// A 64-bit address is canonical when bits 63:47 are all equal (§3.3.7.1).
inline bool is_canonical(uint64_t a) {
  uint64_t top = a >> 47;
  return top == 0 || top == 0x1ffff;
}

}  // namespace ringscope::arch
