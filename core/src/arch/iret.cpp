// iret.cpp — IRETQ: the way back from a handler (SDM Vol. 2A IRET, Vol. 3A
// §6.14.3).
//
// In 64-bit mode IRETQ always pops five quadwords — RIP, CS, RFLAGS, RSP,
// SS — and checks the segments it is about to load. It can return to the
// same ring or to a less privileged one, never to a more privileged one:
// the only ways *into* ring 0 are interrupts, exceptions, `int n`, call
// gates and SYSCALL.
#include <fmt/format.h>

#include "ringscope/arch/descriptors.h"
#include "ringscope/arch/transitions.h"

namespace ringscope::arch {

namespace {
Fault sel_fault(uint8_t vector, uint16_t selector, std::string why) {
  Fault f;
  f.vector = vector;
  f.error_code = selector & 0xfffc;
  f.has_error_code = true;
  f.why = std::move(why);
  return f;
}
}  // namespace

std::variant<CpuState, Fault> iretq(const CpuState& cpu, LinearMemory& memory) {
  const uint8_t cpl = cpu.cpl();
  uint64_t frame[5];  // rip, cs, rflags, rsp, ss
  uint64_t bad = 0;
  if (!is_canonical(cpu.rsp)) return sel_fault(vec::kSS, 0, "IRETQ with a non-canonical RSP");
  if (!memory.read(cpu.rsp, frame, sizeof frame, &bad)) {
    Fault f;
    f.vector = vec::kPF;
    f.has_error_code = true;
    f.error_code = page_fault_error(false, false, cpl == 3, false);
    f.cr2 = bad;
    f.why = "the frame IRETQ pops is not mapped";
    return f;
  }
  auto cs_sel = static_cast<uint16_t>(frame[1]);
  auto ss_sel = static_cast<uint16_t>(frame[4]);
  uint8_t rpl = cs_sel & 3;

  // The return code segment: not null, not more privileged than now, a
  // present code segment whose DPL matches the RPL (non-conforming).
  if ((cs_sel & 0xfffc) == 0) return sel_fault(vec::kGP, 0, "IRETQ to a null CS");
  if (rpl < cpl)
    return sel_fault(vec::kGP, cs_sel,
                     fmt::format("IRETQ cannot go from ring {} to more privileged ring {}", cpl, rpl));
  auto cs = read_gdt_segment(cpu, memory, cs_sel);
  if (!cs) return sel_fault(vec::kGP, cs_sel, "IRETQ's CS lies beyond the GDT");
  if (!cs->s || !(cs->type & desc_type::kCodeBit)) return sel_fault(vec::kGP, cs_sel, "IRETQ's CS is not code");
  bool conforming = cs->type & desc_type::kConformingBit;
  if (conforming ? cs->dpl > rpl : cs->dpl != rpl)
    return sel_fault(vec::kGP, cs_sel, "IRETQ's CS has a DPL that does not match its RPL");
  if (!cs->present) return sel_fault(vec::kNP, cs_sel, "IRETQ's CS is not present");

  // The return stack segment. 64-bit mode allows a null SS below ring 3.
  Segment ss;
  if ((ss_sel & 0xfffc) == 0) {
    if (rpl == 3 || !cs->l) return sel_fault(vec::kGP, 0, "IRETQ to ring 3 with a null SS");
    ss.selector = ss_sel;
    ss.dpl = rpl;
  } else {
    if ((ss_sel & 3) != rpl) return sel_fault(vec::kGP, ss_sel, "IRETQ's SS RPL differs from CS RPL");
    auto s = read_gdt_segment(cpu, memory, ss_sel);
    if (!s) return sel_fault(vec::kGP, ss_sel, "IRETQ's SS lies beyond the GDT");
    if (!s->s || (s->type & desc_type::kCodeBit) || !(s->type & desc_type::kWritableBit))
      return sel_fault(vec::kGP, ss_sel, "IRETQ's SS is not a writable data segment");
    if (s->dpl != rpl) return sel_fault(vec::kGP, ss_sel, "IRETQ's SS DPL differs from the new CPL");
    if (!s->present) return sel_fault(vec::kSS, ss_sel, "IRETQ's SS is not present");
    ss = *s;
  }
  if (cs->l && !is_canonical(frame[0])) return sel_fault(vec::kGP, 0, "IRETQ to a non-canonical RIP");

  // RFLAGS: only ring 0 may change IOPL; IF only where CPL <= IOPL.
  uint64_t flags = frame[2];
  uint64_t keep = rflags::kVm;
  uint8_t iopl = (cpu.rflags >> 12) & 3;
  if (cpl > 0) keep |= rflags::kIopl;
  if (cpl > iopl) keep |= rflags::kIf;
  CpuState n = cpu;
  n.rflags = ((flags & ~keep) | (cpu.rflags & keep) | rflags::kFixed1) & ~rflags::kVm;
  n.rip = frame[0];
  n.cs = *cs;
  n.ss = ss;
  n.rsp = frame[3];
  return n;
}

}  // namespace ringscope::arch
