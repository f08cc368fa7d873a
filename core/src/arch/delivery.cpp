// delivery.cpp — what the CPU does between "an exception happened" and the
// handler's first instruction, in IA-32e mode (SDM Vol. 3A chapter 6).
//
// Read deliver_once() top to bottom: it is the order the CPU checks things
// in. Every check that fails raises a fault of its own, with an error code
// that names what was wrong (§6.13); deliver() then decides whether that
// fault is simply delivered instead, becomes a double fault, or shuts the
// machine down (a triple fault: KVM's exit reason 2).
#include <fmt/format.h>

#include <cstring>

#include "ringscope/arch/descriptors.h"
#include "ringscope/arch/transitions.h"

namespace ringscope::arch {

bool pushes_error_code(uint8_t v) {
  switch (v) {
    case vec::kDF:
    case vec::kTS:
    case vec::kNP:
    case vec::kSS:
    case vec::kGP:
    case vec::kPF:
    case vec::kAC:
    case 21:
    case 29:
    case 30: return true;
    default: return false;
  }
}

uint32_t page_fault_error(bool present, bool write, bool user, bool fetch) {
  return (present ? 1u : 0u) | (write ? 2u : 0u) | (user ? 4u : 0u) | (fetch ? 16u : 0u);
}

namespace {

Fault fault(uint8_t vector, uint32_t code, std::string why) {
  Fault f;
  f.vector = vector;
  f.error_code = code;
  f.has_error_code = pushes_error_code(vector);
  f.why = std::move(why);
  return f;
}

// §6.15, Table 6-4: the classes that decide whether two faults make a #DF.
bool contributory(uint8_t v) {
  return v == vec::kDE || v == vec::kTS || v == vec::kNP || v == vec::kSS || v == vec::kGP;
}

}  // namespace

std::variant<Delivered, Fault> deliver_once(CpuState& cpu, LinearMemory& memory, const InterruptRequest& req) {
  const uint8_t v = req.vector;
  const bool ext = req.source != EventSource::SoftInt;  // §6.13: EXT bit
  const uint8_t cpl = cpu.cpl();

  // 1. §6.14.1: in IA-32e mode each IDT entry is 16 bytes; the whole gate
  //    must lie inside IDTR.limit, or #GP with the IDT bit set.
  if (uint64_t(v) * 16 + 15 > cpu.idtr.limit)
    return fault(vec::kGP, idt_error(v, ext), fmt::format("vector {} lies beyond the IDT's limit", v));
  uint8_t raw[16];
  uint64_t bad = 0;
  if (!memory.read(cpu.idtr.base + uint64_t(v) * 16, raw, 16, &bad)) {
    Fault f = fault(vec::kPF, page_fault_error(false, false, false, false), "the IDT is not mapped");
    f.cr2 = bad;
    return f;
  }
  Gate gate = decode_gate(raw);

  // 2. §6.14.1: only 64-bit interrupt and trap gates are valid in IA-32e mode.
  if (gate.type != desc_type::kInterruptGate64 && gate.type != desc_type::kTrapGate64)
    return fault(vec::kGP, idt_error(v, ext),
                 fmt::format("IDT entry {} is not an interrupt or trap gate (type {:#x})", v, gate.type));

  // 3. §6.12.1.1: `int n` from user code may only use gates whose DPL
  //    allows it (CPL <= DPL). Exceptions and interrupts skip this check.
  if (req.source == EventSource::SoftInt && cpl > gate.dpl)
    return fault(vec::kGP, idt_error(v, false),
                 fmt::format("int {:#x} from ring {}: the gate's DPL is {}", v, cpl, gate.dpl));

  // 4. A gate that is not present raises #NP, naming the gate.
  if (!gate.present) return fault(vec::kNP, idt_error(v, ext), fmt::format("IDT entry {} is not present", v));

  // 5. The handler's code segment (§6.12.1): a present, 64-bit code segment
  //    no less privileged than the current ring.
  if ((gate.selector & 0xfffc) == 0)
    return fault(vec::kGP, ext ? 1u : 0u, fmt::format("IDT entry {} names the null selector", v));
  auto code = read_gdt_segment(cpu, memory, gate.selector);
  if (!code) return fault(vec::kGP, selector_error(gate.selector, ext), "the gate's selector lies beyond the GDT");
  if (!code->s || !(code->type & desc_type::kCodeBit))
    return fault(vec::kGP, selector_error(gate.selector, ext), "the gate's selector is not a code segment");
  if (!code->l || code->db)
    return fault(vec::kGP, selector_error(gate.selector, ext), "the handler's code segment is not 64-bit (L=1, D=0)");
  if (code->dpl > cpl)
    return fault(vec::kGP, selector_error(gate.selector, ext),
                 fmt::format("the handler's code segment (DPL {}) is less privileged than ring {}", code->dpl, cpl));
  if (!code->present)
    return fault(vec::kNP, selector_error(gate.selector, ext), "the handler's code segment is not present");
  if (!is_canonical(gate.offset)) return fault(vec::kGP, ext ? 1u : 0u, "the handler's address is not canonical");

  // 6. The new privilege level: a conforming segment runs at the caller's
  //    CPL; otherwise at the segment's DPL (§5.8.1.2).
  uint8_t new_cpl = (code->type & desc_type::kConformingBit) ? cpl : code->dpl;
  bool switch_stack = new_cpl < cpl;

  // 7. §6.14.4, §6.14.5: going to a more privileged ring, the CPU takes the
  //    new RSP from the TSS (RSP0 for ring 0); an IST index in the gate
  //    always selects one of the seven IST stacks instead.
  uint64_t rsp = cpu.rsp;
  if (switch_stack || gate.ist) {
    uint64_t off = gate.ist ? kTssIst1 + (gate.ist - 1) * 8 : kTssRsp0 + uint64_t(new_cpl) * 8;
    if (off + 7 > cpu.tr_limit)
      return fault(vec::kTS, selector_error(cpu.tr_selector, ext),
                   "the TSS is too short to hold the new stack pointer");
    if (!memory.read(cpu.tr_base + off, &rsp, 8, &bad)) {
      Fault f = fault(vec::kPF, page_fault_error(false, false, false, false), "the TSS is not mapped");
      f.cr2 = bad;
      return f;
    }
    if (!is_canonical(rsp))
      return fault(vec::kSS, ext ? 1u : 0u, fmt::format("the TSS stack pointer {:#x} is not canonical", rsp));
  }

  // 8. §6.14.2: the frame starts 16-byte aligned and always holds SS:RSP
  //    (unlike 32-bit mode, even without a privilege change).
  const uint64_t old_rsp = cpu.rsp;
  uint64_t frame[6];
  int n = 0;
  bool with_code = req.source == EventSource::Exception && pushes_error_code(v);
  if (with_code) frame[n++] = req.error_code;
  frame[n++] = req.return_rip;
  frame[n++] = cpu.cs.selector;
  frame[n++] = cpu.rflags;
  frame[n++] = old_rsp;
  frame[n++] = cpu.ss.selector;
  rsp = (rsp & ~uint64_t(15)) - uint64_t(n) * 8;
  if (!is_canonical(rsp) || !is_canonical(rsp + uint64_t(n) * 8 - 1))
    return fault(vec::kSS, ext ? 1u : 0u, "the frame would be pushed to a non-canonical address");
  if (!memory.write(rsp, frame, uint64_t(n) * 8, &bad)) {
    // An implicit supervisor write: W=1, U=0 (§4.7).
    Fault f = fault(vec::kPF, page_fault_error(false, true, false, false),
                    fmt::format("the stack at {:#x} is not mapped, so the frame cannot be pushed", bad));
    f.cr2 = bad;
    return f;
  }

  // 9. Commit: CS from the gate (RPL = new CPL); a privilege change loads SS
  //    with a null selector whose RPL is the new CPL (§6.14.4); RFLAGS loses
  //    TF, NT, RF and VM, and an interrupt gate also clears IF (§6.12.1.3).
  Delivered d;
  d.vector = v;
  d.source = req.source;
  d.has_error_code = with_code;
  d.error_code = with_code ? req.error_code : 0;
  d.from_cpl = cpl;
  d.to_cpl = new_cpl;
  d.from_rip = req.return_rip;
  d.to_rip = gate.offset;
  d.frame = rsp;
  d.stack_switched = switch_stack;
  if (v == vec::kPF && req.source == EventSource::Exception) {
    cpu.cr2 = req.cr2;  // §6.15, Interrupt 14: CR2 holds the faulting address
    d.cr2 = req.cr2;
  }
  cpu.cs = *code;
  cpu.cs.selector = static_cast<uint16_t>((gate.selector & 0xfffc) | new_cpl);
  if (switch_stack) {
    cpu.ss = Segment{};
    cpu.ss.selector = new_cpl;
    cpu.ss.dpl = new_cpl;
  }
  cpu.rsp = rsp;
  cpu.rip = gate.offset;
  cpu.rflags &= ~(rflags::kTf | rflags::kNt | rflags::kRf | rflags::kVm);
  if (gate.type == desc_type::kInterruptGate64) cpu.rflags &= ~rflags::kIf;
  return d;
}

DeliveryOutcome deliver(CpuState& cpu, LinearMemory& memory, InterruptRequest req) {
  DeliveryOutcome out;
  std::string chain;
  for (int attempt = 0; attempt < 4; attempt++) {
    auto r = deliver_once(cpu, memory, req);
    if (auto* d = std::get_if<Delivered>(&r)) {
      out.delivered = *d;
      return out;
    }
    Fault f = std::get<Fault>(r);
    out.nested++;
    chain += fmt::format("{}delivering vector {} raised vector {}: {}", chain.empty() ? "" : "; then ", req.vector,
                         f.vector, f.why);
    bool first_is_exception = req.source == EventSource::Exception;
    // A fault while delivering #DF: the processor shuts down (§6.15, Interrupt 8).
    if (first_is_exception && req.vector == vec::kDF) {
      out.triple_fault = true;
      out.why = chain;
      return out;
    }
    // Table 6-5: contributory after contributory, or contributory / #PF
    // after #PF, is a double fault; anything else is delivered serially.
    bool df = first_is_exception && ((contributory(req.vector) && contributory(f.vector)) ||
                                     (req.vector == vec::kPF && (contributory(f.vector) || f.vector == vec::kPF)));
    InterruptRequest next;
    next.source = EventSource::Exception;
    next.return_rip = req.source == EventSource::SoftInt ? req.instruction_rip : req.return_rip;
    next.instruction_rip = next.return_rip;
    if (df) {
      next.vector = vec::kDF;
      next.error_code = 0;  // #DF always pushes 0
    } else {
      next.vector = f.vector;
      next.error_code = f.error_code;
      next.cr2 = f.cr2;
    }
    req = next;
  }
  out.triple_fault = true;
  out.why = chain;
  return out;
}

}  // namespace ringscope::arch
