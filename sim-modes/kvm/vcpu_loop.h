// vcpu_loop.h — one vCPU's run loop: KVM_RUN, then hand the exit to a named
// handler, record it, repeat (kvmtool's kvm_cpu__start, in C++).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "kvm_vm.h"
#include "pvm_quirks.h"
#include "ringscope/backend.h"
#include "ringscope/deferred_sink.h"
#include "ringscope/mode_tracker.h"
#include "ringscope/run_limits.h"
#include "stats_fd.h"
#include "step_tracer.h"

namespace ringscope::kvm {

struct KvmExitInfo;
struct ExitDecision;

class VcpuLoop {
 public:
  VcpuLoop(Machine& machine, Vcpu& vcpu, EventSink& sink, const RunOptions& options, uint32_t index);
  // Runs until the guest exits, fails, or a limit trips. Thread: the vCPU's.
  RunResult run();
  // Asks the loop to stop (from the watchdog thread).
  void request_stop() { stop_requested_.store(true, std::memory_order_relaxed); }
  uint64_t exits() const { return exits_.load(std::memory_order_relaxed); }
  uint64_t steps() const { return steps_.load(std::memory_order_relaxed); }

  // One of several vCPUs (smp_runner.h). Device access from every vCPU
  // thread goes through `bus_lock`; the loop records its own counters at
  // its end but not the run's end (one run_end per run, from the runner),
  // and leaves the devices' final flush to finish_devices().
  void join_group(std::mutex* bus_lock) {
    bus_lock_ = bus_lock;
    ends_run_ = false;
  }
  // Lets every device flush what it buffers. Call once, after every vCPU
  // thread of the group has ended.
  void finish_devices() { machine_.finish_devices(ctx_); }

  // Offloaded I/O (io_offload.h): a device thread shares the devices, so
  // every exit takes `bus_lock`; a limit the device thread runs into ends
  // the run (checked between exits); `quiesce` stops the device thread
  // before the devices are finished.
  void share_devices(std::mutex* bus_lock, std::function<std::optional<RunEndReason>()> device_limit,
                     std::function<void()> quiesce) {
    bus_lock_ = bus_lock;
    device_limit_ = std::move(device_limit);
    quiesce_ = std::move(quiesce);
  }

 private:
  Status handle_io(const KvmExitInfo& info, Event& exit_event);
  void handle_mmio(Event& exit_event);
  void inject_pending_irq();
  std::optional<RunResult> wait_for_interrupt();
  bool halted_in_kernel() const;
  std::optional<RunResult> halted_for_good();
  bool record_stats(uint64_t time_ns, uint64_t exits);  // true: it read the stats fd
  bool account_kernel_exits(uint64_t exits);
  void record_mode_change(uint64_t time_ns);
  CpuSnapshot snapshot(bool via_ioctl = false) const;
  void finish(RunResult& result, uint64_t time_ns);
  RunResult stop(RunEndReason reason, std::string message, bool with_regs);
  RunResult stop(RunStop stop, bool with_regs);
  std::optional<RunResult> on_step(uint64_t t_exit);
  std::optional<RunResult> on_exit(const KvmExitInfo& info, const ExitDecision& d, uint64_t t_exit);
  std::optional<RunResult> dispatch(const KvmExitInfo& info, const ExitDecision& d, Event& exit_event);
  std::optional<RunResult> checkpoint();  // run control (control/run_control.h); a result ends the run
  void console_input(std::string_view bytes);
  void balloon_target(uint64_t target_bytes);  // QMP balloon, at a checkpoint

  Machine& machine_;
  Vcpu& vcpu_;
  EventSink& sink_;
  RunOptions options_;
  uint32_t index_;
  bool tracing_;
  DeferredSink deferred_;
  DeviceContext ctx_;
  AccessResult access_;  // what the devices returned during the exit being handled
  VcpuStats stats_;
  std::vector<uint64_t> stats_prev_, stats_now_;
  std::vector<bool> skip_;  // per stat: not recorded at every exit
  int stat_exits_ = -1;     // index of the "exits" stat
  uint64_t kernel_exits_ = 0;
  uint64_t steps_at_sample_ = 0, exits_at_sample_ = 0;
  uint64_t stats_at_ns_ = 0;  // when the stats fd was last read
  static constexpr uint64_t kStatsIntervalNs = 100'000;
  bool other_exit_since_step_ = false;  // the next step may be merged with it
  pvm::LateHltExit late_hlt_;           // pvm_quirks.h
  ModeTracker modes_;
  std::unique_ptr<StepTracer> stepper_;
  std::atomic<bool> stop_requested_{false};
  std::mutex* bus_lock_ = nullptr;  // several vCPUs: serialises device access
  bool ends_run_ = true;            // one vCPU: this loop records the run's end
  std::atomic<uint64_t> exits_{0}, steps_{0};
  control::RunControl* control_ = nullptr;                     // run --qmp
  std::function<std::optional<RunEndReason>()> device_limit_;  // share_devices
  std::function<void()> quiesce_;                              // share_devices
};

}  // namespace ringscope::kvm
