// unicorn_quirks.h — where Unicorn 2.0 (Debian 12's 2.0.1) differs from a
// CPU under KVM, and what the emulation loop does about it: every such
// workaround the loop needs, in one place, each with what it works around.
// The loop (emu_loop*.cpp) calls these and otherwise follows the SDM.
//
// Workarounds that live with the objects they concern, not here:
//   - the hidden parts of CS/SS, EFER.LMA and QEMU's exception state, which
//     Unicorn's register API cannot set: unicorn_cpu.cpp (load_segments,
//     leave_long_mode, find_old_exception);
//   - its MMU "identity maps" VA to PA, so guest mappings are mirrored page
//     by page: UnicornCpu::alias_page;
//   - the stale RIP in an I/O hook: InsnDecoder::io_insn;
//   - the stale RIP after the block hook stops Unicorn (a vCPU's turn over,
//     an interrupt to take): UnicornCpu::resume_at_block;
//   - no interrupt pin, and the STI / MOV SS shadow kept hidden: the block
//     hook's own bookkeeping (emu_loop_irq.cpp).
#pragma once

#include <cstdint>

#include "insn_decoder.h"
#include "ringscope/arch/transitions.h"
#include "ringscope/arch/x86_state.h"
#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::emulation::quirks {

// Unicorn's CPU model drops the guest's write of IA32_EFER.SCE (its CPUID
// lacks the SYSCALL bit), so EFER.SCE always reads 0. A kernel that has
// programmed LSTAR clearly enabled SYSCALL: treat SCE as set then.
void assume_sce(arch::CpuState& s);

// The same lost SCE makes Unicorn raise #UD at a ring-0 SYSRETQ; true if
// that #UD at `rip` is one (the loop then executes the SYSRETQ itself).
bool ud_is_lost_sysret(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint8_t cpl);

// Unicorn's CPU has no VMX or SVM, so VMCALL (0f 01 c1) and VMMCALL
// (0f 01 d9) raise #UD, where a CPU under KVM would exit to the hypervisor.
// Unicorn also sometimes stops at one without reporting its #UD (a
// translation block it ran before and cached). True if `rip` holds one.
bool is_vmcall(const GuestMemory& memory, const PagingState& paging, uint64_t rip);
inline constexpr uint64_t kVmcallLength = 3;

// Unicorn reports `int n`, `int3` and exceptions through one hook with
// only the vector and a RIP: after the instruction for `int n`, at the
// faulting instruction for an exception. It keeps the page-fault error code
// to itself. This rebuilds the request the CPU would have delivered.
arch::InterruptRequest reported_event(const GuestMemory& memory, const PagingState& paging, InsnDecoder& decoder,
                                      uint32_t vector, uint64_t rip, uint64_t cr2, uint8_t cpl);

// Unicorn stops at HLT by itself, in any ring: in ring 3 with RIP at the
// HLT, in ring 0 with RIP after it. Where the HLT is, if Unicorn stopped
// at one.
struct HltStop {
  bool at_hlt = false;
  uint64_t rip = 0;  // the HLT itself
};
HltStop hlt_stop(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint8_t cpl);

}  // namespace ringscope::emulation::quirks
