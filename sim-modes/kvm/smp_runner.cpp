// smp_runner.cpp — one host thread per vCPU (smp_runner.h).
#include "smp_runner.h"

#include <fmt/format.h>
#include <pthread.h>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "kick.h"
#include "ringscope/control/run_control.h"
#include "ringscope/supervisor.h"
#include "ringscope/trace.h"
#include "vcpu_loop.h"

namespace ringscope::kvm {

namespace {

constexpr uint64_t kHaltCheckNs = 50'000'000;  // as kvm_backend.cpp: a parked vCPU is seen promptly

// A sink that is not safe from several threads (a test's RecordingSink)
// gets one lock in front of it; the trace writer orders events from several
// threads itself (trace.h), with a short spin lock.
class LockedSink final : public EventSink {
 public:
  explicit LockedSink(EventSink& inner) : inner_(inner) {}
  void emit(Event& e) override {
    std::lock_guard<std::mutex> g(mu_);
    inner_.emit(e);
  }

 private:
  EventSink& inner_;
  std::mutex mu_;
};

// The vCPU threads, as the watchdog sees them: which still run (a thread
// that has ended is never signalled), and which loop ended the run.
class Group {
 public:
  explicit Group(size_t n) : handles_(n), alive_(n, false), done_(n, false), live_(n) {}

  void started(size_t i, std::thread::native_handle_type h) {
    std::lock_guard<std::mutex> g(mu_);
    handles_[i] = h;
    alive_[i] = !done_[i];  // a loop may end before its thread is registered
  }
  // Loop i returned `r`. It ends the run unless another already has, or it
  // merely halted for good while other vCPUs still run. True: it did, and
  // the others are to be stopped.
  bool ended(size_t i, const RunResult& r) {
    std::lock_guard<std::mutex> g(mu_);
    alive_[i] = false;
    done_[i] = true;
    live_--;
    if (winner_) return false;
    if (r.end == RunEndReason::Halted && live_ > 0) return false;
    winner_ = i;
    result_ = r;
    return true;
  }
  // Calls f(i, thread) for every vCPU thread still running.
  template <typename F>
  void for_each_alive(F f) {
    std::lock_guard<std::mutex> g(mu_);
    for (size_t i = 0; i < handles_.size(); i++)
      if (alive_[i]) f(i, handles_[i]);
  }
  std::optional<size_t> winner() const { return winner_; }
  const RunResult& result() const { return result_; }

 private:
  std::mutex mu_;
  std::vector<std::thread::native_handle_type> handles_;
  std::vector<bool> alive_, done_;
  size_t live_;
  std::optional<size_t> winner_;
  RunResult result_;
};

}  // namespace

std::string vcpu_thread_name(uint32_t index) { return fmt::format("vcpu{}", index); }

Result<RunResult> run_vcpus(Vm& vm, Machine& machine, EventSink& sink, const RunOptions& options) {
  const size_t n = static_cast<size_t>(machine.config().vcpus);
  std::unique_ptr<LockedSink> locked;
  EventSink* out = &sink;
  if (!dynamic_cast<TraceWriter*>(&sink)) {
    locked = std::make_unique<LockedSink>(sink);
    out = locked.get();
  }
  std::vector<std::unique_ptr<Vcpu>> vcpus;
  for (size_t i = 0; i < n; i++) {
    TRY_ASSIGN(auto v, vm.create_vcpu(static_cast<uint32_t>(i)));
    vcpus.push_back(std::move(v));
  }
  // Only the boot CPU gets the boot state; the APs wait for their SIPI.
  TRY(vcpus[0]->apply_boot_state(machine.boot()));

  std::mutex bus_lock;
  std::vector<std::unique_ptr<VcpuLoop>> loops;
  for (size_t i = 0; i < n; i++) {
    loops.push_back(std::make_unique<VcpuLoop>(machine, *vcpus[i], *out, options, static_cast<uint32_t>(i)));
    loops.back()->join_group(&bus_lock);
  }
  Group group(n);
  auto kick_all = [&](bool stop) {
    group.for_each_alive([&](size_t i, std::thread::native_handle_type t) {
      if (stop) loops[i]->request_stop();
      kick_vcpu(vcpus[i]->run(), t);
    });
  };

  SupervisedLoop supervised;
  supervised.run = [&] {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; i++) {
      threads.emplace_back([&, i] {
        auto thread = machine.vcpu_threads().enter(static_cast<uint32_t>(i));  // named vcpuN
        accept_kicks();
        RunResult r = loops[i]->run();
        // The first loop to end the run stops the others (parked ones too).
        if (group.ended(i, r)) {
          if (options.control) options.control->release_all();
          group.for_each_alive([&](size_t j, std::thread::native_handle_type t) {
            loops[j]->request_stop();
            kick_vcpu(vcpus[j]->run(), t);
          });
        }
      });
      group.started(i, threads.back().native_handle());
    }
    for (auto& t : threads) t.join();
    size_t w = group.winner().value_or(0);
    RunResult r = group.result();
    r.exits = 0;
    r.steps = 0;
    for (const auto& l : loops) r.exits += l->exits(), r.steps += l->steps();
    loops[w]->finish_devices();
    emit_run_end_event(*out, r, static_cast<uint32_t>(w), monotonic_ns());
    return r;
  };
  supervised.stop = [&](std::thread::native_handle_type) { kick_all(true); };
  supervised.kick = [&](std::thread::native_handle_type) { kick_all(false); };
  supervised.progress = [&] {
    uint64_t exits = 0;
    for (const auto& l : loops) exits += l->exits();
    return fmt::format("{} vCPUs, {} exits", n, exits);
  };
  supervised.check_period_ns = kHaltCheckNs;
  supervised.sink = out;
  return supervise(machine, options, supervised);
}

}  // namespace ringscope::kvm
