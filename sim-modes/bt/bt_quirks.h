// bt_quirks.h — where KVM's PVM flavour makes direct execution differ from
// the architecture, and what the monitor does about it (in the manner of
// sim-modes/kvm/pvm_quirks.h).
//
// On PVM (docs/hosts.md) guest ring 3 runs natively but two ring-3 ways
// into the kernel do not arrive as the architecture says:
//   - `int n` raises #UD at the `int` instead of delivering vector n;
//   - SYSCALL jumps to LSTAR but stays in ring 3, so the first fetch or
//     instruction at LSTAR faults.
// The monitor turns each back into what a CPU does: vector n with the
// return RIP after the `int`, and a SYSCALL with RCX and R11 as it left
// them. On VT-x and AMD-V neither situation arises (an `int` never raises
// #UD, and SYSCALL reaches the monitor's LSTAR trampoline in ring 0), so
// both are no-ops there. Neither is the architecture; both are counted
// (DirectStats) so a trace shows how often the host needed them.
#pragma once

#include <cstdint>
#include <optional>

#include "ringscope/arch/transitions.h"
#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::bt::quirks {

// #UD at `rip` where the instruction is `int imm8` (cd ib): PVM's way of
// reporting `int n` from ring 3. The vector n, or nothing.
inline std::optional<uint8_t> int_raised_as_ud(const GuestMemory& ram, const PagingState& paging, uint64_t vector,
                                               uint64_t rip) {
  if (vector != arch::vec::kUD) return std::nullopt;
  uint8_t insn[2] = {};
  if (read_virtual(ram, paging, rip, insn, 2) != 2 || insn[0] != 0xcd) return std::nullopt;
  return insn[1];
}

// A ring-3 fault at the monitor's LSTAR trampoline: a SYSCALL that PVM left
// in ring 3 (ring 3 can reach that address no other way: it is on a
// supervisor page the guest does not know about).
inline bool syscall_left_in_ring3(uint64_t fault_rip, uint64_t lstar) { return fault_rip == lstar; }

}  // namespace ringscope::bt::quirks
