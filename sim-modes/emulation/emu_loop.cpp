// emu_loop.cpp — run Unicorn, stop at what it cannot do, do it, go on.
//
// The loop's jobs, one file each (the class is declared in emu_loop.h):
//   emu_loop.cpp          the loop: hooks installed, start, stop, decide, record the end
//   emu_loop_devices.cpp  hooks: port I/O and MMIO to the Machine's bus
//   emu_loop_watch.cpp    hooks: blocks / instructions: counts, steps, returns
//   emu_loop_rings.cpp    ring transitions: exceptions, int n, SYSCALL through core/src/arch
//   emu_loop_vmx.cpp      the VT-x model: what would have exited (core/src/vmx), watching sensitive instructions
//   emu_loop_irq.cpp      external interrupts: when to take one, HLT
// and beside them unicorn_quirks.cpp: where Unicorn differs from a CPU under KVM.
#include "emu_loop.h"

#include <fmt/format.h>

#include "ringscope/i18n.h"
#include "ringscope/machine.h"
#include "ringscope/supervisor.h"
#include "unicorn_quirks.h"

namespace ringscope::emulation {

namespace {
constexpr uint64_t kUntilNowhere = ~0ull;  // uc_emu_start's `until`: an address no code reaches
constexpr uint64_t kMmioTop = 1ull << 32;  // non-RAM physical addresses below 4 GiB are MMIO
}  // namespace

EmuLoop::EmuLoop(Machine& machine, UnicornCpu& cpu, EventSink& sink, const RunOptions& options, EmulationOptions emu,
                 uint32_t vcpu)
    : machine_(machine), cpu_(cpu), vcpu_(vcpu), sink_(sink), options_(options), emu_(emu), control_(options.control) {
  tracing_ = options.level != TraceLevel::Off;
  ctx_.memory = &machine.memory();
  ctx_.sink = tracing_ ? &sink : nullptr;
  ctx_.vcpu = vcpu;
  ctx_.now_ns = &monotonic_ns;
  ctx_.stop_flag = &watchdog_;     // a device stops mid-drain when the wall-time watchdog fires
  deferred_.set_overflow(&sink_);  // a burst past its bound goes to the trace at once
  if (tracing_ && emu.vmx_model) {
    vmx::Profile profile = options.vmx_profile ? *options.vmx_profile : vmx::preset("kvm-default").value();
    model_ = std::make_unique<vmx::VmxModel>(std::move(profile), sink, vcpu);
    ctx_.sink = &deferred_;  // drained after each modelled exit
  }
}

Status EmuLoop::install_hooks() {
  uc_engine* uc = cpu_.uc();
  uc_hook h;
  // The PIT counts guest time from here on (docs/interrupts.md).
  machine_.pit().set_clock([this] { return guest_ns(); });
  auto check = [](uc_err err, const char* what) -> Status {
    if (err != UC_ERR_OK)
      return make_error(ErrorKind::Internal, trf("cannot add the {}: {}", what, uc_error_text(err)));
    return ok_status();
  };
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_in), this, 1, 0, UC_X86_INS_IN), "IN hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_out), this, 1, 0, UC_X86_INS_OUT),
            "OUT hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_syscall), this, 1, 0, UC_X86_INS_SYSCALL),
            "SYSCALL hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_intr), this, 1, 0), "interrupt hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&on_unmapped), this, 1, 0),
            "unmapped-memory hook"));
  bool per_insn = options_.level == TraceLevel::Full ||
                  (options_.level == TraceLevel::Exits && emu_.granularity == HookGranularity::Instruction);
  per_insn_ = per_insn;
  // RDMSR/WRMSR must fault on an MSR the CPU lacks: per instruction,
  // on_code sees them; otherwise the kernel's own are watched.
  if (!per_insn) TRY(watch_kernel_sensitive());
  if (model_) {
    TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_cpuid), this, 1, 0, UC_X86_INS_CPUID),
              "CPUID hook"));
    // Shadow paging's cost, modelled only where it exists: with EPT off,
    // a write hook on every guest store (the model says which land in a
    // page table). With EPT on nothing is added, and stores stay on
    // Unicorn's fast path.
    if (model_->track_page_tables(machine_.memory())) {
      ram_size_ = machine_.memory().size();
      TRY(check(uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&on_store), this, 1, 0),
                "page-table write hook"));
    }
  }
  if (per_insn)
    TRY(check(uc_hook_add(uc, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_code), this, 1, 0), "instruction hook"));
  // At every level: the block hook counts instructions (guest time) and is
  // where external interrupts are taken.
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&on_block), this, 1, 0), "block hook"));
  // Every physical address that is not RAM is MMIO, as under KVM: the bus
  // decides who (if anyone) answers.
  uint64_t ram = machine_.memory().size();
  if (ram < kMmioTop)
    TRY(check(uc_mmio_map(uc, ram, kMmioTop - ram, &on_mmio_read, this, &on_mmio_write, this), "MMIO window"));
  return ok_status();
}

void EmuLoop::request_stop() {
  watchdog_.store(true, std::memory_order_relaxed);
  uc_emu_stop(cpu_.uc());
}

void EmuLoop::stop_emulation(RunEndReason reason, std::string message) {
  stop_emulation(RunStop{reason, std::move(message)});
}

void EmuLoop::stop_emulation(RunStop stop) {
  if (!stopping_) {
    stopping_ = true;
    stop_result_ = RunResult{};
    stop_result_.end = stop.end;
    stop_result_.message = std::move(stop.message);
    stop_result_.guest_status = stop.guest_status;
  }
  uc_emu_stop(cpu_.uc());
}

void EmuLoop::join_smp(SmpSeat seat) {
  smp_ = std::move(seat);
  // Run control parks the one host thread: the boot CPU's checkpoints do
  // it for the machine (the others never run while it is parked).
  if (vcpu_ != 0) control_ = nullptr;
}

void EmuLoop::begin() {
  modes_.reset(machine_.boot());
  refresh_paging();
  cpl_ = cpu_.cpl();
  if (model_) model_->begin(monotonic_ns());
  // The tables the guest starts on (the VMM's boot tables, under the 64-bit
  // entry); with paging still off, the kernel's first MOV to CR3 names them.
  bool long_paging = (paging_.cr0 & (1ull << 31)) && (paging_.efer & (1ull << 10));
  if (model_ && model_->tracks_page_tables() && long_paging) model_->load_cr3(paging_.cr3);
  // No kick: the hooks reach a checkpoint at every block.
  if (control_) control_->attach(vcpu_, nullptr);
}

RunResult EmuLoop::run() {
  begin();
  while (turn(0) != TurnEnd::Ended) {
  }
  return finish(stop_result_);
}

TurnEnd EmuLoop::end_turn(RunResult result) {
  stopping_ = true;
  stop_result_ = std::move(result);
  return TurnEnd::Ended;
}

// One turn of this vCPU: the loop of one vCPU, until the run ends, or
// (several vCPUs) until it has run `quantum` instructions or halts.
TurnEnd EmuLoop::turn(uint64_t quantum) {
  auto fail = [&](RunEndReason reason, std::string message) {
    RunResult r;
    r.end = reason;
    r.message = std::move(message);
    return end_turn(std::move(r));
  };
  if (stopping_) return TurnEnd::Ended;
  turn_start_ = instructions();
  quantum_ = quantum;
  pause_seen_ = false;
  if (halted_) {
    // Several vCPUs: HLT waits across turns; an interrupt ends the wait.
    if (!wakes()) return TurnEnd::Halted;
    halted_ = false;
    if (!deliver_external(halt_rip_)) return TurnEnd::Ended;
  }
  for (;;) {
    if (controlled() && control_checkpoint()) return TurnEnd::Ended;
    if (watchdog_.load(std::memory_order_relaxed)) {
      RunStop stop = wall_time_stop(options_.limits);
      return fail(stop.end, std::move(stop.message));
    }
    if (quantum_ && (instructions() - turn_start_ >= quantum_ || pause_seen_)) return TurnEnd::Yield;
    pending_ = Pending::None;
    // An interrupt the block hook stopped for (or one already pending as
    // the loop comes back from an exception or HLT) is taken here, between
    // two instructions.
    irq_stop_ = false;
    quantum_stop_ = false;
    if (irq_pending() && interrupts_enabled()) {
      uint64_t at = cpu_.reg(UC_X86_REG_RIP);
      if (!shadow_ && !deliver_external(at)) return TurnEnd::Ended;
    }
    if (ring3_ && cpu_.cpl() == 3) {
      if (!run_ring3()) return TurnEnd::Ended;
      continue;
    }
    irq_look_ = true;  // the handler may change the mask or send an EOI: look at the first block
    irq_held_ = false;
    ring3_stop_ = false;
    uc_err err = uc_emu_start(cpu_.uc(), cpu_.reg(UC_X86_REG_RIP), kUntilNowhere, 0, 0);
    // The block hook stopped Unicorn before a block: the guest goes on
    // there, not where Unicorn last wrote RIP (UnicornCpu::resume_at_block).
    if (err == UC_ERR_OK && pending_ == Pending::None && !stopping_ && (quantum_stop_ || irq_stop_ || ring3_stop_))
      cpu_.resume_at_block(block_pc_);
    if (pending_ == Pending::Interrupt) handle_interrupt(pending_vector_, pending_rip_, pending_cr2_);
    if (pending_ == Pending::Syscall) handle_syscall(pending_rip_);
    if (pending_ == Pending::MsrFault) {
      // Undo the instruction if Unicorn ran it, then raise #GP(0) at it.
      cpu_.set_reg(UC_X86_REG_RAX, pending_rax_);
      cpu_.set_reg(UC_X86_REG_RDX, pending_rdx_);
      cpu_.set_reg(UC_X86_REG_RIP, pending_rip_);
      cancel_return_if_not_executed(pending_rip_);
      arch::InterruptRequest req;
      req.vector = arch::vec::kGP;
      req.return_rip = req.instruction_rip = pending_rip_;
      deliver(req);
    }
    if (stopping_) return TurnEnd::Ended;
    if (pending_ != Pending::None) continue;
    if (watchdog_.load(std::memory_order_relaxed)) continue;  // reported at the top
    if (irq_stop_ && err == UC_ERR_OK) continue;              // delivered at the top
    if (ring3_stop_ && err == UC_ERR_OK) continue;            // mode bt: ring 3 runs at the top
    if (quantum_stop_ && err == UC_ERR_OK) return TurnEnd::Yield;
    uint64_t rip = cpu_.reg(UC_X86_REG_RIP);
    if (err == UC_ERR_INSN_INVALID) {
      // Unicorn stops on an undefined opcode; the CPU raises #UD (vector 6).
      cancel_return_if_not_executed(rip);
      handle_interrupt(arch::vec::kUD, rip, 0);
      if (stopping_) return TurnEnd::Ended;
      continue;
    }
    if (err != UC_ERR_OK) {
      auto pa = translate(machine_.memory(), cpu_.paging(), rip);
      return fail(RunEndReason::InternalError,
                  fmt::format("the emulator stopped at rip {:#x} (physical {}): {}", rip,
                              pa ? fmt::format("{:#x}", *pa) : "unmapped", uc_error_text(err)));
    }
    // Unicorn stops at HLT by itself, in any ring (unicorn_quirks.h). The
    // CPU only lets ring 0 halt (SDM Vol. 2A, HLT: #GP(0) if CPL is not 0).
    quirks::HltStop hlt = quirks::hlt_stop(machine_.memory(), cpu_.paging(), rip, cpu_.cpl());
    if (hlt.at_hlt) {
      rip = hlt.rip;  // the HLT itself
      if (model_) {
        vmx::GuestAction a;
        a.kind = vmx::ActionKind::Hlt;
        a.rip = rip;
        a.cpl = cpu_.cpl();
        model(a);
      }
      if (cpu_.cpl() != 0) {
        cancel_return_if_not_executed(rip);
        arch::InterruptRequest req;
        req.vector = arch::vec::kGP;
        req.return_rip = req.instruction_rip = rip;
        if (!deliver(req)) return TurnEnd::Ended;
        continue;
      }
      if (smp_.clock) {
        // Several vCPUs: the others run while this one waits; the
        // scheduler gives it a turn again once an interrupt can wake it.
        cancel_return_if_not_executed(rip);
        halted_ = true;
        halted_for_good_ = !interrupts_enabled();
        halt_rip_ = rip + 1;
        cpu_.set_reg(UC_X86_REG_RIP, rip + 1);
        return TurnEnd::Halted;
      }
      // Ring 0: wait for an interrupt, as the CPU does; it returns to the
      // instruction after HLT.
      Wake wake = wait_for_interrupt();
      if (wake == Wake::Stopped) continue;  // reported at the top
      if (wake == Wake::Interrupt) {
        if (!deliver_external(rip + 1)) return TurnEnd::Ended;
        continue;
      }
      return fail(RunEndReason::Halted, halted_message(wake));
    }
    // Unicorn sometimes stops at a VMCALL without reporting its #UD
    // (unicorn_quirks.h); handle it the same way.
    if (handle_vmcall(rip)) continue;
    return fail(RunEndReason::InternalError, fmt::format("the emulator stopped at rip {:#x} for no known reason", rip));
  }
}

namespace {
// What the run control reads and feeds at a checkpoint (the emulation thread).
class EmuControlAccess final : public control::VcpuAccess {
 public:
  EmuControlAccess(UnicornCpu& cpu, std::function<void(std::string_view)> input, std::function<void(uint64_t)> balloon)
      : cpu_(cpu), input_(std::move(input)), balloon_(std::move(balloon)) {}
  std::optional<GuestRegs> regs() override { return cpu_.regs(); }
  void console_input(std::string_view bytes) override { input_(bytes); }
  void balloon_target(uint64_t target_bytes) override { balloon_(target_bytes); }

 private:
  UnicornCpu& cpu_;
  std::function<void(std::string_view)> input_;
  std::function<void(uint64_t)> balloon_;
};
}  // namespace

bool EmuLoop::control_checkpoint() {
  if (stopping_) return true;
  EmuControlAccess access(
      cpu_,
      [this](std::string_view bytes) {
        ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
        machine_.push_console_input(ctx_, bytes);
        if (tracing_ && !(model_ && model_->holding())) deferred_.drain(sink_);
      },
      [this](uint64_t target) {
        (void)machine_.set_balloon_target(ctx_, target);  // the control checked there is a balloon
        if (tracing_ && !(model_ && model_->holding())) deferred_.drain(sink_);
      });
  if (control_->checkpoint(vcpu_, access) == control::Verdict::Go) return false;
  stop_emulation(RunEndReason::Quit, control_->resetting()
                                         ? tr("system_reset: the machine boots again from its boot state")
                                         : tr("ended by QMP quit (the control socket)"));
  return true;
}

RunResult EmuLoop::finish(RunResult result) {
  result = finish_vcpu(std::move(result));
  machine_.finish_devices(ctx_);
  // The timer stops with the CPU: its clock must not outlive this loop.
  machine_.pit().set_clock([end = guest_ns()] { return end; });
  if (tracing_) emit_run_end(sink_, result, vcpu_, monotonic_ns());
  return result;
}

// What every vCPU records as the run ends: its counters, on its lane.
RunResult EmuLoop::finish_vcpu(RunResult result) {
  if (control_) control_->detach(vcpu_);
  result.exits = direct_exits_;  // nothing exits, except ring 3 run directly under KVM (mode bt)
  result.steps = steps_;
  if (result.end != RunEndReason::GuestExit) result.regs = cpu_.regs();  // every failure, halted for good too
  if (!tracing_) return result;
  if (model_) model_->flush();
  deferred_.drain(sink_);
  uint64_t t = monotonic_ns();
  if (model_) model_->finish(t);
  emit_counter(sink_, t, vcpu_, Source::Emulator, "instructions", instructions_.load());
  emit_counter(sink_, t, vcpu_, Source::Emulator, "device_accesses", io_.load());
  if (finish_counters_) finish_counters_(sink_, t);
  return result;
}

}  // namespace ringscope::emulation
