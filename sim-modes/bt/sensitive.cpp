// sensitive.cpp — the callout table and the classifier.
#include "sensitive.h"

#include <array>

namespace ringscope::bt {

namespace {
constexpr std::array<CalloutInfo, kCalloutCount> kTable = {{
    {Callout::None, "none", false},
    {Callout::Io, "io", true},
    {Callout::Cli, "cli", true},
    {Callout::Sti, "sti", true},
    {Callout::Hlt, "hlt", true},
    {Callout::MovCr, "mov_cr", true},
    {Callout::MovDr, "mov_dr", true},
    {Callout::LoadDesc, "load_descriptor_table", true},
    {Callout::StoreDesc, "store_descriptor_table", false},
    {Callout::Msr, "msr", true},
    {Callout::Swapgs, "swapgs", true},
    {Callout::Iret, "iret", false},
    {Callout::Sysret, "sysret", true},
    {Callout::Flags, "pushf_popf", false},
    {Callout::Segment, "segment", false},
    {Callout::Far, "far_transfer", false},
    {Callout::IntN, "int_n", false},
    {Callout::Invlpg, "tlb_cache", true},
    {Callout::Cpuid, "cpuid", false},
}};

bool has_reg_in(const cs_insn& insn, x86_reg lo, x86_reg hi) {
  if (!insn.detail) return false;
  const cs_x86& x = insn.detail->x86;
  for (uint8_t i = 0; i < x.op_count; i++)
    if (x.operands[i].type == X86_OP_REG && x.operands[i].reg >= lo && x.operands[i].reg <= hi) return true;
  return false;
}

bool has_segment_reg(const cs_insn& insn) {
  if (!insn.detail) return false;
  const cs_x86& x = insn.detail->x86;
  for (uint8_t i = 0; i < x.op_count; i++) {
    if (x.operands[i].type != X86_OP_REG) continue;
    switch (x.operands[i].reg) {
      case X86_REG_CS:
      case X86_REG_DS:
      case X86_REG_ES:
      case X86_REG_SS:
      case X86_REG_FS:
      case X86_REG_GS: return true;
      default: break;
    }
  }
  return false;
}
}  // namespace

const CalloutInfo& callout_info(Callout c) {
  auto i = static_cast<size_t>(c);
  return kTable[i < kTable.size() ? i : 0];
}

Callout classify(const cs_insn& insn) {
  switch (insn.id) {
    case X86_INS_IN:
    case X86_INS_OUT:
    case X86_INS_INSB:
    case X86_INS_INSW:
    case X86_INS_INSD:
    case X86_INS_OUTSB:
    case X86_INS_OUTSW:
    case X86_INS_OUTSD: return Callout::Io;
    case X86_INS_CLI: return Callout::Cli;
    case X86_INS_STI: return Callout::Sti;
    case X86_INS_HLT: return Callout::Hlt;
    case X86_INS_LGDT:
    case X86_INS_LIDT:
    case X86_INS_LLDT:
    case X86_INS_LTR: return Callout::LoadDesc;
    case X86_INS_SGDT:
    case X86_INS_SIDT:
    case X86_INS_SLDT:
    case X86_INS_STR:
    case X86_INS_SMSW: return Callout::StoreDesc;
    case X86_INS_RDMSR:
    case X86_INS_WRMSR: return Callout::Msr;
    case X86_INS_SWAPGS: return Callout::Swapgs;
    case X86_INS_IRET:
    case X86_INS_IRETD:
    case X86_INS_IRETQ: return Callout::Iret;
    case X86_INS_SYSRET:
    case X86_INS_SYSEXIT: return Callout::Sysret;
    case X86_INS_PUSHF:
    case X86_INS_PUSHFD:
    case X86_INS_PUSHFQ:
    case X86_INS_POPF:
    case X86_INS_POPFD:
    case X86_INS_POPFQ: return Callout::Flags;
    case X86_INS_LAR:
    case X86_INS_LSL:
    case X86_INS_VERR:
    case X86_INS_VERW: return Callout::Segment;
    case X86_INS_LJMP:
    case X86_INS_LCALL:
    case X86_INS_RETF:
    case X86_INS_RETFQ: return Callout::Far;
    case X86_INS_INT:
    case X86_INS_INT3:
    case X86_INS_INTO: return Callout::IntN;
    case X86_INS_INVLPG:
    case X86_INS_INVPCID:
    case X86_INS_WBINVD:
    case X86_INS_INVD:
    case X86_INS_CLTS:
    case X86_INS_LMSW: return Callout::Invlpg;
    case X86_INS_CPUID: return Callout::Cpuid;
    case X86_INS_MOV:
      if (has_reg_in(insn, X86_REG_CR0, X86_REG_CR15)) return Callout::MovCr;
      if (has_reg_in(insn, X86_REG_DR0, X86_REG_DR15)) return Callout::MovDr;
      if (has_segment_reg(insn)) return Callout::Segment;
      return Callout::None;
    case X86_INS_PUSH:
    case X86_INS_POP: return has_segment_reg(insn) ? Callout::Segment : Callout::None;
    default: return Callout::None;
  }
}

}  // namespace ringscope::bt
