// unicorn_quirks.cpp — Unicorn 2.0's differences from a CPU under KVM, made
// up for (unicorn_quirks.h).
#include "unicorn_quirks.h"

namespace ringscope::emulation::quirks {

void assume_sce(arch::CpuState& s) {
  if (s.lstar != 0) s.efer |= arch::kEferSce;
}

bool ud_is_lost_sysret(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint8_t cpl) {
  if (cpl != 0) return false;
  uint8_t insn[4] = {};
  read_virtual(memory, paging, rip, insn, sizeof insn);
  return return_kind(insn, sizeof insn) == ReturnKind::Sysret;
}

bool is_vmcall(const GuestMemory& memory, const PagingState& paging, uint64_t rip) {
  uint8_t insn[kVmcallLength] = {};
  if (read_virtual(memory, paging, rip, insn, sizeof insn) != sizeof insn) return false;
  return insn[0] == 0x0f && insn[1] == 0x01 && (insn[2] == 0xc1 || insn[2] == 0xd9);
}

arch::InterruptRequest reported_event(const GuestMemory& memory, const PagingState& paging, InsnDecoder& decoder,
                                      uint32_t vector, uint64_t rip, uint64_t cr2, uint8_t cpl) {
  arch::InterruptRequest req;
  req.vector = static_cast<uint8_t>(vector);
  req.return_rip = rip;
  req.instruction_rip = rip;
  uint8_t before[2] = {};
  bool have = read_virtual(memory, paging, rip - 2, before, 2) == 2;
  if (have && before[0] == 0xcd && before[1] == vector) {  // int imm8
    req.source = arch::EventSource::SoftInt;
    req.instruction_rip = rip - 2;
  } else if (have && ((vector == 3 && before[1] == 0xcc) || (vector == 4 && before[1] == 0xce))) {  // int3, into
    req.source = arch::EventSource::SoftInt;
    req.instruction_rip = rip - 1;
  } else if (vector >= 32) {
    req.source =
        arch::EventSource::SoftInt;  // Unicorn reports only `int n` there; external interrupts come from the loop
    req.instruction_rip = rip - 2;
  } else if (vector == arch::vec::kPF) {
    // Rebuild the page-fault error code (SDM Vol. 3A §4.7): present = the
    // translation exists (so it was a protection violation), user = CPL 3,
    // fetch = CR2 inside the faulting instruction, write = the instruction
    // stores to memory.
    bool present = translate(memory, paging, cr2).has_value();
    bool fetch = cr2 >= rip && cr2 < rip + 15;
    bool write = !fetch && decoder.writes_memory(memory, paging, rip);
    req.error_code = arch::page_fault_error(present, write, cpl == 3, fetch && (paging.efer & (1ull << 11)));
    req.cr2 = cr2;
  }
  // Other error codes (#GP from a privileged instruction, ...) are 0, which
  // is what the CPU pushes for every fault the teaching kernel provokes.
  return req;
}

HltStop hlt_stop(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint8_t cpl) {
  uint8_t op[2] = {};
  read_virtual(memory, paging, rip - 1, op, 2);
  bool ring0_halted = cpl == 0 && op[0] == 0xf4;
  if (ring0_halted) return {true, rip - 1};
  return {op[1] == 0xf4, rip};
}

}  // namespace ringscope::emulation::quirks
