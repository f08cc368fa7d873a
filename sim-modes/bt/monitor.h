// monitor.h — the monitor's own pages: the IDT, GDT, TSS, stack and
// trampolines that are live while guest ring 3 runs directly.
//
// A binary-translating VMM never lets the guest's descriptor tables reach the
// CPU (VMware's "monitor" kept the real ones; the guest's were virtual). So
// while user code runs under KVM, GDTR, IDTR, TR and LSTAR name these pages,
// which live in their own KVM memory slot above guest RAM and are mapped into
// the guest's address space through one PML4 slot the guest does not use.
// The slot is installed as ring 3 is entered and removed as it leaves, so
// the guest kernel (in the translator) never sees it.
//
// Every IDT vector's trampoline pushes its vector (and a 0 where the CPU
// pushed no error code) and exits to the VMM with `out` to kTrapPort: no
// general register is changed, and the CPU's frame lies on the monitor's
// stack (TSS.RSP0), where the VMM reads it. A trampoline is never resumed.
// Ring 3 is entered through kEntry's `iretq`, of a frame the monitor wrote,
// which works on every KVM flavour (PVM included).
#pragma once

#include <cstdint>
#include <string>

#include "ringscope/arch/x86_state.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope::bt {

inline constexpr uint16_t kTrapPort = 0xec;     // a trampoline: the frame is on the monitor stack
inline constexpr uint16_t kSyscallPort = 0xed;  // the LSTAR trampoline: a SYSCALL from ring 3

// The monitor's own selectors, at the top of its GDT so that the guest's
// descriptors keep their own selectors below them.
inline constexpr uint16_t kMonitorCs = 508 << 3;
inline constexpr uint16_t kMonitorSs = 509 << 3;
inline constexpr uint16_t kMonitorTr = 510 << 3;  // 16 bytes: entries 510 and 511
inline constexpr int kGuestGdtEntries = 508;      // guest descriptors copied: selectors below 0xfe0

// The trap frame a trampoline leaves (lowest address first).
struct TrapFrame {
  uint64_t vector, error_code, rip, cs, rflags, rsp, ss;
};

class MonitorPages {
 public:
  static constexpr uint64_t kPages = 16;
  static constexpr uint64_t kBytes = kPages * 4096;

  MonitorPages();
  ~MonitorPages();
  MonitorPages(const MonitorPages&) = delete;
  MonitorPages& operator=(const MonitorPages&) = delete;

  uint8_t* host() const { return host_; }
  // Where the slot lies in guest-physical memory (a KVM slot of its own).
  void set_gpa(uint64_t gpa) { gpa_ = gpa; }
  uint64_t gpa() const { return gpa_; }

  // Maps the monitor into the address space whose PML4 is at `cr3` (guest
  // physical): a free slot is chosen (the one used last if it is still
  // free) and the monitor's tables are rebuilt for its addresses. Error: no
  // free slot, with what the guest uses.
  Status install(GuestMemory& ram, uint64_t cr3);
  // Takes the slot out again (the guest's PML4 as it was).
  void remove(GuestMemory& ram);
  bool installed() const { return installed_; }
  int slot() const { return slot_; }

  // Copies the guest's descriptors (its GDT, read through its own paging)
  // below kMonitorCs and each IDT gate's DPL (so that `int n` is allowed
  // from ring 3 exactly where the guest allows it). Error: the guest's
  // tables cannot be read or collide with the monitor's selectors.
  Status mirror_guest_tables(GuestMemory& ram, const arch::CpuState& guest);

  // Addresses in the guest's linear space (valid after install()).
  uint64_t base() const { return base_; }
  uint64_t gdt() const { return base_ + kGdtOff; }
  uint64_t idt() const { return base_ + kIdtOff; }
  uint64_t tss() const { return base_ + kTssOff; }
  uint64_t entry() const { return base_ + kEntryOff; }
  uint64_t syscall_entry() const { return base_ + kSyscallOff; }
  uint64_t stack_top() const { return base_ + kStackTop; }
  // Is `rip` one of the trampolines (the monitor's code)?
  bool in_monitor(uint64_t rip) const { return rip >= base_ && rip < base_ + kBytes; }

  // The frame kEntry's `iretq` pops: returns RSP to load.
  uint64_t push_entry_frame(uint64_t rip, uint16_t cs, uint64_t rflags, uint64_t rsp, uint16_t ss);
  // The frame a trampoline left.
  TrapFrame trap_frame() const;
  // The entry frame as the monitor wrote it (a kick before its `iretq` ran).
  TrapFrame entry_frame() const;

 private:
  // Page offsets inside the monitor (virtual and physical alike, after the
  // three page-table pages).
  static constexpr uint64_t kPdptPage = 0, kPdPage = 1, kPtPage = 2;
  static constexpr uint64_t kMapped = 3;           // pages from here on are mapped at base_
  static constexpr uint64_t kStubsOff = 0x0000;    // 256 trampolines of 16 bytes
  static constexpr uint64_t kEntryOff = 0x1000;    // iretq
  static constexpr uint64_t kSyscallOff = 0x1010;  // LSTAR: out kSyscallPort
  static constexpr uint64_t kGdtOff = 0x2000;
  static constexpr uint64_t kIdtOff = 0x3000;
  static constexpr uint64_t kTssOff = 0x4000;
  static constexpr uint64_t kStackTop = 0x7000;  // 8 KiB of stack below
  static constexpr uint64_t kMappedBytes = 0x7000;

  uint8_t* virt(uint64_t off) const { return host_ + (kMapped * 4096) + off; }
  void build(int slot);

  uint8_t* host_ = nullptr;
  uint64_t gpa_ = 0;
  int slot_ = -1;
  uint64_t base_ = 0;
  bool installed_ = false;
  uint64_t installed_at_ = 0;  // guest-physical address of the PML4 holding our slot
  size_t copied_gdt_ = 0;      // guest descriptors mirrored last time
  uint64_t entry_rsp_ = 0;
};

}  // namespace ringscope::bt
