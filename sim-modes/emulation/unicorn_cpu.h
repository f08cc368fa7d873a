// unicorn_cpu.h — one x86-64 CPU on Unicorn, with the guest's RAM mapped in
// place (the Machine's own buffer: every device and the trace see the same
// bytes), and what Unicorn 2.0 lacks at the system level made up for.
//
// Unicorn runs user-level code faithfully, and even its IRETQ and SYSRET
// change rings correctly (QEMU's helpers), but nothing moves a CPU *into*
// a more privileged ring: `int n` and exceptions stop at a hook instead of
// going through the IDT, and `syscall` only calls a hook. The ring-change
// rules themselves are in core/src/arch; this class only copies the CPU's
// state out to an arch::CpuState and back in — including the hidden parts
// of CS and SS (and with them the CPL), which Unicorn's register API cannot
// set in 64-bit mode. See load_segments() for how, and why that is safe.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ringscope/arch/x86_state.h"
#include "ringscope/boot.h"
#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope::emulation {

class UnicornCpu {
 public:
  // Opens a 64-bit Unicorn engine and maps `ram` at guest-physical 0.
  static Result<std::unique_ptr<UnicornCpu>> create(GuestMemory& ram);
  ~UnicornCpu();
  UnicornCpu(const UnicornCpu&) = delete;
  UnicornCpu& operator=(const UnicornCpu&) = delete;

  uc_engine* uc() const { return uc_; }

  // Either entry of docs/boot-protocol.md: the PVH 32-bit entry (32-bit
  // protected mode, paging off, EBX = start_info), from which the guest
  // enters long mode itself, or ringscope's 64-bit entry.
  Status apply_boot_state(const BootState& boot);
  // An application processor's STARTUP IPI (SDM Vol. 3A §8.4.4.1): 16-bit
  // real mode, paging off, CS:IP = (vector << 8):0000, i.e. physical
  // vector << 12; interrupts off.
  Status start_real_mode(uint8_t vector);

  // The architectural state the ring-transition rules need, and back.
  arch::CpuState read_state() const;
  Status write_state(const arch::CpuState& cpu);

  // Unicorn 2.0 (Debian 12's 2.0.1) walks the guest's page tables only to
  // check permissions and raise #PF; it then accesses memory at the
  // *virtual* address as if it were physical (its x86 MMU "identity maps"
  // VA to PA; Unicorn 2.1 fixed this). The teaching kernel's identity map
  // of low memory is unaffected, but user programs live at 512 GiB. So the
  // backend mirrors the guest's mappings into Unicorn's physical map, one
  // 4 KiB page at a time, when the guest first touches a page: an alias of
  // the guest RAM page the page tables name, or — for a page that is not
  // present — a placeholder, so that Unicorn's page walk raises the #PF the
  // guest kernel expects. drop_aliases() forgets them all (and the code
  // Unicorn translated from them); the loop calls it whenever the kernel is
  // entered, because only the kernel changes page tables.
  bool alias_page(uint64_t va, const GuestMemory& ram);
  void drop_aliases();
  size_t aliases() const { return aliases_.size(); }

  // Unicorn 2.0 writes RIP back only where its translated code must (an
  // exception, a jump it has not chained, a per-instruction hook): a hook
  // that stops it before a block (uc_emu_stop in a UC_HOOK_BLOCK) leaves RIP
  // wherever it was last written, often blocks earlier, at the start of the
  // function the loop is in (Unicorn's FAQ, "Why do I get a wrong PC after
  // emulation stops?"; 2.1.4 syncs it). The block has not run: its hook
  // comes before Unicorn's exit check. This puts RIP at that block, given
  // as the hook saw it (CS base + RIP).
  void resume_at_block(uint64_t block_pc);

  uint64_t reg(int id) const;
  void set_reg(int id, uint64_t value);
  uint8_t cpl() const { return static_cast<uint8_t>(reg(UC_X86_REG_CS) & 3); }
  PagingState paging() const;
  GuestRegs regs() const;

 private:
  UnicornCpu() = default;
  Status calibrate();
  Status leave_long_mode();
  Status find_old_exception();
  Status load_segments(const arch::Segment* cs, const arch::Segment* ss, const arch::Segment* data);

  uc_engine* uc_ = nullptr;
  uc_context* ctx_ = nullptr;
  // Where QEMU's CPUX86State lies inside a saved uc_context (see calibrate()).
  size_t env_offset_ = 0;
  // QEMU's "exception in flight" (CPUX86State.old_exception), which only its
  // own delivery code resets; see find_old_exception().
  size_t old_exception_offset_ = 0;
  struct Alias {
    uint64_t va;
    bool placeholder;
  };
  std::vector<Alias> aliases_;
  uint8_t* placeholder_pool_ = nullptr;  // kMaxPlaceholders pages, never read by the guest
  size_t placeholders_used_ = 0;
};

std::string uc_error_text(uc_err err);

}  // namespace ringscope::emulation
