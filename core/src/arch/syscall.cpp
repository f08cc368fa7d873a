// syscall.cpp — SYSCALL and SYSRET (SDM Vol. 2B, and Vol. 3A §5.8.8).
//
// The fast way between ring 3 and ring 0: no IDT, no TSS, no stack frame.
// SYSCALL saves the return RIP in RCX and RFLAGS in R11, masks RFLAGS with
// IA32_FMASK, loads CS and SS from IA32_STAR[47:32] with fixed, flat
// attributes (the descriptors in the GDT are not even read) and jumps to
// IA32_LSTAR. The stack is *not* switched: the kernel's entry code must do
// that itself before it can push anything (the teaching kernel's
// syscallentry in trapasm.S does).
#include "ringscope/arch/descriptors.h"
#include "ringscope/arch/transitions.h"

namespace ringscope::arch {

namespace {

// The flat segments SYSCALL and SYSRET load, whatever the GDT says.
Segment flat_code(uint16_t selector, uint8_t dpl) {
  Segment s;
  s.selector = selector;
  s.limit = 0xffffffff;
  s.type = 0xb;  // execute/read, accessed
  s.s = true;
  s.dpl = dpl;
  s.present = true;
  s.l = true;
  s.g = true;
  return s;
}

Segment flat_data(uint16_t selector, uint8_t dpl) {
  Segment s;
  s.selector = selector;
  s.limit = 0xffffffff;
  s.type = 0x3;  // read/write, accessed
  s.s = true;
  s.dpl = dpl;
  s.present = true;
  s.db = true;
  s.g = true;
  return s;
}

Fault simple(uint8_t vector, std::string why) {
  Fault f;
  f.vector = vector;
  f.has_error_code = pushes_error_code(vector);
  f.why = std::move(why);
  return f;
}

}  // namespace

std::variant<CpuState, Fault> syscall(const CpuState& cpu) {
  if (!(cpu.efer & kEferSce)) return simple(vec::kUD, "SYSCALL with IA32_EFER.SCE clear is an invalid opcode");
  if (!cpu.long_mode()) return simple(vec::kUD, "SYSCALL outside 64-bit mode is an invalid opcode");
  CpuState n = cpu;
  n.rcx = cpu.rip;  // the instruction after SYSCALL
  n.r11 = cpu.rflags;
  n.rflags = (cpu.rflags & ~cpu.fmask & ~rflags::kRf) | rflags::kFixed1;
  uint16_t sel = static_cast<uint16_t>((cpu.star >> 32) & 0xffff);
  n.cs = flat_code(sel & 0xfffc, 0);                    // CPL becomes 0
  n.ss = flat_data(static_cast<uint16_t>(sel + 8), 0);  // STAR[47:32] + 8
  n.rip = cpu.lstar;
  return n;
}

std::variant<CpuState, Fault> sysretq(const CpuState& cpu) {
  if (!(cpu.efer & kEferSce)) return simple(vec::kUD, "SYSRET with IA32_EFER.SCE clear is an invalid opcode");
  if (!cpu.long_mode()) return simple(vec::kUD, "SYSRET outside 64-bit mode is an invalid opcode");
  if (cpu.cpl() != 0) return simple(vec::kGP, "SYSRET is privileged: only ring 0 may execute it");
  if (!is_canonical(cpu.rcx)) return simple(vec::kGP, "SYSRET to a non-canonical RCX raises #GP in ring 0");
  CpuState n = cpu;
  uint16_t base = static_cast<uint16_t>((cpu.star >> 48) & 0xffff);
  n.rip = cpu.rcx;
  n.rflags = (cpu.r11 & 0x3c7fd7) | rflags::kFixed1;            // RF and VM cleared
  n.cs = flat_code(static_cast<uint16_t>((base + 16) | 3), 3);  // 64-bit user code: STAR[63:48] + 16
  n.ss = flat_data(static_cast<uint16_t>((base + 8) | 3), 3);   // user data: STAR[63:48] + 8
  return n;
}

}  // namespace ringscope::arch
