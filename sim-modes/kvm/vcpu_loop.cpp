// vcpu_loop.cpp — the KVM_RUN loop. Short on purpose: one switch on the
// exit, named handlers, and the recording of what happened.
#include "vcpu_loop.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "exit_classifier.h"
#include "kick.h"
#include "ringscope/control/run_control.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/halt_wait.h"
#include "ringscope/hypercalls.h"
#include "ringscope/i18n.h"
#include "ringscope/supervisor.h"

namespace ringscope::kvm {

namespace {
// Stats not worth an event at every exit: the ones the user-space exit
// itself explains, and bookkeeping that moves on every entry (FPU reloads,
// request flags, preemption). They are all still recorded once at the end.
// Everything else that moves between two user-space exits (emulated
// instructions, shadow page faults, injected interrupts, ...) is work KVM
// did in the kernel, and becomes a counter event.
bool skip_per_exit(const std::string& name) {
  static const char* const kSkip[] = {"exits",
                                      "io_exits",
                                      "mmio_exits",
                                      "halt_exits",
                                      "signal_exits",
                                      "request_irq_exits",
                                      "irq_window_exits",
                                      "fpu_reload",
                                      "req_event",
                                      "preemption_reported",
                                      "preemption_other",
                                      "l1d_flush",
                                      "guest_mode"};
  for (const char* s : kSkip)
    if (name == s) return true;
  return false;
}
}  // namespace

// The vCPU's registers for a device that needs them (DeviceContext::regs):
// read on first use from the synced registers (or KVM_GET_REGS), written
// back through kvm_dirty_regs (or KVM_SET_REGS), so the guest sees them
// when the `out` completes on the next KVM_RUN.
class KvmRegisters final : public VcpuRegisters {
 public:
  KvmRegisters(Vcpu& vcpu, uint8_t cpl) : vcpu_(vcpu), cpl_(cpl) {}
  uint64_t get(Gpr r) override { return load() ? *slot(r) : 0; }
  void set(Gpr r, uint64_t value) override {
    if (!load()) return;
    *slot(r) = value;
    dirty_ = true;
  }
  uint64_t rip() override { return load() ? regs_.rip : 0; }
  uint8_t cpl() override { return cpl_; }
  Source observed_by() const override { return Source::KvmExit; }
  Status commit() {
    if (!dirty_) return ok_status();
    dirty_ = false;
    if (!vcpu_.sync_regs()) return vcpu_.set_regs(regs_);
    vcpu_.run()->s.regs.regs = regs_;
    vcpu_.run()->kvm_dirty_regs |= KVM_SYNC_X86_REGS;  // applied on the next KVM_RUN
    return ok_status();
  }

 private:
  bool load() {
    if (!loaded_) {
      if (vcpu_.sync_regs())
        regs_ = vcpu_.run()->s.regs.regs, loaded_ = true;
      else
        loaded_ = vcpu_.get_regs(regs_).ok();
    }
    return loaded_;
  }
  uint64_t* slot(Gpr r) {
    switch (r) {
      case Gpr::Rax: return reinterpret_cast<uint64_t*>(&regs_.rax);
      case Gpr::Rbx: return reinterpret_cast<uint64_t*>(&regs_.rbx);
      case Gpr::Rcx: return reinterpret_cast<uint64_t*>(&regs_.rcx);
      case Gpr::Rdx: return reinterpret_cast<uint64_t*>(&regs_.rdx);
      case Gpr::Rsi: return reinterpret_cast<uint64_t*>(&regs_.rsi);
      case Gpr::Rdi: return reinterpret_cast<uint64_t*>(&regs_.rdi);
    }
    return reinterpret_cast<uint64_t*>(&regs_.rax);
  }
  Vcpu& vcpu_;
  uint8_t cpl_;
  struct kvm_regs regs_;  // filled by load() before any use
  bool loaded_ = false, dirty_ = false;
};

VcpuLoop::VcpuLoop(Machine& machine, Vcpu& vcpu, EventSink& sink, const RunOptions& options, uint32_t index)
    : machine_(machine), vcpu_(vcpu), sink_(sink), options_(options), index_(index), control_(options.control) {
  tracing_ = options.level != TraceLevel::Off;
  ctx_.memory = &machine.memory();
  ctx_.sink = tracing_ ? static_cast<EventSink*>(&deferred_) : nullptr;
  ctx_.stop_flag = &stop_requested_;
  deferred_.set_overflow(&sink_);  // a burst past its bound goes to the trace at once
  ctx_.vcpu = index;
  ctx_.now_ns = &monotonic_ns;
  if (tracing_) {
    auto st = VcpuStats::open(vcpu);
    if (st.ok()) {
      stats_ = std::move(st).value();
      stat_exits_ = stats_.index_of("exits");
      for (const auto& n : stats_.names()) skip_.push_back(skip_per_exit(n));
      stats_.sample(stats_prev_);
    }
  }
  if (options.level == TraceLevel::Full) stepper_ = std::make_unique<StepTracer>();
  // Nothing per exit needs RIP, CPL or the control registers when nothing
  // is recorded; a device that needs registers (the doorbell) reads them.
  if (!tracing_) vcpu.stop_syncing_regs();
}

CpuSnapshot VcpuLoop::snapshot(bool via_ioctl) const {
  CpuSnapshot c;
  auto r = vcpu_.regs(via_ioctl);
  if (!r.ok()) return c;
  const GuestRegs& g = r.value();
  c.rip = g.rip;
  c.rsp = g.rsp;
  c.rcx = g.rcx;
  c.rflags = g.rflags;
  c.cpl = g.cpl;
  c.paging = {g.cr0, g.cr3, g.cr4, g.efer};
  c.cr2 = g.cr2;
  c.long_mode = g.efer & (1ull << 10);
  struct kvm_sregs s {};
  bool have_sregs = true;
  if (vcpu_.sync_regs() && !via_ioctl)
    s = vcpu_.run()->s.regs.sregs;
  else
    have_sregs = vcpu_.get_sregs(s).ok();
  if (have_sregs) {
    c.idt_base = s.idt.base;
    c.idt_limit = s.idt.limit;
    c.long_mode = c.long_mode && s.cs.l;
  }
  // IA32_LSTAR: where SYSCALL goes.
  auto lstar = vcpu_.msr(0xc0000082);
  if (lstar.ok()) c.lstar = lstar.value();
  return c;
}

// One KVM_EXIT_IO may carry `count` elements (rep ins/outs). The count is
// the guest's (KVM passes on its RCX, in pieces), so it is bounded twice:
// by the data area KVM mapped (never read or write past it), and by the
// run's limits, checked before every element; a limit ends the exit early.
Status VcpuLoop::handle_io(const KvmExitInfo& info, Event& e) {
  struct kvm_run* run = vcpu_.run();
  uint8_t* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
  // The value is the first element's, filled in below.
  events::port_access(e, info.io_port, info.io_size, info.io_out ? Direction::Out : Direction::In, 0, info.io_count);
  uint64_t mapped = vcpu_.run_size() > run->io.data_offset ? vcpu_.run_size() - run->io.data_offset : 0;
  uint64_t count = info.io_size ? std::min<uint64_t>(info.io_count, mapped / info.io_size) : 0;
  // A single access may need the registers (the hypercall doorbell).
  KvmRegisters regs(vcpu_, e.cpl);
  if (info.io_count == 1) ctx_.regs = &regs;
  for (uint64_t i = 0; i < count && !ctx_.out_of_budget(); i++) {
    uint8_t* elem = data + uint64_t(i) * info.io_size;
    uint64_t value = 0;
    if (info.io_out) {
      std::memcpy(&value, elem, info.io_size);
      access_.add(machine_.bus().write(ctx_, AddressSpace::Pio, info.io_port, info.io_size, value, nullptr));
    } else {
      value = machine_.bus().read(ctx_, AddressSpace::Pio, info.io_port, info.io_size, nullptr);
      std::memcpy(elem, &value, info.io_size);
    }
    if (i == 0) e.value = value;
  }
  ctx_.regs = nullptr;
  return regs.commit();
}
void VcpuLoop::handle_mmio(Event& e) {
  struct kvm_run* run = vcpu_.run();
  uint8_t width = static_cast<uint8_t>(run->mmio.len);
  events::mmio_access(e, run->mmio.phys_addr, width, run->mmio.is_write ? Direction::Write : Direction::Read, 0);
  uint64_t value = 0;
  if (run->mmio.is_write) {
    std::memcpy(&value, run->mmio.data, width);
    access_.add(machine_.bus().write(ctx_, AddressSpace::Mmio, e.gpa, width, value, nullptr));
  } else {
    value = machine_.bus().read(ctx_, AddressSpace::Mmio, e.gpa, width, nullptr);
    std::memcpy(run->mmio.data, &value, width);
  }
  e.value = value;
}

// Interrupts from the machine's controllers (Machine::pending_irq: the PIC
// pair with the PIT on IRQ 0, and the virtio lines). With no in-kernel
// irqchip the VMM injects the vector itself, when the guest can take it
// (IF set, no interrupt shadow); otherwise it asks KVM for an exit as soon
// as the guest can (request_interrupt_window: an interrupt-window exit,
// VT-x basic reason 7). Only an injection that KVM accepted acknowledges
// the interrupt at its controller (the INTA cycle).
void VcpuLoop::inject_pending_irq() {
  struct kvm_run* run = vcpu_.run();
  std::optional<uint8_t> vector = machine_.pending_irq();
  if (!vector) {
    run->request_interrupt_window = 0;
    return;
  }
  if (!run->ready_for_interrupt_injection || !run->if_flag || pvm::hold_injection(stepper_.get())) {
    run->request_interrupt_window = 1;
    return;
  }
  if (!vcpu_.interrupt(*vector).ok()) {
    run->request_interrupt_window = 1;
    return;
  }
  uint8_t taken = machine_.acknowledge_irq();
  run->request_interrupt_window = 0;
  late_hlt_.injected(stepper_.get(), run->s.regs.regs.rip);
  if (!tracing_) return;
  Event i = events::irq_inject({monotonic_ns(), index_, Source::Vmm}, taken);
  sink_.emit(i);
}

// HLT (halt_wait.h), with the VMM's irqchip. One interrupt pending now is
// injected before the next KVM_RUN; otherwise the thread sleeps until the
// timer's next interrupt, in host time (a watchdog kick cuts the sleep
// short, and the wait looks again).
std::optional<RunResult> VcpuLoop::wait_for_interrupt() {
  Wake wake = ringscope::wait_for_interrupt(machine_, vcpu_.run()->if_flag, stop_requested_, [](uint64_t deadline) {
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(deadline / 1'000'000'000ull);
    ts.tv_nsec = static_cast<long>(deadline % 1'000'000'000ull);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // EINTR: the watchdog's kick
    return true;
  });
  if (wake == Wake::Interrupt || wake == Wake::Stopped) return std::nullopt;  // Stopped: the loop reports it
  return stop(RunEndReason::Halted, halted_message(wake), false);
}

// Exits KVM handled in the kernel since the last sample, and other stats
// that moved, become counter events. Reading the stats fd is a system call
// (~0.4 µs in a nested VM, as much as the rest of the tracing together), so
// it is sampled at a user-space exit once kStatsIntervalNs have passed, not
// at every one: a counter's value then covers the exits since the sample
// before, and KVM's own work is still placed in time to within that.
bool VcpuLoop::record_stats(uint64_t time_ns, uint64_t exits) {
  if (!stats_.available() || time_ns - stats_at_ns_ < kStatsIntervalNs || !stats_.sample(stats_now_)) return false;
  stats_at_ns_ = time_ns;
  const auto& names = stats_.names();
  for (size_t i = 0; i < stats_now_.size(); i++)
    if (stats_now_[i] != stats_prev_[i] && !skip_[i])
      emit_counter(sink_, time_ns, index_, Source::KvmStats, names[i], stats_now_[i]);
  if (account_kernel_exits(exits))
    emit_counter(sink_, time_ns, index_, Source::KvmStats, "kernel_exits", kernel_exits_);
  stats_prev_.swap(stats_now_);
  return true;
}

// The exits KVM counted since the last sample, less the ones the VMM saw
// (the user-space exits up to `exits`, and every single step): KVM handled
// the rest in the kernel. True if there were any.
bool VcpuLoop::account_kernel_exits(uint64_t exits) {
  if (stat_exits_ < 0) return false;
  uint64_t steps = stepper_ ? stepper_->steps() : 0;
  uint64_t seen = (exits - exits_at_sample_) + (steps - steps_at_sample_);
  steps_at_sample_ = steps;
  exits_at_sample_ = exits;
  uint64_t delta = stats_now_[stat_exits_] - stats_prev_[stat_exits_];
  if (delta <= seen) return false;
  kernel_exits_ += delta - seen;
  return true;
}

void VcpuLoop::record_mode_change(uint64_t time_ns) {
  if (!vcpu_.sync_regs()) return;
  const auto& s = vcpu_.run()->s.regs.sregs;
  modes_.observe(sink_, time_ns, index_, Source::KvmExit, s.cr0, s.cr4, s.efer, vcpu_.run()->s.regs.regs.rip);
}

// With KVM's in-kernel irqchip a hlt never reaches the VMM: KVM parks the
// vCPU itself (KVM_MP_STATE_HALTED) until an interrupt comes. Parked with
// IF clear, nothing ever comes; the watchdog is what ends the run, and
// this tells that apart from a guest that was busy.
bool VcpuLoop::halted_in_kernel() const {
  if (machine_.config().irqchip != IrqChip::Kernel) return false;
  auto parked = vcpu_.parked_in_hlt();
  if (!parked.ok() || !parked.value()) return false;
  auto regs = vcpu_.regs(/*via_ioctl=*/true);
  return regs.ok() && !(regs.value().rflags & (1u << 9));
}

// A vCPU parked by the in-kernel irqchip with IF clear is halted for good:
// the run ends now, as the VMM-irqchip loop ends it at the HLT exit. The
// watchdog's periodic kick (SupervisedLoop::check_period_ns) brings the
// loop here, so this takes a fraction of a second, not the wall-time limit.
std::optional<RunResult> VcpuLoop::halted_for_good() {
  if (!halted_in_kernel()) return std::nullopt;
  RunResult r = stop(RunEndReason::Halted,
                     "the guest executed hlt with interrupts off without reporting an exit status (nothing can "
                     "wake it; KVM's in-kernel irqchip had parked the vCPU)",
                     false);
  auto regs = vcpu_.regs(/*via_ioctl=*/true);
  if (regs.ok()) r.regs = regs.value();
  return r;
}

RunResult VcpuLoop::stop(RunStop s, bool with_regs) {
  RunResult r = stop(s.end, std::move(s.message), with_regs);
  r.guest_status = s.guest_status;
  return r;
}

RunResult VcpuLoop::stop(RunEndReason reason, std::string message, bool with_regs) {
  RunResult r;
  r.end = reason;
  r.message = std::move(message);
  if (with_regs) {
    auto regs = vcpu_.regs();
    if (regs.ok()) r.regs = regs.value();
  }
  return r;
}

// What the run control reads and feeds at a checkpoint, on this vCPU's thread.
class KvmControlAccess final : public control::VcpuAccess {
 public:
  KvmControlAccess(Vcpu& vcpu, std::function<void(std::string_view)> input, std::function<void(uint64_t)> balloon)
      : vcpu_(vcpu), input_(std::move(input)), balloon_(std::move(balloon)) {}
  std::optional<GuestRegs> regs() override {
    auto r = vcpu_.regs(/*via_ioctl=*/true);
    if (!r.ok()) return std::nullopt;
    return r.value();
  }
  void console_input(std::string_view bytes) override { input_(bytes); }
  void balloon_target(uint64_t target_bytes) override { balloon_(target_bytes); }

 private:
  Vcpu& vcpu_;
  std::function<void(std::string_view)> input_;
  std::function<void(uint64_t)> balloon_;
};

void VcpuLoop::console_input(std::string_view bytes) {
  std::unique_lock<std::mutex> devices;
  if (bus_lock_) devices = std::unique_lock<std::mutex>(*bus_lock_);
  ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  machine_.push_console_input(ctx_, bytes);
  if (tracing_) deferred_.drain(sink_);
}

void VcpuLoop::balloon_target(uint64_t target_bytes) {
  std::unique_lock<std::mutex> devices;
  if (bus_lock_) devices = std::unique_lock<std::mutex>(*bus_lock_);
  (void)machine_.set_balloon_target(ctx_, target_bytes);  // the control checked there is a balloon
  if (tracing_) deferred_.drain(sink_);
}

// The run control's checkpoint: between two exits, with every event of
// the last one recorded. Parks here while the guest is paused.
std::optional<RunResult> VcpuLoop::checkpoint() {
  KvmControlAccess access(
      vcpu_, [this](std::string_view b) { console_input(b); }, [this](uint64_t target) { balloon_target(target); });
  if (control_->checkpoint(index_, access) == control::Verdict::Go) return std::nullopt;
  bool reset = control_->resetting();
  return stop(RunEndReason::Quit,
              reset ? tr("system_reset: the machine boots again from its boot state")
                    : tr("ended by QMP quit (the control socket)"),
              true);
}

RunResult VcpuLoop::run() {
  // vCPU 0 starts in the boot state; another starts as a CPU comes out of
  // reset, in real mode (CR0 = 0x60000010: CD, NW, ET), when its SIPI comes.
  BootState reset_state;
  reset_state.cr0 = 0x60000010;
  modes_.reset(index_ == 0 ? machine_.boot() : reset_state);
  if (stepper_) {
    auto st = vcpu_.set_single_step(true);
    if (!st.ok()) return stop(RunEndReason::VmmError, st.error().message, false);
    stepper_->observe(snapshot(/*via_ioctl=*/true), monotonic_ns(), machine_.memory(), sink_, false);
  }
  // Run control: another thread may stop this vCPU, even inside KVM_RUN.
  if (control_) control_->attach(index_, [run = vcpu_.run(), thread = pthread_self()] { kick_vcpu(run, thread); });
  std::optional<RunResult> result;
  while (!result) {
    if (control_ && control_->wanted() && (result = checkpoint())) break;
    if (device_limit_) {
      if (auto limit = device_limit_()) {
        result = stop(*limit, limit_inside_exit_message(*limit, options_.limits), true);
        break;
      }
    }
    if (stop_requested_.load(std::memory_order_relaxed)) {
      result = halted_for_good();
      if (!result) result = stop(wall_time_stop(options_.limits), true);
      break;
    }
    inject_pending_irq();
    Result<Entry> entry = vcpu_.enter();
    uint64_t t_exit = monotonic_ns();
    if (!entry.ok()) {
      result = stop(RunEndReason::VmmError, entry.error().message, true);
      break;
    }
    if (entry.value() == Entry::Interrupted) {
      result = halted_for_good();
      continue;  // the watchdog's signal; the check above decides
    }
    KvmExitInfo info = exit_info_from(*vcpu_.run());
    ExitDecision d = classify_exit(info);
    result = d.action == ExitAction::Step ? on_step(t_exit) : on_exit(info, d, t_exit);
  }
  if (control_) control_->detach(index_);
  if (stepper_) (void)vcpu_.set_single_step(false);
  result->exits = exits_.load();
  result->steps = stepper_ ? stepper_->steps() : 0;
  finish(*result, monotonic_ns());
  return *result;
}

// A single-step trap (trace level full): not an exit the guest caused.
std::optional<RunResult> VcpuLoop::on_step(uint64_t t_exit) {
  if (!stepper_) return std::nullopt;
  stepper_->observe(snapshot(), t_exit, machine_.memory(), sink_, other_exit_since_step_);
  late_hlt_.stepped(*stepper_);
  other_exit_since_step_ = false;
  steps_.store(stepper_->steps(), std::memory_order_relaxed);
  if (auto s = check_steps(stepper_->steps(), options_.limits)) return stop(std::move(*s), true);
  return std::nullopt;
}

// An exit the guest caused: record it, hand it to its handler, then check
// whether the run is over.
std::optional<RunResult> VcpuLoop::on_exit(const KvmExitInfo& info, const ExitDecision& d, uint64_t t_exit) {
  uint64_t n = exits_.fetch_add(1, std::memory_order_relaxed) + 1;
  other_exit_since_step_ = true;
  Event e = events::vm_exit({t_exit, index_, Source::KvmExit}, d.vtx_reason, HandledBy::Vmm);
  if (vcpu_.sync_regs()) {
    e.rip = vcpu_.run()->s.regs.regs.rip;
    e.cpl = cpl_of(vcpu_.run()->s.regs.sregs);
  }
  // The handling starts now: at the exit itself, unless reading the stats
  // fd took time first (that is tracing's cost, not the exit's).
  uint64_t t_handle = t_exit;
  if (tracing_) {
    if (record_stats(t_exit, n)) t_handle = monotonic_ns();
    record_mode_change(t_exit);
  }
  std::optional<RunResult> end;
  {
    // Several vCPUs: one at a time on the devices (a HLT never reaches this
    // loop then: they run with KVM's in-kernel irqchip).
    std::unique_lock<std::mutex> devices;
    if (bus_lock_) devices = std::unique_lock<std::mutex>(*bus_lock_);
    ctx_.exit_time_ns = t_exit;
    ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
    access_ = {};
    end = dispatch(info, d, e);
    ctx_.exit_time_ns = 0;
    // Then the guest's own exit and the run's limits (run_limits.h).
    if (!end) {
      if (auto s = check_after_exit(ctx_.access_result(access_), ExitCount::kvm(n), machine_.console_bytes(),
                                    options_.limits)) {
        bool with_regs = s->end != RunEndReason::GuestExit;
        end = stop(std::move(*s), with_regs);
      }
    }
  }
  if (tracing_) {
    e.duration_ns = monotonic_ns() - t_handle;
    sink_.emit(e);
    deferred_.drain(sink_);
  }
  return end;
}

// The one switch on the exit: each case hands off to a named handler.
std::optional<RunResult> VcpuLoop::dispatch(const KvmExitInfo& info, const ExitDecision& d, Event& e) {
  switch (d.action) {
    case ExitAction::PortIo: {
      Status st = handle_io(info, e);
      if (!st.ok()) return stop(RunEndReason::VmmError, st.error().message, true);
      return std::nullopt;
    }
    case ExitAction::Mmio: handle_mmio(e); return std::nullopt;
    case ExitAction::Halt:
      if (late_hlt_.stale(e.rip)) return std::nullopt;  // pvm_quirks.h: that HLT has already ended
      return wait_for_interrupt();
    case ExitAction::Continue: return std::nullopt;
    case ExitAction::Stop:
    case ExitAction::Step: {
      RunResult r =
          stop(d.end, fmt::format("{} ({}) at rip {:#x}", d.what, kvm_exit_name(info.kvm_reason), e.rip), true);
      if (info.kvm_reason == KVM_EXIT_INTERNAL_ERROR) r.message += fmt::format(", suberror {}", info.internal_suberror);
      if (info.kvm_reason == KVM_EXIT_FAIL_ENTRY)
        r.message += fmt::format(", hardware reason {:#x}", info.fail_entry_reason);
      return r;
    }
  }
  return std::nullopt;
}

// Flush devices, record the final stats and how the run ended.
void VcpuLoop::finish(RunResult& result, uint64_t time_ns) {
  if (quiesce_) quiesce_();
  if (ends_run_) machine_.finish_devices(ctx_);
  if (!tracing_) return;
  deferred_.drain(sink_);
  if (stats_.available() && stats_.sample(stats_now_)) {
    account_kernel_exits(exits_.load());
    emit_counter(sink_, time_ns, index_, Source::KvmStats, "kernel_exits", kernel_exits_);
    const auto& names = stats_.names();
    for (size_t i = 0; i < stats_now_.size(); i++)
      if (stats_now_[i] != 0) emit_counter(sink_, time_ns, index_, Source::KvmStats, names[i], stats_now_[i]);
  }
  if (ends_run_)
    emit_run_end(sink_, result, index_, time_ns);
  else
    emit_host_counters(sink_, index_, time_ns);
}

}  // namespace ringscope::kvm
