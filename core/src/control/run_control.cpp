// run_control.cpp — RunControl (run_control.h): the pause / step / quit
// state shared by the vCPU threads and the controlling thread.
#include "ringscope/control/run_control.h"

#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "ringscope/i18n.h"
#include "ringscope/trace.h"

namespace ringscope::control {

namespace {
uint64_t unix_now_ns() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return uint64_t(tv.tv_sec) * 1'000'000'000ull + uint64_t(tv.tv_usec) * 1000;
}
Error ended_error() { return make_error(ErrorKind::Usage, tr("the run has ended; nothing is left to control")); }
}  // namespace

std::string_view run_status_name(RunStatus s) {
  switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Paused: return "paused";
    case RunStatus::Debug: return "debug";
    case RunStatus::Shutdown: return "shutdown";
  }
  return "running";
}

std::string_view pause_cause_name(PauseCause c) {
  switch (c) {
    case PauseCause::User: return "stop";
    case PauseCause::Start: return "start";
    case PauseCause::StepExit: return "step-exit";
    case PauseCause::StepInstruction: return "step-instruction";
    case PauseCause::Breakpoint: return "breakpoint";
  }
  return "stop";
}

RunControl::RunControl(size_t ring_capacity) : ring_(ring_capacity) {
  notify_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

RunControl::~RunControl() {
  if (notify_fd_ >= 0) ::close(notify_fd_);
}

// ---- the backend's side ------------------------------------------------------

void RunControl::attach(uint32_t vcpu, std::function<void()> kick) {
  std::lock_guard<std::mutex> g(mu_);
  Vcpu& v = vcpus_[vcpu];
  v.kick = std::move(kick);
  v.thread = std::this_thread::get_id();
  v.tid = static_cast<int64_t>(gettid());
  v.parked = false;
  v.regs.reset();
}

void RunControl::detach(uint32_t vcpu) {
  std::lock_guard<std::mutex> g(mu_);
  vcpus_.erase(vcpu);
  complete_pause_if_parked_locked();  // it may have been the last one running
}

void RunControl::release_all() {
  std::lock_guard<std::mutex> g(mu_);
  released_ = true;
  cv_.notify_all();
}

Verdict RunControl::checkpoint(uint32_t vcpu, VcpuAccess& access) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = vcpus_.find(vcpu);
  if (it == vcpus_.end()) return Verdict::Go;  // not attached: nothing to park
  for (;;) {
    if (quit_ || reset_) return Verdict::Quit;
    if (released_) return Verdict::Go;
    if (status_ == RunStatus::Running || status_ == RunStatus::Shutdown) {
      if (balloon_target_) {
        uint64_t target = *balloon_target_;
        balloon_target_.reset();
        update_wanted_locked();
        lock.unlock();
        access.balloon_target(target);  // on this vCPU's thread, where devices run
        lock.lock();
        continue;
      }
      if (!input_.empty()) {
        std::string in;
        in.swap(input_);
        update_wanted_locked();
        lock.unlock();
        access.console_input(in);  // on this vCPU's thread, where devices run
        lock.lock();
        continue;  // a pause may have come meanwhile
      }
      return Verdict::Go;
    }
    // Paused, or about to be: read the registers, then park.
    lock.unlock();
    std::optional<GuestRegs> regs = access.regs();
    lock.lock();
    it = vcpus_.find(vcpu);
    if (it == vcpus_.end()) return Verdict::Go;
    it->second.regs = regs;
    it->second.parked = true;
    complete_pause_if_parked_locked();
    cv_.wait(lock, [&] { return quit_ || reset_ || released_ || status_ == RunStatus::Running; });
    it = vcpus_.find(vcpu);
    if (it == vcpus_.end()) return Verdict::Go;
    it->second.parked = false;
    it->second.regs.reset();
  }
}

void RunControl::observe(const Event& e) {
  std::lock_guard<std::mutex> g(mu_);
  if (status_ != RunStatus::Running || quit_ || reset_) return;
  if ((step_ == Step::Exit && e.kind == EventKind::VmExit) ||
      (step_ == Step::Instruction && e.kind == EventKind::Step)) {
    PauseCause cause = step_ == Step::Exit ? PauseCause::StepExit : PauseCause::StepInstruction;
    step_ = Step::None;
    begin_pause_locked(cause, std::nullopt, event_to_json(e));
    return;
  }
  for (const Breakpoint& b : breaks_) {
    if (b.filter.matches(e)) {
      begin_pause_locked(PauseCause::Breakpoint, b.id, event_to_json(e));
      return;
    }
  }
}

bool RunControl::resetting() const {
  std::lock_guard<std::mutex> g(mu_);
  return reset_ && !quit_;
}

// ---- the session's side ------------------------------------------------------

void RunControl::run_starting() {
  std::lock_guard<std::mutex> g(mu_);
  vcpus_.clear();
  released_ = false;
  in_run_ = true;
  // Paused before a reset: the new run parks at its first checkpoint; the
  // pause was announced already.
  if (status_ == RunStatus::Paused || status_ == RunStatus::Debug) pausing_ = true, announce_ = false;
  update_wanted_locked();
}

bool RunControl::run_ended(const RunResult& result) {
  std::lock_guard<std::mutex> g(mu_);
  vcpus_.clear();
  if (reset_ && !quit_) {  // another run follows: still in a run
    reset_ = false;
    Notice n{Notice::Type::Reset};
    notify_locked(std::move(n));
    update_wanted_locked();
    return true;
  }
  if (status_ == RunStatus::Paused || status_ == RunStatus::Debug) paused_total_ += monotonic_ns() - paused_since_;
  ended_ = true;
  in_run_ = false;
  status_ = RunStatus::Shutdown;
  pausing_ = false;
  Notice n{Notice::Type::Shutdown};
  n.guest = !quit_;
  n.reason = quit_                                     ? "host-qmp-quit"
             : result.end == RunEndReason::GuestExit   ? "guest-shutdown"
             : result.end == RunEndReason::TripleFault ? "guest-reset"
                                                       : "host-error";
  notify_locked(std::move(n));
  update_wanted_locked();
  cv_.notify_all();
  return false;
}

uint64_t RunControl::paused_ns() const {
  std::lock_guard<std::mutex> g(mu_);
  bool paused = status_ == RunStatus::Paused || status_ == RunStatus::Debug;
  return paused_total_ + (paused ? monotonic_ns() - paused_since_ : 0);
}

// ---- the controlling side ----------------------------------------------------

Status RunControl::pause(PauseCause cause) {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ended_error();
  if (status_ != RunStatus::Running) return ok_status();  // already paused: as QEMU's stop
  step_ = Step::None;
  begin_pause_locked(cause, std::nullopt, {});
  return ok_status();
}

Status RunControl::resume() {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ended_error();
  if (status_ == RunStatus::Running) return ok_status();  // as QEMU's cont on a running guest
  resume_locked();
  return ok_status();
}

Status RunControl::step_exit() {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ended_error();
  step_ = Step::Exit;
  update_armed_locked();
  if (status_ != RunStatus::Running) resume_locked();
  return ok_status();
}

Status RunControl::step_instruction() {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ended_error();
  if (!full_level_)
    return make_error(ErrorKind::Usage,
                      tr("stepping one instruction needs trace level full: run with --level full (it single-steps "
                         "the guest); step one exit instead with __org.ringscope_step-exit"));
  step_ = Step::Instruction;
  update_armed_locked();
  if (status_ != RunStatus::Running) resume_locked();
  return ok_status();
}

Status RunControl::quit() {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ok_status();
  quit_ = true;
  update_wanted_locked();
  cv_.notify_all();
  for (auto& [i, v] : vcpus_)
    if (v.kick && !v.parked) v.kick();
  return ok_status();
}

Status RunControl::reset() {
  std::lock_guard<std::mutex> g(mu_);
  if (ended_) return ended_error();
  reset_ = true;
  update_wanted_locked();
  cv_.notify_all();
  for (auto& [i, v] : vcpus_)
    if (v.kick && !v.parked) v.kick();
  return ok_status();
}

Result<uint32_t> RunControl::add_breakpoint(EventFilter filter, std::string spec) {
  std::lock_guard<std::mutex> g(mu_);
  if (breaks_.size() >= kMaxBreakpoints)
    return make_error(ErrorKind::Usage, trf("at most {} breakpoints; remove one first", kMaxBreakpoints));
  uint32_t id = next_break_++;
  breaks_.push_back({id, std::move(filter), std::move(spec)});
  update_armed_locked();
  return id;
}

Status RunControl::remove_breakpoint(uint32_t id) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto it = breaks_.begin(); it != breaks_.end(); ++it) {
    if (it->id == id) {
      breaks_.erase(it);
      update_armed_locked();
      return ok_status();
    }
  }
  return make_error(ErrorKind::Usage, trf("no breakpoint {}; __org.ringscope_query-breaks lists them", id));
}

std::vector<Breakpoint> RunControl::breakpoints() const {
  std::lock_guard<std::mutex> g(mu_);
  return breaks_;
}

void RunControl::console_write(std::string_view bytes) {
  std::lock_guard<std::mutex> g(mu_);
  if (input_.size() + bytes.size() > kMaxPendingInput) bytes = bytes.substr(0, kMaxPendingInput - input_.size());
  input_.append(bytes);
  update_wanted_locked();
  // A vCPU halted inside KVM_RUN comes to its checkpoint to take the input.
  if (status_ == RunStatus::Running) kick_others_locked();
}

void RunControl::set_balloon(const VirtioBalloon* balloon, uint64_t ram_bytes) {
  std::lock_guard<std::mutex> g(mu_);
  balloon_ = balloon;
  balloon_ram_ = ram_bytes;
  balloon_target_.reset();
  update_wanted_locked();
}

Status RunControl::balloon(uint64_t target_bytes) {
  std::lock_guard<std::mutex> g(mu_);
  if (!balloon_) return make_error(ErrorKind::Usage, tr("No balloon device has been activated (run --balloon)"));
  balloon_target_ = target_bytes;
  update_wanted_locked();
  // A vCPU halted inside KVM_RUN comes to its checkpoint to hand it over.
  if (status_ == RunStatus::Running) kick_others_locked();
  return ok_status();
}

std::optional<uint64_t> RunControl::balloon_actual_bytes() const {
  std::lock_guard<std::mutex> g(mu_);
  if (!balloon_) return std::nullopt;
  uint64_t held = uint64_t(balloon_->actual_pages()) * VirtioBalloon::kPageSize;
  return held < balloon_ram_ ? balloon_ram_ - held : 0;
}

RunStatus RunControl::status() const {
  std::lock_guard<std::mutex> g(mu_);
  return status_;
}

bool RunControl::pause_complete() const {
  std::lock_guard<std::mutex> g(mu_);
  return (status_ == RunStatus::Paused || status_ == RunStatus::Debug) && !pausing_;
}

Result<GuestRegs> RunControl::registers(uint32_t vcpu) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = vcpus_.find(vcpu);
  if (it == vcpus_.end())
    return make_error(ErrorKind::Usage, trf("no vCPU {} is running; query-cpus-fast lists them", vcpu));
  if (!it->second.parked || !it->second.regs)
    return make_error(ErrorKind::Usage,
                      tr("the registers are read while the guest is paused; send stop (or a step) first"));
  return *it->second.regs;
}

std::vector<RunControl::VcpuInfo> RunControl::vcpus() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<VcpuInfo> out;
  for (const auto& [i, v] : vcpus_) out.push_back({i, v.tid});
  return out;
}

std::deque<Notice> RunControl::take_notices() {
  std::lock_guard<std::mutex> g(mu_);
  uint64_t drained;
  if (notify_fd_ >= 0) (void)::read(notify_fd_, &drained, sizeof drained);
  std::deque<Notice> out;
  out.swap(notices_);
  return out;
}

// ---- internals (mu_ held) ------------------------------------------------------

void RunControl::begin_pause_locked(PauseCause cause, std::optional<uint32_t> bp, std::string event_json) {
  status_ = cause == PauseCause::User || cause == PauseCause::Start ? RunStatus::Paused : RunStatus::Debug;
  pausing_ = true;
  announce_ = cause != PauseCause::Start;  // --qmp-wait: QEMU's -S sends no STOP either
  cause_ = cause;
  cause_bp_ = bp;
  cause_event_ = std::move(event_json);
  paused_since_ = monotonic_ns();
  update_wanted_locked();
  kick_others_locked();
  complete_pause_if_parked_locked();
}

void RunControl::complete_pause_if_parked_locked() {
  if (!pausing_) return;
  // A run whose vCPUs have not started yet is not paused yet: they park at
  // their first checkpoint (--qmp-wait), and then it is.
  if (in_run_ && vcpus_.empty()) return;
  for (const auto& [i, v] : vcpus_)
    if (!v.parked) return;
  pausing_ = false;
  // Nobody emits now: the file on disk gets every event so far.
  if (flush_) flush_();
  Notice stop{Notice::Type::Stop};
  stop.cause = cause_;
  stop.announce = announce_;
  notify_locked(std::move(stop));
  if (announce_ && cause_ != PauseCause::User && cause_ != PauseCause::Start) {
    Notice b{Notice::Type::Break};
    b.cause = cause_;
    b.breakpoint = cause_bp_;
    b.event_json = cause_event_;
    notify_locked(std::move(b));
  }
}

void RunControl::resume_locked() {
  paused_total_ += monotonic_ns() - paused_since_;
  status_ = RunStatus::Running;
  pausing_ = false;
  update_wanted_locked();
  notify_locked(Notice{Notice::Type::Resume});
  cv_.notify_all();
}

// Every vCPU but the caller's (a vCPU pausing the guest from its own event
// reaches its checkpoint by itself; a kick would only cost it a spurious
// KVM_RUN return).
void RunControl::kick_others_locked() {
  for (auto& [i, v] : vcpus_)
    if (v.kick && !v.parked && v.thread != std::this_thread::get_id()) v.kick();
}

void RunControl::notify_locked(Notice n) {
  n.unix_ns = unix_now_ns();
  notices_.push_back(std::move(n));
  uint64_t one = 1;
  if (notify_fd_ >= 0) (void)::write(notify_fd_, &one, sizeof one);
}

void RunControl::update_wanted_locked() {
  bool paused = status_ == RunStatus::Paused || status_ == RunStatus::Debug;
  wanted_.store(paused || quit_ || reset_ || !input_.empty() || balloon_target_.has_value(), std::memory_order_relaxed);
}

void RunControl::update_armed_locked() {
  if (step_ != Step::None || !breaks_.empty())
    hooks_.fetch_or(kArmed, std::memory_order_relaxed);
  else
    hooks_.fetch_and(~kArmed, std::memory_order_relaxed);
}

}  // namespace ringscope::control
