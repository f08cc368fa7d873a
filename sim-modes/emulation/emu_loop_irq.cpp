// emu_loop_irq.cpp — external interrupts in the emulation loop: when the
// CPU takes one, and HLT's wait for one.
#include "emu_loop.h"

#include "ringscope/events.h"
#include "ringscope/machine.h"

namespace ringscope::emulation {

namespace {
constexpr uint64_t kRflagsIf = 1ull << 9;
constexpr uint64_t kNever = ~0ull;
}  // namespace

// Unicorn has no interrupt pin. The loop plays the CPU's part: at a block
// boundary it asks the machine's interrupt controllers for a pending
// vector, and if RFLAGS.IF allows, takes it (the PIC's INTA cycle) and
// delivers it through the IDT with the rules in core/src/arch (SDM Vol. 3A
// §6.8.1: recognised between instructions, IF gates it). The block hook
// looks before every block (interrupt_due) and stops Unicorn there; HLT
// waits in guest time. Everything happens on the emulation thread: no other
// thread stops Unicorn except the wall-time watchdog, which ends the run.

bool EmuLoop::interrupts_enabled() const { return cpu_.reg(UC_X86_REG_RFLAGS) & kRflagsIf; }

// STI delays interrupts by one instruction (SDM Vol. 2B, STI), so that
// `sti; hlt` cannot lose a wake-up between the two, and MOV SS delays them
// so that `mov ss; mov rsp` is never split (Vol. 3A §6.8.3). Unicorn keeps
// that state to itself, but QEMU ends a translated block right after
// either instruction, so the loop knows it from the block that ran last
// (shadow_, set in on_block and on_code). Peeking at the byte before RIP
// is not enough: in `sti; 1: jmp 1b` the loop's own target follows an STI.

// The block hook's question, asked before every block: should the CPU take
// an external interrupt here? Cheap while nothing can be pending (guest time
// before the timer's next edge, no device access since the last look); when
// one is pending and IF allows, Unicorn is stopped before the block runs and
// the loop delivers it with RIP at the block, an instruction boundary.
bool EmuLoop::interrupt_due() {
  // One is pending but IF (or a shadow) held it: only those can change
  // now, and IF only by an instruction that sets it (STI, POPF, IRET,
  // SYSRET), so a handler's loops pay nothing until one has run.
  if (irq_held_) {
    if (!if_dirty_ || shadow_) return false;
    if (!interrupts_enabled()) {
      if_dirty_ = false;
      return false;
    }
  }
  if (!irq_held_ && !irq_look_ && guest_ns() < next_irq_ns_) return false;
  irq_look_ = irq_held_ = false;
  std::optional<uint8_t> vector = irq_pending();  // the timers brought up to guest time
  next_irq_ns_ = irq_deadline().value_or(kNever);
  if (!vector) return false;
  if (!interrupts_enabled() || shadow_) {
    irq_held_ = true;     // look again once IF is set and no shadow is open
    if_dirty_ = shadow_;  // STI: IF is already set, only the shadow holds it
    return false;
  }
  irq_stop_ = true;
  uc_emu_stop(cpu_.uc());
  return true;
}

bool EmuLoop::deliver_external(uint64_t return_rip) {
  if (ret_.armed) resolve_return(cpu_.reg(UC_X86_REG_RIP));  // the IRETQ before it did run
  arch::InterruptRequest req;
  req.vector = irq_acknowledge();
  req.source = arch::EventSource::External;
  req.return_rip = req.instruction_rip = return_rip;
  return deliver(req);
}

// One vCPU: the PIC's pending vector. Several: its local APIC's, else the
// PIC's where its LINT0 takes them (the boot CPU's, as firmware leaves it).
std::optional<uint8_t> EmuLoop::irq_pending() {
  if (!smp_.lapics) return machine_.pending_irq();
  if (auto v = smp_.lapics->pending(vcpu_)) return v;
  if (smp_.lapics->accepts_pic(vcpu_)) return machine_.pending_irq();
  return std::nullopt;
}

std::optional<uint64_t> EmuLoop::irq_deadline() {
  if (!smp_.lapics) return machine_.next_irq_deadline_ns();
  std::optional<uint64_t> d = smp_.lapics->next_deadline_ns(vcpu_);
  if (smp_.lapics->accepts_pic(vcpu_)) {
    if (auto pic = machine_.next_irq_deadline_ns(); pic && (!d || *pic < *d)) d = pic;
  }
  return d;
}

// The CPU takes the interrupt (the local APIC's IRR to ISR, or the PIC's
// INTA cycle). An IPI becomes an irq_inject on this vCPU's lane: from which
// vCPU, and how long after its ICR write (the `device` event on the
// sender's lane) this one took it.
uint8_t EmuLoop::irq_acknowledge() {
  if (!smp_.lapics || !smp_.lapics->pending(vcpu_)) return machine_.acknowledge_irq();
  LocalApics::Taken t = smp_.lapics->acknowledge(vcpu_);
  if (t.ipi && tracing_) {
    uint64_t now = monotonic_ns();
    Event e = events::ipi_inject({now, vcpu_, Source::Emulator}, t.vector, t.from, "fixed",
                                 now > t.sent_ns ? now - t.sent_ns : 0);
    sink_.emit(e);
  }
  return t.vector;
}

// Several vCPUs: a halted vCPU wakes when an interrupt it can take is
// pending (IF set); with IF clear only INIT and STARTUP reach it.
bool EmuLoop::wakes() {
  if (!halted_) return true;
  if (halted_for_good_ || !interrupts_enabled()) return false;
  return irq_pending().has_value();
}

std::optional<uint64_t> EmuLoop::wake_deadline() {
  if (!halted_ || halted_for_good_ || !interrupts_enabled()) return std::nullopt;
  return irq_deadline();
}

// INIT resets this CPU into waiting for STARTUP (the scheduler stops
// giving it turns); STARTUP starts it in real mode at vector << 12 (SDM
// Vol. 3A §8.4.4.1, §10.6.1). Each is an irq_inject on its lane.
Status EmuLoop::startup(const LocalApics::Startup& s) {
  if (tracing_) {
    uint64_t now = monotonic_ns();
    bool init = s.mode == LocalApics::Delivery::Init;
    Event e = events::ipi_inject({now, vcpu_, Source::Emulator}, s.vector, s.from, init ? "INIT" : "STARTUP",
                                 now > s.sent_ns ? now - s.sent_ns : 0);
    sink_.emit(e);
  }
  if (s.mode != LocalApics::Delivery::Startup) return ok_status();
  TRY(cpu_.start_real_mode(s.vector));
  cpu_.drop_aliases();
  decoder_.flush();
  block_io_ = nullptr;
  ret_ = {};
  pending_ = Pending::None;
  halted_ = halted_for_good_ = false;
  shadow_ = irq_held_ = if_dirty_ = false;
  irq_look_ = true;
  refresh_paging();
  cpl_ = 0;
  record_mode_change(monotonic_ns());
  return ok_status();
}

// HLT in ring 0 (halt_wait.h). In guest time a sleep costs nothing: the
// clock jumps to the timer's next edge (as QEMU's icount does when all
// CPUs are idle). Two jumps at most: an edge that brings no interrupt
// twice running never will.
Wake EmuLoop::wait_for_interrupt() {
  int jumps = 0;
  return ringscope::wait_for_interrupt(machine_, interrupts_enabled(), watchdog_, [&](uint64_t deadline) {
    if (jumps++ == 2) return false;
    uint64_t now = guest_ns();
    if (deadline > now) halted_ns_ += deadline - now;
    return true;
  });
}

}  // namespace ringscope::emulation
