// sensitive.cpp — Capstone's instruction ids to core's BtInsn rows.
#include "sensitive.h"

namespace ringscope::bt {

namespace {
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

BtInsn classify(const cs_insn& insn) {
  switch (insn.id) {
    case X86_INS_CLI: return BtInsn::Cli;
    case X86_INS_STI: return BtInsn::Sti;
    case X86_INS_PUSHF:
    case X86_INS_PUSHFD:
    case X86_INS_PUSHFQ: return BtInsn::Pushf;
    case X86_INS_POPF:
    case X86_INS_POPFD:
    case X86_INS_POPFQ: return BtInsn::Popf;
    case X86_INS_HLT: return BtInsn::Hlt;
    case X86_INS_IN: return BtInsn::In;
    case X86_INS_OUT: return BtInsn::Out;
    case X86_INS_INSB:
    case X86_INS_INSW:
    case X86_INS_INSD: return BtInsn::Ins;
    case X86_INS_OUTSB:
    case X86_INS_OUTSW:
    case X86_INS_OUTSD: return BtInsn::Outs;
    case X86_INS_LMSW: return BtInsn::Lmsw;
    case X86_INS_CLTS: return BtInsn::Clts;
    case X86_INS_RDMSR: return BtInsn::Rdmsr;
    case X86_INS_WRMSR: return BtInsn::Wrmsr;
    case X86_INS_LGDT: return BtInsn::Lgdt;
    case X86_INS_LIDT: return BtInsn::Lidt;
    case X86_INS_LLDT: return BtInsn::Lldt;
    case X86_INS_LTR: return BtInsn::Ltr;
    case X86_INS_SGDT: return BtInsn::Sgdt;
    case X86_INS_SIDT: return BtInsn::Sidt;
    case X86_INS_SLDT: return BtInsn::Sldt;
    case X86_INS_STR: return BtInsn::Str;
    case X86_INS_SMSW: return BtInsn::Smsw;
    case X86_INS_LAR: return BtInsn::Lar;
    case X86_INS_LSL: return BtInsn::Lsl;
    case X86_INS_VERR: return BtInsn::Verr;
    case X86_INS_VERW: return BtInsn::Verw;
    case X86_INS_LCALL: return BtInsn::CallFar;
    case X86_INS_LJMP: return BtInsn::JmpFar;
    case X86_INS_RETF:
    case X86_INS_RETFQ: return BtInsn::RetFar;
    case X86_INS_INT:
    case X86_INS_INT3:
    case X86_INS_INTO: return BtInsn::IntN;
    case X86_INS_IRET:
    case X86_INS_IRETD:
    case X86_INS_IRETQ: return BtInsn::Iret;
    case X86_INS_SYSRET:
    case X86_INS_SYSEXIT: return BtInsn::Sysret;
    case X86_INS_SWAPGS: return BtInsn::Swapgs;
    case X86_INS_INVLPG:
    case X86_INS_INVPCID: return BtInsn::Invlpg;
    case X86_INS_INVD: return BtInsn::Invd;
    case X86_INS_WBINVD: return BtInsn::Wbinvd;
    case X86_INS_CPUID: return BtInsn::Cpuid;
    case X86_INS_RDTSC:
    case X86_INS_RDTSCP: return BtInsn::Rdtsc;
    case X86_INS_MOV:
      if (has_reg_in(insn, X86_REG_CR0, X86_REG_CR15)) return BtInsn::MovCr;
      if (has_reg_in(insn, X86_REG_DR0, X86_REG_DR15)) return BtInsn::MovDr;
      return has_segment_reg(insn) ? BtInsn::MovSeg : BtInsn::None;
    case X86_INS_PUSH: return has_segment_reg(insn) ? BtInsn::PushSeg : BtInsn::None;
    case X86_INS_POP: return has_segment_reg(insn) ? BtInsn::PopSeg : BtInsn::None;
    default: return BtInsn::None;
  }
}

}  // namespace ringscope::bt
