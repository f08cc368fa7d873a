// explain.cpp — summaries and plain-language explanations of events.
//
// [SECTION] helpers        formatting of durations, characters, rings
// [SECTION] ports          the well-known legacy I/O ports
// [SECTION] summaries      one line of payload per event kind
// [SECTION] explanations   sentences for students, per event kind
//
// Each kind's row in the schema table (event_kinds.cpp) points at its
// summary and explanation here; summarize_event and explain_event only
// dispatch through it. A vm_exit's words follow its access tag
// (exit_access), never a guess from which fields are set.
//
// The exit-reason sentences come from the one exit-reason table
// (exit_reasons.cpp) and exception names from the vocabulary
// (vocabulary.cpp); this file only adds what an event's payload says about
// *this* occurrence: which port, which register, which ring, how long.
#include "ringscope/explain.h"

#include <fmt/format.h>

#include <array>

#include "event_kinds.h"
#include "ringscope/devices/probe.h"
#include "ringscope/devices/uart16550.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/host_counters.h"
#include "ringscope/hypercalls.h"
#include "ringscope/i18n.h"
#include "ringscope/supervisor.h"
#include "ringscope/terminal_text.h"

namespace ringscope {

// ---- [SECTION] helpers ------------------------------------------------------

std::string format_duration(uint64_t ns) {
  if (ns < 1000) return fmt::format("{} ns", ns);
  if (ns < 1000000) return fmt::format("{:.1f} µs", static_cast<double>(ns) / 1e3);
  if (ns < 1000000000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
}

std::string char_literal(uint64_t value) {
  switch (value) {
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\'': return "'\\''";
    default: break;
  }
  if (value >= 0x20 && value < 0x7f) return fmt::format("'{}'", static_cast<char>(value));
  return {};
}

namespace {

// "time_ns (4)" for ringscope's doorbell hypercalls (docs/hypercalls.md);
// "nr 1" for vmcall, whose numbers are KVM's own (KVM_HC_*).
std::string hypercall_label(const Event& e) {
  if (e.transport == Transport::Port)
    if (const HypercallInfo* h = find_hypercall(e.number)) return fmt::format("{} ({})", h->name, e.number);
  return fmt::format("nr {}", e.number);
}

std::string_view ring_word(uint8_t cpl) {
  switch (cpl) {
    case 0: return tr("ring 0 (kernel)");
    case 3: return tr("ring 3 (user)");
    case 1: return tr("ring 1");
    case 2: return tr("ring 2");
    default: return tr("an invalid ring");
  }
}

// Guest text (output, marker labels) as a quoted literal: quotes and
// backslashes escaped here, every control character by escape_terminal
// (terminal_text.h), the one rule for guest text on a terminal.
std::string quoted(std::string_view s, size_t max = 60) {
  std::string out = "\"";
  const std::string_view head = s.substr(0, max);
  size_t from = 0;
  for (size_t i = 0; i <= head.size(); ++i) {
    if (i < head.size() && head[i] != '"' && head[i] != '\\') continue;
    append_escaped(out, head.substr(from, i - from));
    if (i < head.size()) {
      out += '\\';
      out += head[i];
    }
    from = i + 1;
  }
  if (s.size() > max) out += "...";
  return out + "\"";
}

std::string hex_bytes(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", c);
  return out;
}

// The access part of an I/O or MMIO exit or a device event: "out 0x3f8 size 1 value 0x68 'h'".
std::string access_text(const Event& e, AccessKind access) {
  std::string s;
  if (e.direction != Direction::None) s += direction_name(e.direction);
  if (access == AccessKind::Port)
    s += fmt::format(" 0x{:x}", e.port);
  else if (e.gpa != 0 || e.length != 0)
    s += fmt::format(" gpa 0x{:x}", e.gpa);
  if (e.size) s += fmt::format(" size {}", e.size);
  if (e.length && !e.size) s += fmt::format(" length {}", e.length);
  if (e.count > 1) s += fmt::format(" count {}", e.count);
  if (e.direction == Direction::Out || e.direction == Direction::Write || e.value != 0) {
    s += fmt::format(" value 0x{:x}", e.value);
    // A byte the guest wrote is usually text (the UART); a byte read is a status.
    bool written = e.direction == Direction::Out || e.direction == Direction::Write;
    if (written && e.size <= 1) {
      if (auto c = char_literal(e.value); !c.empty()) s += " " + c;
    }
  }
  if (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

}  // namespace

std::string kind_text::access_words(const Event& e, AccessKind access) { return access_text(e, access); }

// ---- [SECTION] ports --------------------------------------------------------

PortInfo describe_port(uint16_t port, Direction dir) {
  bool out = dir == Direction::Out || dir == Direction::Write;
  if (port >= kCom1Base && port < kCom1Base + kUartWindow) {
    // Offsets follow the 16550 datasheet; DLAB=1 aliases 0/1 to the divisor
    // latch, which one event cannot tell, so the common meaning is given.
    switch (port - kCom1Base) {
      case Uart16550::kRbrThr:
        return out ? PortInfo{"UART THR", tr("the guest wrote a byte to the serial port")}
                   : PortInfo{"UART RBR", tr("the guest read a received byte from the serial port")};
      case Uart16550::kIer: return {"UART IER", tr("the guest accessed the UART's interrupt-enable register")};
      case Uart16550::kIirFcr:
        return out ? PortInfo{"UART FCR", tr("the guest configured the UART's FIFOs")}
                   : PortInfo{"UART IIR", tr("the guest asked the UART which interrupt is pending")};
      case Uart16550::kLcr: return {"UART LCR", tr("the guest set the serial line format (or the divisor latch bit)")};
      case Uart16550::kMcr: return {"UART MCR", tr("the guest accessed the UART's modem-control register")};
      case Uart16550::kLsr:
        return {"UART LSR", tr("the guest polled the UART's line status to see whether it may send the next byte")};
      case Uart16550::kMsr: return {"UART MSR", tr("the guest read the UART's modem status")};
      default: return {"UART SCR", tr("the guest used the UART's scratch register")};
    }
  }
  if (port >= kProbeBase && port < kProbeBase + kProbeWindow) {
    if (port - kProbeBase == ProbeDevice::kExit)
      return {"probe exit", tr("the guest reported its exit status, which ends the run")};
    return out ? PortInfo{"probe marker", tr("the guest announced a workload marker (a phase label) to ringscope")}
               : PortInfo{"probe magic", tr("the guest asked whether it runs under ringscope")};
  }
  // Legacy PC ports a stray guest or a third-party kernel may touch.
  switch (port) {
    case 0x20:
    case 0xa0: return {"PIC command", tr("the guest programmed the 8259 interrupt controller")};
    case 0x21:
    case 0xa1: return {"PIC data", tr("the guest set the 8259 interrupt mask")};
    case 0x40:
    case 0x41:
    case 0x42: return {"PIT counter", tr("the guest accessed a counter of the 8254 timer")};
    case 0x43: return {"PIT mode", tr("the guest programmed the 8254 timer")};
    case 0x60:
    case 0x64: return {"i8042", tr("the guest accessed the keyboard controller")};
    case 0x70:
    case 0x71: return {"CMOS/RTC", tr("the guest accessed the real-time clock / CMOS")};
    case 0x80: return {"POST", tr("the guest wrote to the POST diagnostic port (often used as an I/O delay)")};
    case 0xcf8:
    case 0xcfc: return {"PCI config", tr("the guest probed PCI configuration space")};
    default: return {};
  }
}

// ---- [SECTION] summaries ----------------------------------------------------

namespace kind_text {

std::string vm_exit_summary(const Event& e) {
  std::string s = exit_reason_name(e.reason);
  const AccessKind access = exit_access(e);
  if (access == AccessKind::PageTableStore)
    s += fmt::format("  #PF: guest store to its {} at gpa 0x{:x} value 0x{:x} (shadow paging)", e.reg, e.gpa, e.value);
  else if (std::string a = access_text(e, access); !a.empty() && (e.direction != Direction::None || e.gpa))
    s += "  " + a;
  s += fmt::format("  rip 0x{:x} cpl {}", e.rip, e.cpl);
  if (e.duration_ns) s += "  " + format_duration(e.duration_ns);
  if (e.handled_by != HandledBy::None) s += fmt::format(" ({})", handled_by_name(e.handled_by));
  return s;
}

std::string trap_summary(const Event& e) {
  std::string s;
  if (e.cause == TrapCause::Exception) {
    std::string_view n = exception_name(e.vector);
    s = n.empty() ? fmt::format("exception {}", e.vector) : std::string(n);
    if (e.has_error_code) s += fmt::format("  error 0x{:x}", e.error_code);
    if (e.vector == 14) s += fmt::format("  cr2 0x{:x}", e.cr2);
  } else if (e.cause == TrapCause::Syscall) {
    s = "syscall";
  } else {
    s = fmt::format("{} 0x{:x}", cause_name(e.cause), e.vector);
  }
  return s + fmt::format("  cpl {}->{}  rip 0x{:x} -> 0x{:x}", e.from_cpl, e.to_cpl, e.rip, e.rip_to);
}

std::string trap_return_summary(const Event& e) {
  return fmt::format("{}  cpl {}->{}  rip 0x{:x} -> 0x{:x}", cause_name(e.cause), e.from_cpl, e.to_cpl, e.rip,
                     e.rip_to);
}

std::string hypercall_summary(const Event& e) {
  return fmt::format("{}  args 0x{:x} 0x{:x} 0x{:x} 0x{:x}  result 0x{:x}  via {}", hypercall_label(e), e.args[0],
                     e.args[1], e.args[2], e.args[3], e.result, transport_name(e.transport));
}

std::string device_summary(const Event& e) {
  std::string s = fmt::format("{} {}", e.device, e.reg);
  if (std::string a = access_text(e, AccessKind::None); !a.empty()) s += "  " + a;
  if (e.duration_ns) s += "  " + format_duration(e.duration_ns);
  return s;
}

std::string irq_inject_summary(const Event& e) {
  switch (irq_via(e)) {
    case IrqVia::Irqfd: return fmt::format("IRQ {} from {} -> irqfd (in-kernel PIC)", e.value, e.device);
    case IrqVia::Ipi:
      return fmt::format("IPI {} vector 0x{:x} vcpu{} -> vcpu{}  {} after the ICR write", e.reg, e.vector, e.value,
                         e.vcpu, format_duration(e.duration_ns));
    case IrqVia::KvmInterrupt: return fmt::format("vector 0x{:x} -> vcpu{}  KVM_INTERRUPT", e.vector, e.vcpu);
    default: return fmt::format("vector 0x{:x} -> vcpu{}", e.vector, e.vcpu);
  }
}

std::string mode_change_summary(const Event& e) {
  return fmt::format("cr0 0x{:x}->0x{:x}  cr4 0x{:x}->0x{:x}  efer 0x{:x}->0x{:x}", e.prev_cr0, e.cr0, e.prev_cr4,
                     e.cr4, e.prev_efer, e.efer);
}

std::string step_summary(const Event& e) {
  return fmt::format("rip 0x{:x} cpl {}  {}", e.rip, e.cpl, hex_bytes(e.text));
}
std::string counter_summary(const Event& e) { return fmt::format("{} = {}", e.name, e.value); }
std::string output_summary(const Event& e) { return quoted(e.text); }
std::string marker_summary(const Event& e) { return fmt::format("{} {}", phase_name(e.phase), quoted(e.name)); }

std::string run_end_summary(const Event& e) {
  std::string s(run_end_name(e.end_reason));
  if (e.end_reason == RunEndReason::GuestExit) s += fmt::format(" status {}", e.value);
  if (!e.text.empty()) s += "  " + quoted(e.text, 120);
  return s;
}

}  // namespace kind_text

std::string summarize_event(const Event& e) {
  const KindSpec& k = kind_spec(e.kind);
  return k.summary ? k.summary(e) : escape_terminal(generic_summary(e));
}

// ---- [SECTION] explanations -------------------------------------------------

namespace {

// Why a common exception happens, in a student's words.
std::string_view exception_why(uint8_t vector) {
  switch (vector) {
    case 0: return tr("the instruction divided by zero (or the quotient did not fit)");
    case 1: return tr("a debug condition fired (single-step or a breakpoint register)");
    case 3: return tr("the program executed int3, a breakpoint");
    case 6: return tr("the CPU does not recognise the instruction, or it is not allowed here");
    case 8: return tr("an exception happened while the CPU was delivering another one");
    case 13:
      return tr(
          "the instruction broke a protection rule: a privileged instruction outside ring 0, a bad segment "
          "or a non-canonical address");
    case 14: return tr("the address could not be translated or the page does not allow this access");
    default: return {};
  }
}

// The page-fault error code, bit by bit (Intel SDM Vol. 3A, 4.7).
std::string page_fault_detail(const Event& e) {
  uint32_t ec = e.error_code;
  return trf(" at address 0x{:x}: a {} by {} code to a {} page{}", e.cr2,
             (ec & 0x10) ? tr("instruction fetch")
             : (ec & 2)  ? tr("write")
                         : tr("read"),
             (ec & 4) ? tr("user") : tr("kernel"), (ec & 1) ? tr("present but protected") : tr("not-present"),
             (ec & 8) ? tr(" (reserved bit set)") : "");
}

// How the CPU entered the handler: the ring change is the point of the lesson.
std::string entry_detail(const Event& e) {
  if (e.from_cpl != e.to_cpl)
    return trf(
        " The CPU left {} for {}: it looked up vector {} in the IDT, switched to the kernel stack named "
        "in the TSS (RSP0), pushed SS, RSP, RFLAGS, CS and RIP, and jumped to the handler at 0x{:x}.",
        ring_word(e.from_cpl), ring_word(e.to_cpl), e.vector, e.rip_to);
  return trf(
      " It happened in {} already, so there was no ring change and no stack switch: the CPU pushed the "
      "frame on the current stack and jumped to the handler at 0x{:x}.",
      ring_word(e.from_cpl), e.rip_to);
}

std::string explain_exit(const Event& e) {
  std::string s;
  const AccessKind access = exit_access(e);
  if (access == AccessKind::PageTableStore) {
    s =
        trf("The guest kernel stored 0x{:x} into one of its own page-table entries (a {}, at guest-physical "
            "0x{:x}). Without EPT the CPU walks the hypervisor's shadow page tables, so the hypervisor keeps "
            "the guest's tables write-protected: the store faults (#PF, intercepted), KVM's shadow MMU "
            "updates its shadow entry and resumes the guest. With EPT the guest edits its tables freely and "
            "none of this happens: this exit is the cost EPT removes. ",
            e.value, e.reg, e.gpa);
  } else if (access == AccessKind::Port) {
    bool out = e.direction == Direction::Out;
    PortInfo p = describe_port(e.port, e.direction);
    s = trf("{} port 0x{:x}", out ? tr("OUT to") : tr("IN from"), e.port);
    if (!p.name.empty()) s += fmt::format(" ({})", p.name);
    s += ": ";
    if (!p.doing.empty()) {
      s += p.doing;
      if (out && e.size <= 1)
        if (auto c = char_literal(e.value); !c.empty()) s += fmt::format(" ({})", c);
      s += ". ";
    }
  } else if (access == AccessKind::Mmio) {
    s =
        trf("MMIO {} at guest-physical 0x{:x}: no RAM is mapped there, so the access cannot complete inside "
            "the guest. ",
            direction_name(e.direction), e.gpa);
  }
  if (const ExitReasonInfo* info = find_exit_reason(e.reason)) {
    if (s.empty()) s = trf("VM exit: {}. ", tr(info->title));
    s += tr(info->explanation);
  } else {
    s += trf("VM exit with reason {}, which ringscope has no description for.", e.reason);
  }
  if (!s.empty() && s.back() != ' ') s += ' ';
  if (e.source == Source::VmxModel)
    s += tr("No real exit happened: the emulator ran this itself, and VT-x hardware would have exited here.");
  else if (e.source == Source::DeviceThread)
    s +=
        tr("Offloaded I/O: this doorbell is registered with KVM_IOEVENTFD, so KVM answered it inside the host "
           "kernel by waking the VMM's device thread, and the guest ran on without waiting; the device thread "
           "served the queue (the events that follow) while the vCPU's thread never saw the exit.");
  else if (e.handled_by == HandledBy::Vmm)
    s += tr("KVM_RUN returned to ringscope's VMM in user space, whose device model handled it.");
  else if (e.handled_by == HandledBy::Kernel)
    s += tr("KVM handled it inside the host kernel without returning to the VMM.");
  if (e.duration_ns) s += trf(" Exit to re-entry took {}.", format_duration(e.duration_ns));
  return s;
}

std::string explain_trap(const Event& e) {
  switch (e.cause) {
    case TrapCause::Exception: {
      std::string_view name = exception_name(e.vector);
      std::string s = name.empty() ? trf("Exception {}", e.vector) : fmt::format("{}", name);
      if (e.vector == 14)
        s += page_fault_detail(e);
      else if (auto why = exception_why(e.vector); !why.empty())
        s += fmt::format(": {}", why);
      s += trf(" (at rip 0x{:x}).", e.rip);
      if (e.vector == 6 && e.from_cpl == 3)
        s +=
            tr(" On PVM hosts (see the trace header's KVM flavour) a ring-3 `int n` arrives as exactly this #UD: the "
               "teaching kernel looks at the faulting bytes, and if they are `int $0x40` it runs the system call "
               "anyway (its `int40-via-ud` marker counts how often).");
      return s + entry_detail(e);
    }
    case TrapCause::Interrupt:
      return trf("External interrupt, vector 0x{:x}. Interrupts are asynchronous: the CPU finished the "
                 "instruction at 0x{:x} and then delivered the interrupt.",
                 e.vector, e.rip) +
             entry_detail(e);
    case TrapCause::SoftInt:
      return trf("The program executed int 0x{:x}, a software interrupt: the gate's DPL must allow the "
                 "caller's ring, and then it is delivered through the IDT like a hardware interrupt. This was "
                 "the classic system-call path before syscall.",
                 e.vector) +
             entry_detail(e);
    case TrapCause::Syscall:
      return trf(
          "The program at 0x{:x} executed syscall to ask the kernel for a service. syscall is the fast "
          "path: no IDT lookup and no memory access; the CPU saves RIP in RCX and RFLAGS in R11, loads "
          "kernel CS/SS from the STAR MSR and jumps to the address in LSTAR (0x{:x}), going from {} to "
          "{}. The kernel must switch to its own stack itself.",
          e.rip, e.rip_to, ring_word(e.from_cpl), ring_word(e.to_cpl));
    default: return trf("A trap into the guest kernel at 0x{:x}.", e.rip_to);
  }
}

std::string explain_trap_return(const Event& e) {
  std::string where =
      e.from_cpl != e.to_cpl
          ? trf("from {} to {}", ring_word(e.from_cpl), ring_word(e.to_cpl))
          : trf("staying in {} (a return from something that interrupted the kernel itself)", ring_word(e.from_cpl));
  if (e.cause == TrapCause::Sysret)
    return trf(
        "sysretq, syscall's partner: RIP from RCX, RFLAGS from R11, user CS/SS from the STAR MSR; it "
        "went {} at 0x{:x} without touching memory.",
        where, e.rip_to);
  return trf(
      "iretq popped RIP, CS, RFLAGS, RSP and SS from the stack and went {} at 0x{:x}: this is how a "
      "kernel resumes whatever an interrupt or exception stopped.",
      where, e.rip_to);
}

std::string_view transport_words(Transport t) {
  switch (t) {
    case Transport::Port: return tr("an OUT to the hypercall doorbell port");
    case Transport::Mmio: return tr("a write to a doorbell register");
    case Transport::Vmcall: return tr("the VMCALL instruction");
    default: return tr("an unrecorded transport");
  }
}

std::string explain_mode_change(const Event& e) {
  std::string s = tr("The guest changed its control registers:");
  auto rose = [](uint64_t before, uint64_t after, int bit) { return !(before >> bit & 1) && (after >> bit & 1); };
  bool any = false;
  if (rose(e.prev_cr0, e.cr0, 0)) s += tr(" CR0.PE set, the CPU entered protected mode;"), any = true;
  if (rose(e.prev_cr4, e.cr4, 5)) s += tr(" CR4.PAE set, page tables use 64-bit entries;"), any = true;
  if (rose(e.prev_efer, e.efer, 8)) s += tr(" EFER.LME set, long mode is armed;"), any = true;
  if (rose(e.prev_cr0, e.cr0, 31)) s += tr(" CR0.PG set, paging is on;"), any = true;
  if (rose(e.prev_efer, e.efer, 10)) s += tr(" EFER.LMA set, long mode is active and 64-bit code can run;"), any = true;
  if (!any) return s + trf(" cr0 0x{:x}, cr4 0x{:x}, efer 0x{:x}.", e.cr0, e.cr4, e.efer);
  s.back() = '.';
  return s;
}

std::string_view kvm_stat_meaning(std::string_view name) {
  if (name == "kernel_exits")
    return tr("exits KVM handled inside the kernel so far: its `exits` stat minus the ones that reached the VMM");
  if (name == "exits")
    return tr("every VM exit of this vCPU, whether KVM handled it in the kernel or passed it to the VMM");
  if (name == "io_exits") return tr("exits caused by port I/O");
  if (name == "mmio_exits") return tr("exits for MMIO accesses that KVM passed to user space");
  if (name == "halt_exits") return tr("exits caused by hlt");
  if (name == "irq_exits") return tr("exits caused by host interrupts arriving while the guest ran");
  if (name == "signal_exits") return tr("exits because a signal was pending for the vCPU thread");
  if (name == "insn_emulation")
    return tr("instructions run by KVM's in-kernel emulator (on a PVM host, ring-0 guest code runs this way)");
  if (name == "hypercalls") return tr("hypercalls KVM handled in the kernel");
  if (name == "irq_window_exits") return tr("exits requested to find a moment when the guest accepts interrupts");
  if (name == "irq_injections") return tr("interrupts injected into the guest");
  if (name.starts_with("pf_")) return tr("page-fault handling inside KVM (shadow or nested paging)");
  return {};
}

}  // namespace

namespace kind_text {

std::string vm_exit_explain(const Event& e) { return explain_exit(e); }

std::string trap_explain(const Event& e) { return explain_trap(e); }

std::string trap_return_explain(const Event& e) { return explain_trap_return(e); }

std::string hypercall_explain(const Event& e) {
  return trf(
      "The paravirtualised guest made hypercall {} through {}: instead of letting the hypervisor "
      "guess its intent from many trapped device-register accesses, it asked directly, so one exit "
      "does the work of many. Result 0x{:x}.",
      hypercall_label(e), transport_words(e.transport), e.result);
}

// A write of a local APIC's interrupt command register: an IPI sent
// (devices/lapic.h; value = ICR high << 32 | ICR low).
std::string icr_explain(const Event& e) {
  static constexpr std::string_view kModes[] = {"fixed", "lowest priority", "SMI",   "reserved", "NMI",
                                                "INIT",  "STARTUP",         "ExtINT"};
  uint32_t low = static_cast<uint32_t>(e.value);
  uint32_t dest = static_cast<uint32_t>(e.value >> 56);
  uint32_t shorthand = (low >> 18) & 3;
  std::string to = shorthand == 1   ? tr("itself")
                   : shorthand == 2 ? tr("every CPU")
                   : shorthand == 3 ? tr("every other CPU")
                   : dest == 0xff   ? tr("every CPU (destination 0xff)")
                                    : trf("the CPU with local APIC ID {}", dest);
  return trf(
      "vCPU {} wrote its local APIC's interrupt command register (ICR): a {} IPI, vector {}, to {}. Writing the "
      "ICR's low half is what sends it; the target's irq_inject event (an arrow in the viewer) shows when it "
      "arrived. Under emulation this is ringscope's local APIC model. Under KVM's in-kernel irqchip the same "
      "write is handled inside KVM (an APIC-access exit that never reaches the VMM, or none at all with APICv), "
      "so a KVM trace shows no event for it.",
      e.vcpu, kModes[(low >> 8) & 7], low & 0xff, to);
}

std::string device_explain(const Event& e) {
  if (e.device == "lapic" && e.reg == "ICR") return icr_explain(e);
  std::string s = trf("The {} device model handled a {} of its {} register", e.device, direction_name(e.direction),
                      e.reg.empty() ? "?" : e.reg);
  if (e.direction == Direction::Write || e.direction == Direction::Out || e.value) {
    s += trf(" (value 0x{:x}", e.value);
    if (auto c = char_literal(e.value); !c.empty() && e.size <= 1) s += " " + c;
    s += ")";
  }
  if (e.count) s += trf(", {} items", e.count);
  s +=
      tr(". Device models are plain code in the VMM, the same objects under KVM and the emulator: this is the work "
         "behind the exit before it.");
  if (e.duration_ns) s += trf(" It took {}.", format_duration(e.duration_ns));
  return s;
}

std::string irq_inject_explain(const Event& e) {
  const IrqVia via = irq_via(e);
  if (via == IrqVia::Ipi) {
    std::string what = e.reg == "INIT" ? tr("INIT resets this CPU: it now waits for a STARTUP IPI")
                       : e.reg == "STARTUP"
                           ? trf("STARTUP starts this CPU in 16-bit real mode at physical address 0x{:x} (the "
                                 "vector {} is the page number)",
                                 uint64_t{e.vector} << 12, e.vector)
                           : trf("the CPU takes vector {} through its IDT, as any interrupt", e.vector);
    return trf(
        "An inter-processor interrupt from vCPU {} reached vCPU {}: {}. vCPU {} sent it by writing its local "
        "APIC's interrupt command register (the `device` event \"lapic ICR\" on its lane, {} earlier); "
        "ringscope's local APIC model delivered it to this vCPU's local APIC. Under KVM's in-kernel irqchip the "
        "same IPI never leaves the kernel: KVM's own local APICs carry it, so a KVM trace shows no exit and no "
        "event for it at all; its absence is the lesson there.",
        e.value, e.vcpu, what, e.value, format_duration(e.duration_ns));
  }
  if (via == IrqVia::Irqfd)
    return trf(
        "{} raised IRQ {} by writing to an irqfd: KVM's in-kernel 8259A PIC, not the VMM, turns the "
        "line into the vector the guest programmed and delivers it, waking the vCPU if it is halted "
        "inside KVM_RUN. The guest's EOI to the PIC never leaves the kernel either; KVM's stats fd "
        "counts the delivery (irq_injections).",
        e.device, e.value);
  if (via == IrqVia::KvmInterrupt)
    return trf(
        "The VMM's own interrupt controller model (its 8259A PIC) chose vector 0x{:x} and the VMM injected it "
        "into vCPU {} with the KVM_INTERRUPT ioctl, as soon as the guest had interrupts enabled (until then it "
        "asked KVM for an interrupt-window exit). The CPU delivers it through the guest's IDT on the next VM "
        "entry; the guest's EOI to the PIC is one more port exit for the VMM.",
        e.vector, e.vcpu);
  return trf(
      "The VMM injected interrupt vector 0x{:x} into vCPU {}. A guest cannot see a device raise a "
      "line directly: the VMM queues the vector, and the CPU delivers it through the guest's IDT on "
      "the next VM entry once the guest has interrupts enabled.",
      e.vector, e.vcpu);
}

std::string mode_change_explain(const Event& e) { return explain_mode_change(e); }

std::string step_explain(const Event& e) {
  return trf(
      "Single-stepped the instruction at 0x{:x} in {}. At trace level full the CPU stops after "
      "every instruction, so each one costs a whole exit: the slow-down is itself the lesson.",
      e.rip, ring_word(e.cpl));
}

std::string counter_explain(const Event& e) {
  if (e.source == Source::KvmStats) {
    std::string s = trf("KVM's per-vCPU statistic '{}' now stands at {}", e.name, e.value);
    if (auto m = kvm_stat_meaning(e.name); !m.empty()) s += fmt::format(" ({})", m);
    return s + ". KVM counts these inside the kernel, including exits the VMM never sees.";
  }
  if (const HostCounterInfo* h = e.source == Source::Vmm ? find_host_counter(e.name) : nullptr) {
    // A host counter (host_counters.h): its own sentence from the one table.
    const std::string value = h->unit == HostCounterUnit::Nanoseconds
                                  ? format_duration(e.value)
                                  : fmt::format("{:.1f} MiB", static_cast<double>(e.value) / (1 << 20));
    return fmt::format("{}: {}. {}", tr(h->title), value, tr(h->description));
  }
  if (e.name == kCounterVcpuThreadCpuNs)
    return trf(
        "The host gave this vCPU's thread {} of CPU time over the whole run. To the host a VM is "
        "a process and each vCPU a thread its scheduler runs like any other: a guest waiting in "
        "hlt costs almost nothing, a busy one keeps a host CPU busy.",
        format_duration(e.value));
  if (e.name == kCounterVcpuThreadTid)
    return trf(
        "vCPU {} ran on host thread {} of the VMM's process (`ps -L -p PID` or "
        "/proc/PID/task/{} while it runs).",
        e.vcpu, e.value, e.value);
  if (e.name == kCounterHostPid)
    return trf(
        "The VMM ran as host process {}: the whole virtual machine, RAM and devices included, is "
        "this one process.",
        e.value);
  return trf("Counter '{}' is {}.", e.name, e.value);
}

std::string output_explain(const Event& e) {
  return trf("The guest wrote {} bytes to its console: {}.", e.text.size(), quoted(e.text));
}

std::string marker_explain(const Event& e) {
  if (e.phase == MarkerPhase::Begin)
    return trf(
        "The workload marked the beginning of phase {}; `ringscope stats` counts the exits and "
        "traps until the matching end.",
        quoted(e.name));
  if (e.phase == MarkerPhase::End) return trf("The workload marked the end of phase {}.", quoted(e.name));
  return trf("The workload marked the point {}.", quoted(e.name));
}

std::string run_end_explain(const Event& e) {
  std::string s(tr(run_end_explanation(e.end_reason)));
  if (!e.text.empty()) s += fmt::format(" ({})", e.text);
  return s;
}

}  // namespace kind_text

std::string explain_event(const Event& e) {
  const KindSpec& k = kind_spec(e.kind);
  return k.explain ? k.explain(e) : std::string(k.about);
}

}  // namespace ringscope
