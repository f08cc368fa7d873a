// emu_loop_rings.cpp — ring transitions in the emulation loop: exceptions,
// `int n`, SYSCALL, SYSRETQ and VMCALL, delivered or executed with the rules
// in core/src/arch, and the trap / trap_return / mode_change events.
#include "emu_loop.h"

#include <variant>

#include "ringscope/hypercalls.h"
#include "ringscope/machine.h"
#include "unicorn_quirks.h"

namespace ringscope::emulation {

// IRETQ and SYSRETQ are executed by Unicorn itself (QEMU's helpers check
// and load the segments exactly as the SDM says); the loop only records
// them, once the guest runs where they went.
// A ring transition without a vector (syscall, iretq, sysretq) as a trap or
// trap_return event; emit_trap records the ones delivered through the IDT.
void EmuLoop::emit_transition(EventKind kind, TrapCause cause, uint8_t from_cpl, uint8_t to_cpl, uint64_t rip,
                              uint64_t rip_to) {
  if (!tracing_) return;
  uint64_t t = monotonic_ns();
  if (kind == EventKind::Trap) record_mode_change(t);
  const events::At at{t, vcpu_, Source::Emulator};
  Event e = kind == EventKind::Trap ? events::trap(at, cause, 0, from_cpl, to_cpl, rip, rip_to)
                                    : events::trap_return(at, cause, from_cpl, to_cpl, rip, rip_to);
  sink_.emit(e);
}

void EmuLoop::resolve_return(uint64_t rip_to) {
  ret_.armed = false;
  uint8_t to = cpu_.cpl();
  emit_transition(EventKind::TrapReturn, ret_.kind == ReturnKind::Iret ? TrapCause::Iret : TrapCause::Sysret,
                  ret_.from_cpl, to, ret_.rip, rip_to);
  cpl_ = to;
  refresh_paging();
}

// An exception inside the block that ends in IRETQ means the return never
// ran; one anywhere else happened after it (at its target, or later).
void EmuLoop::cancel_return_if_not_executed(uint64_t fault_rip) {
  if (!ret_.armed) return;
  if (fault_rip >= ret_.block_start && fault_rip < ret_.block_end)
    ret_.armed = false;
  else
    resolve_return(fault_rip);
}

void EmuLoop::on_intr(uc_engine*, uint32_t intno, void* p) {
  EmuLoop& s = self_of(p);
  uint64_t rip = s.cpu_.reg(UC_X86_REG_RIP);
  s.cancel_return_if_not_executed(rip);
  s.pending_ = Pending::Interrupt;
  s.pending_vector_ = intno;
  s.pending_rip_ = rip;
  s.pending_cr2_ = s.cpu_.reg(UC_X86_REG_CR2);
  uc_emu_stop(s.cpu_.uc());
}

void EmuLoop::on_syscall(uc_engine*, void* p) {
  EmuLoop& s = self_of(p);
  s.pending_ = Pending::Syscall;
  s.pending_rip_ = s.cpu_.reg(UC_X86_REG_RIP);  // the SYSCALL itself; Unicorn then skips it
  uc_emu_stop(s.cpu_.uc());
}

void EmuLoop::emit_trap(const arch::Delivered& d, TrapCause cause) {
  if (!tracing_) return;
  uint64_t t = monotonic_ns();
  record_mode_change(t);
  Event e = events::trap({t, vcpu_, Source::Emulator}, cause, d.vector, d.from_cpl, d.to_cpl, d.from_rip, d.to_rip);
  if (d.has_error_code) events::error_code(e, d.error_code);
  if (d.vector == arch::vec::kPF && cause == TrapCause::Exception) e.cr2 = d.cr2;
  sink_.emit(e);
}

// Every event delivered through the IDT counts against the exit limit, as
// device accesses do: a guest that faults in a loop (a #UD handler that
// returns to the ud2) makes no device access at all, yet must end.
bool EmuLoop::count_fault() {
  if (auto stop = check_exits(exit_count(), options_.limits)) {
    stop_emulation(std::move(*stop));
    return false;
  }
  faults_++;
  return true;
}

bool EmuLoop::deliver(arch::InterruptRequest req) {
  shadow_ = false;  // an event delivered ends any interrupt shadow
  if (!count_fault()) return false;
  cpu_.drop_aliases();  // the kernel may change the page tables now
  arch::CpuState s = cpu_.read_state();
  refresh_paging();
  arch::PagedMemory memory(machine_.memory(), s.paging());
  arch::DeliveryOutcome out = arch::deliver(s, memory, req);
  if (out.triple_fault) {
    stop_emulation(RunEndReason::TripleFault, "triple fault: " + out.why);
    return false;
  }
  auto st = cpu_.write_state(s);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return false;
  }
  const arch::Delivered& d = out.delivered;
  TrapCause cause = d.source == arch::EventSource::SoftInt    ? TrapCause::SoftInt
                    : d.source == arch::EventSource::External ? TrapCause::Interrupt
                    : d.vector >= 32                          ? TrapCause::Interrupt
                                                              : TrapCause::Exception;
  if (model_ && cause == TrapCause::Exception) {
    // Under VT-x the exception bitmap is consulted first; an intercepted
    // exception exits, and the hypervisor re-injects it (the trap below).
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Exception;
    a.vector = d.vector;
    a.has_error_code = d.has_error_code;
    a.error_code = d.error_code;
    a.cr2 = d.cr2;
    a.rip = d.from_rip;
    a.cpl = d.from_cpl;
    model(a);
  }
  emit_trap(d, cause);
  cpl_ = d.to_cpl;
  return true;
}

// Which event Unicorn reported: `int n` (it reports the RIP after the
// instruction) or an exception (the RIP of the faulting instruction).
void EmuLoop::handle_interrupt(uint32_t vector, uint64_t rip, uint64_t cr2) {
  PagingState paging = cpu_.paging();
  if (vector == arch::vec::kUD) {
    // Two #UDs Unicorn raises where a CPU under KVM would not
    // (unicorn_quirks.h): a SYSRETQ (executed by the arch rules instead),
    // and a VMCALL (answered as KVM would).
    if (quirks::ud_is_lost_sysret(machine_.memory(), paging, rip, cpu_.cpl()) && handle_sysret(rip)) return;
    if (handle_vmcall(rip)) return;
  }
  deliver(quirks::reported_event(machine_.memory(), paging, decoder_, vector, rip, cr2, cpu_.cpl()));
}

// `vmcall` (0f 01 c1) or `vmmcall` (0f 01 d9) at rip: do what KVM on a
// VT-x/AMD-V host does. The CPU exits (reason 18, whatever the CPL), KVM
// answers in the kernel (hypercalls.h: kvm_hypercall_result), RAX gets the
// result and the guest goes on after the 3-byte instruction. Recorded as a
// `hypercall` event with transport vmcall; the VT-x model records the exit.
bool EmuLoop::handle_vmcall(uint64_t rip) {
  if (!quirks::is_vmcall(machine_.memory(), cpu_.paging(), rip)) return false;
  uint8_t cpl = cpu_.cpl();
  uint64_t nr = cpu_.reg(UC_X86_REG_RAX);
  uint64_t t = monotonic_ns();
  if (model_) {
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Vmcall;
    a.rip = rip;
    a.cpl = cpl;
    a.value = nr;
    model(a);
  }
  uint64_t result = kvm_hypercall_result(nr, cpl);
  if (tracing_) {
    Event e = events::hypercall(
        {t, vcpu_, Source::Emulator}, Transport::Vmcall, nr,
        {cpu_.reg(UC_X86_REG_RBX), cpu_.reg(UC_X86_REG_RCX), cpu_.reg(UC_X86_REG_RDX), cpu_.reg(UC_X86_REG_RSI)},
        result, rip, cpl, monotonic_ns() - t);
    sink_.emit(e);
  }
  cpu_.set_reg(UC_X86_REG_RAX, result);
  cpu_.set_reg(UC_X86_REG_RIP, rip + quirks::kVmcallLength);
  return true;
}

void EmuLoop::handle_syscall(uint64_t rip) {
  arch::CpuState s = cpu_.read_state();  // s.rip: the instruction after SYSCALL
  quirks::assume_sce(s);
  auto r = arch::syscall(s);
  if (auto* f = std::get_if<arch::Fault>(&r)) {
    arch::InterruptRequest req;
    req.vector = f->vector;
    req.return_rip = req.instruction_rip = rip;
    deliver(req);
    return;
  }
  const arch::CpuState& n = std::get<arch::CpuState>(r);
  cpu_.drop_aliases();  // the kernel may change the page tables now
  auto st = cpu_.write_state(n);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return;
  }
  emit_transition(EventKind::Trap, TrapCause::Syscall, s.cpl(), n.cpl(), rip, n.rip);
  cpl_ = n.cpl();
}

bool EmuLoop::handle_sysret(uint64_t rip) {
  arch::CpuState s = cpu_.read_state();
  quirks::assume_sce(s);
  auto r = arch::sysretq(s);
  if (std::holds_alternative<arch::Fault>(r)) return false;  // the #UD (or #GP) stands
  const arch::CpuState& n = std::get<arch::CpuState>(r);
  auto st = cpu_.write_state(n);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return true;
  }
  emit_transition(EventKind::TrapReturn, TrapCause::Sysret, s.cpl(), n.cpl(), rip, n.rip);
  cpl_ = n.cpl();
  return true;
}

// Mode bt: the guest is at CPL 3, which this loop never runs. The IRETQ or
// SYSRETQ that brought it here is recorded first; then the monitor runs
// ring 3 and comes back with what ended it, delivered here as if Unicorn
// had raised it.
bool EmuLoop::run_ring3() {
  if (ret_.armed) resolve_return(cpu_.reg(UC_X86_REG_RIP));
  shadow_ = false;
  Ring3Exit x = ring3_();
  direct_ns_ += x.direct_ns;
  direct_exits_ += x.kvm_exits;
  irq_look_ = true;  // guest time moved on: the timer may be due
  switch (x.kind) {
    case Ring3Exit::Kind::Stop: stop_emulation(std::move(x.stop)); return false;
    case Ring3Exit::Kind::Syscall: handle_syscall(x.syscall_rip); break;
    case Ring3Exit::Kind::Event:
      deliver(x.event);  // counts against the exit limit, as every delivery does
      break;
    case Ring3Exit::Kind::Resume: break;
  }
  return !stopping_;
}

void EmuLoop::record_mode_change(uint64_t time_ns) {
  PagingState p = cpu_.paging();
  if (!modes_.changed(p.cr0, p.cr4, p.efer)) return;  // RIP is read only for a change
  modes_.observe(sink_, time_ns, vcpu_, Source::Emulator, p.cr0, p.cr4, p.efer, cpu_.reg(UC_X86_REG_RIP));
}

}  // namespace ringscope::emulation
