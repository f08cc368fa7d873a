// explain_bt.cpp — the bt mode's events in words: a summary line and an
// explanation for world_switch, bt_translate and bt_callout (their rows in
// event_kinds.cpp point here; explain.cpp has the other kinds).
//
// What a student should take from them, next to the seed's §4-2-2: under
// binary translation guest user code runs directly on the CPU, guest kernel
// code never does — the translator copies it block by block into a
// translation cache, replacing every sensitive instruction by a call into
// the monitor (a callout) — and each change of ring is a world switch
// through the monitor, which owns the real IDT, GDT and TSS. The costs fall
// differently from VT-x's: a system call costs two world switches, a device
// access in the kernel only a callout, with no hardware exit.
#include <fmt/format.h>

#include "event_kinds.h"
#include "ringscope/bt_insns.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"

namespace ringscope::kind_text {

namespace {

// "direct execution", "the translator", "the monitor": the worlds as a sentence names them.
std::string_view world_words(BtWorld w) {
  switch (w) {
    case BtWorld::Direct: return tr("direct execution");
    case BtWorld::Translated: return tr("the translator");
    case BtWorld::Monitor: return tr("the monitor");
    case BtWorld::None: break;
  }
  return tr("nowhere yet (the start of the run)");
}

// The cause of a world switch as the summary prints it: "syscall", "#PF page fault", "interrupt 0x20".
std::string cause_words(const Event& e) {
  switch (e.cause) {
    case TrapCause::Exception:
      if (auto n = exception_name(e.vector); !n.empty()) return std::string(n);
      return fmt::format("exception {}", e.vector);
    case TrapCause::Interrupt: return fmt::format("interrupt 0x{:x}", e.vector);
    case TrapCause::SoftInt: return fmt::format("int 0x{:x}", e.vector);
    case TrapCause::None: return "start";
    default: return std::string(cause_name(e.cause));
  }
}

}  // namespace

// ---- summaries ------------------------------------------------------------------

std::string world_switch_summary(const Event& e) {
  std::string s = fmt::format("{} -> {}  {}  cpl {}->{}  rip 0x{:x} -> 0x{:x}", world_name(e.from_world),
                              world_name(e.to_world), cause_words(e), e.from_cpl, e.to_cpl, e.rip, e.rip_to);
  if (e.from_world == BtWorld::None)
    s = fmt::format("-> {}  {}  rip 0x{:x}", world_name(e.to_world), cause_words(e), e.rip_to);
  if (e.duration_ns) s += "  " + format_duration(e.duration_ns);
  return s;
}

std::string bt_translate_summary(const Event& e) {
  std::string s = fmt::format("block 0x{:x}  {} bytes  {} instructions", e.rip, e.length, e.count);
  if (e.number) s += fmt::format("  sensitive {}: {}", e.number, bt_insn_mask_names(e.value));
  if (e.duration_ns) s += "  " + format_duration(e.duration_ns);
  return s;
}

std::string bt_callout_summary(const Event& e) {
  std::string s(bt_insn_name(e.insn));
  if (s.empty()) s = "?";
  if (e.access == AccessKind::PageTableStore) {
    s += fmt::format("  {} at gpa 0x{:x} value 0x{:x}", e.reg.empty() ? std::string_view("entry") : e.reg, e.gpa,
                     e.value);
  } else if (e.access != AccessKind::None) {
    if (std::string a = access_words(e, e.access); !a.empty()) s += "  " + a;
    if (e.access == AccessKind::Cr && !e.reg.empty()) s += fmt::format("  {}", e.reg);
    if (e.access == AccessKind::Msr) s += fmt::format("  msr 0x{:x}", e.number);
    if (e.access == AccessKind::Cpuid) s += fmt::format("  leaf 0x{:x}", e.value);
  } else if (e.insn == BtInsn::IntN) {
    s += fmt::format(" 0x{:x}", e.vector);
  } else if (!bt_insn_info(e.insn).value_means.empty()) {
    s += fmt::format("  value 0x{:x}", e.value);
  }
  s += fmt::format("  rip 0x{:x} cpl {}", e.rip, e.cpl);
  if (e.duration_ns) s += "  " + format_duration(e.duration_ns);
  return s;
}

// ---- explanations ------------------------------------------------------------------

std::string world_switch_explain(const Event& e) {
  std::string s;
  if (e.from_world == BtWorld::None) {
    s = trf("The run starts in {}: the guest kernel boots as translated code.", world_words(e.to_world));
  } else if (e.to_world == BtWorld::Translated) {
    s =
        trf("World switch from {} to {} ({}): guest user code ran directly on the CPU until it needed the kernel. "
            "The monitor owns the real IDT and the syscall entry (LSTAR), so the trap landed in the monitor, which "
            "delivered it to the guest kernel through the guest's own virtual IDT — and the kernel runs only as "
            "translated code. ",
            world_words(e.from_world), world_words(e.to_world), cause_words(e));
    if (e.cause == TrapCause::Syscall)
      s +=
          tr("A system call costs two world switches under binary translation (in, and back out at sysretq); "
             "under VT-x the guest's own syscall goes straight to its kernel without leaving the guest.");
    else if (e.cause == TrapCause::Interrupt)
      s += tr("An interrupt while user code runs stops direct execution in the same way.");
    else if (e.cause == TrapCause::Exception)
      s += tr("A fault in user code (a page fault, a division by zero) goes through the monitor the same way.");
  } else if (e.to_world == BtWorld::Direct) {
    s =
        trf("World switch from {} to {} ({}): the guest kernel returned to ring 3, and ring-3 code needs no "
            "translation — its sensitive instructions either fault, which the monitor catches, or are harmless — "
            "so the monitor loads its own IDT, GDT and TSS again and lets user code run directly on the CPU at 0x{:x}.",
            world_words(e.from_world), world_words(e.to_world), cause_words(e), e.rip_to);
  } else {
    s = trf("World switch from {} to {} ({}).", world_words(e.from_world), world_words(e.to_world), cause_words(e));
  }
  if (e.duration_ns) s += trf(" The switch took {} in the monitor.", format_duration(e.duration_ns));
  return s;
}

std::string bt_translate_explain(const Event& e) {
  std::string s =
      trf("The translator met guest kernel code at 0x{:x} that it had not translated yet, and translated one basic "
          "block: {} bytes, {} instructions, up to the next jump. The copy goes into the translation cache, so the "
          "next time the kernel runs this block it costs nothing to translate.",
          e.rip, e.length, e.count);
  if (e.number)
    s +=
        trf(" It found {} sensitive or privileged instructions ({}): each became a callout into the monitor "
            "instead of running as it is.",
            e.number, bt_insn_mask_names(e.value));
  else
    s += tr(" It holds no sensitive instruction, so the copy runs as the original did.");
  if (e.duration_ns) s += trf(" Translating took {}.", format_duration(e.duration_ns));
  return s;
}

std::string bt_callout_explain(const Event& e) {
  const BtInsnInfo& info = bt_insn_info(e.insn);
  if (info.cls == BtInsnClass::Traced) {
    std::string s =
        trf("Callout at 0x{:x}: translated kernel code stored 0x{:x} into its own page-table entry (a {}, at "
            "guest-physical 0x{:x}). The instruction is an ordinary store, but the page holds the guest's page "
            "tables, which the monitor traces: it keeps its own copy of them (here, KVM's shadow for direct "
            "execution), so the store became a callout and the monitor updated its copy. VMware's monitor "
            "traced page-table pages the same way; under VT-x with EPT the store costs nothing.",
            e.rip, e.value, e.reg, e.gpa);
    if (e.duration_ns) s += trf(" The monitor took {}.", format_duration(e.duration_ns));
    return s;
  }
  std::string s =
      trf("Callout at 0x{:x}: translated kernel code reached {}, which the translator had replaced by a "
          "call into the monitor. ",
          e.rip, info.name.empty() ? std::string_view("?") : info.name);
  if (!info.why.empty()) s += fmt::format("{}. ", tr(info.why));
  s += info.cls == BtInsnClass::Sensitive
           ? tr("It is sensitive but unprivileged: in a deprivileged kernel it would not fault, it would silently do "
                "the wrong thing, which is why trap-and-emulate cannot virtualise x86 without VT-x. ")
           : tr("It is privileged: outside ring 0 it would fault, and trap-and-emulate would catch it with a costly "
                "trap; the callout is cheaper. ");
  if (e.access == AccessKind::Port) {
    const PortInfo p = describe_port(e.port, e.direction);
    s +=
        trf("The monitor did the {} of {} byte(s), value 0x{:x}, on port 0x{:x}{} itself: no hardware exit, "
            "unlike a VM exit under VT-x.",
            direction_name(e.direction), e.size, e.value, e.port, p.name.empty() ? "" : fmt::format(" ({})", p.name));
  } else if (e.access == AccessKind::Cr) {
    s += e.direction == Direction::Write ? trf("The guest's {} is now 0x{:x}.", e.reg, e.value)
                                         : trf("The guest read its {} as 0x{:x}.", e.reg, e.value);
  } else if (e.access == AccessKind::Msr) {
    s += e.direction == Direction::Write
             ? trf("The guest's virtual copy of MSR 0x{:x} is now 0x{:x}.", e.number, e.value)
             : trf("The guest read MSR 0x{:x} as 0x{:x}, from its virtual copy.", e.number, e.value);
  } else if (e.insn == BtInsn::IntN) {
    s += trf("The monitor delivered vector 0x{:x} through the guest's virtual IDT.", e.vector);
  } else if (!info.value_means.empty()) {
    s += trf("Value 0x{:x}: {}.", e.value, tr(info.value_means));
  }
  if (e.duration_ns) s += trf(" The monitor took {}.", format_duration(e.duration_ns));
  return s;
}

}  // namespace ringscope::kind_text
