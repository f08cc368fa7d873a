// emu_loop_irq.cpp — external interrupts in the emulation loop: when the
// CPU takes one, and HLT's wait for one.
#include "emu_loop.h"

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
  std::optional<uint8_t> vector = machine_.pending_irq();  // the PIT brought up to guest time
  next_irq_ns_ = machine_.next_irq_deadline_ns().value_or(kNever);
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
  req.vector = machine_.acknowledge_irq();
  req.source = arch::EventSource::External;
  req.return_rip = req.instruction_rip = return_rip;
  return deliver(req);
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
