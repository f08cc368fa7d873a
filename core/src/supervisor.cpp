// supervisor.cpp — the watchdog and progress line around a backend's loop.
#include "ringscope/supervisor.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

#include "ringscope/control/run_control.h"
#include "ringscope/host_sampler.h"
#include "ringscope/trace.h"

namespace ringscope {

namespace {
constexpr uint64_t kProgressNs = 250'000'000;  // the progress line's refresh
constexpr uint64_t kKickGapNs = 200'000;       // the least time between two timer kicks
// How often the watchdog looks at the machine's timer when it has no
// deadline to wait for: the vCPU publishes it (Machine::irq_deadline_hint)
// without waking anyone, so a guest that arms its timer and then spins
// without an exit has its first interrupt at most this late.
constexpr uint64_t kTimerLookNs = 10'000'000;

RunResult watch(Machine* machine, const RunOptions& options, const SupervisedLoop& loop) {
  RunResult result;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  uint64_t start = monotonic_ns();
  // The host's view of the VM (host_counters.h), sampled beside the loop.
  // The loop's threads name themselves vcpuN (Machine::vcpu_threads).
  std::unique_ptr<HostSampler> sampler;
  if (machine && loop.sink && options.host_sample_ms > 0 && options.level != TraceLevel::Off &&
      dynamic_cast<TraceWriter*>(loop.sink)) {
    sampler = std::make_unique<HostSampler>(*loop.sink, *machine, machine->vcpu_threads(), options.host_sample_ms);
    machine->attach_host_sampler(sampler.get());
    sampler->start();
  }
  std::thread thread([&] {
    RunResult r = loop.run();
    std::lock_guard lock(mu);
    result = std::move(r);
    finished = true;
    cv.notify_all();
  });

  uint64_t deadline = start + options.limits.wall_ms * 1'000'000;
  bool progress_shown = false;
  // Without a progress line there is nothing to wake for every kProgressNs.
  // (Waking for it anyway, with nothing that moved it on, made the wait 0
  // from then on: the watchdog spun on its condition variable, a host CPU
  // taken from the vCPUs for the rest of every run longer than 250 ms.)
  uint64_t next_progress = options.progress ? start + kProgressNs : UINT64_MAX, last_kick = 0;
  uint64_t next_check = loop.check_period_ns ? start + loop.check_period_ns : UINT64_MAX;
  {
    std::unique_lock lock(mu);
    while (!finished) {
      uint64_t t = monotonic_ns();
      // Time a user kept the guest paused (run --qmp) is not the guest's.
      uint64_t paused = options.control ? options.control->paused_ns() : 0;
      if (t >= deadline + paused) {
        // Repeat until the loop notices: a stop that lands just before the
        // loop re-enters the guest is caught by the next one.
        loop.stop(thread.native_handle());
        cv.wait_for(lock, std::chrono::milliseconds(20));
        continue;
      }
      // The machine's timer is due: kick the loop so it can deliver the
      // interrupt. At most one kick per kKickGapNs.
      // Not while the control holds the vCPUs at a checkpoint (paused):
      // they take no interrupt there, and a kick would only wake them.
      bool held = options.control && options.control->wanted();
      uint64_t due = loop.kick && machine && !held ? machine->irq_deadline_hint() : 0;
      if (due && t >= due && t - last_kick >= kKickGapNs) {
        loop.kick(thread.native_handle());
        last_kick = t;
      }
      if (t >= next_check) {  // the loop's periodic look at what it cannot see
        loop.kick(thread.native_handle());
        last_kick = t;
        next_check = t + loop.check_period_ns;
      }
      uint64_t wake = std::min({next_progress, deadline + paused, next_check});
      if (due) wake = std::min(wake, std::max(due, last_kick + kKickGapNs));
      if (loop.kick && machine) wake = std::min(wake, t + kTimerLookNs);
      cv.wait_for(lock, std::chrono::nanoseconds(wake > t ? wake - t : 0));
      if (!finished && options.progress && monotonic_ns() >= next_progress) {
        next_progress = monotonic_ns() + kProgressNs;
        double secs = (monotonic_ns() - start) / 1e9;
        std::fprintf(stderr, "\rringscope: running… %.1f s, %s ", secs, loop.progress().c_str());
        progress_shown = true;
      }
    }
  }
  thread.join();
  if (sampler) {
    sampler->stop();
    machine->attach_host_sampler(nullptr);
  }
  if (progress_shown) std::fprintf(stderr, "\r\033[K");
  result.wall_ns = monotonic_ns() - start;
  result.paused_ns = options.control ? std::min(options.control->paused_ns(), result.wall_ns) : 0;
  return result;
}
}  // namespace

RunResult supervise(Machine& machine, const RunOptions& options, const SupervisedLoop& loop) {
  return watch(&machine, options, loop);
}

RunResult supervise(const RunOptions& options, const SupervisedLoop& loop) { return watch(nullptr, options, loop); }

void emit_run_end(EventSink& sink, const RunResult& result, uint32_t vcpu, uint64_t time_ns) {
  emit_host_counters(sink, vcpu, time_ns);
  emit_run_end_event(sink, result, vcpu, time_ns);
}

void emit_host_counters(EventSink& sink, uint32_t vcpu, uint64_t time_ns) {
  // Seen from the host, a VM is a process and each vCPU one of its threads,
  // scheduled like any other: which thread ran this vCPU, and how much CPU
  // time the host gave it (a halted guest sleeps, a busy one keeps a CPU).
  // Read here because this is the vCPU's own thread, at the end of its run.
  struct timespec cpu {};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  const std::pair<const char*, uint64_t> host[] = {
      {kCounterHostPid, static_cast<uint64_t>(getpid())},
      {kCounterVcpuThreadTid, static_cast<uint64_t>(gettid())},
      {kCounterVcpuThreadCpuNs, static_cast<uint64_t>(cpu.tv_sec) * 1'000'000'000ull + cpu.tv_nsec},
  };
  for (const auto& [name, value] : host) emit_counter(sink, time_ns, vcpu, Source::Vmm, name, value);
}

void emit_run_end_event(EventSink& sink, const RunResult& result, uint32_t vcpu, uint64_t time_ns) {
  GuestRegs regs;  // emit() copies or encodes at once, so a local will do
  if (result.regs) regs = *result.regs;
  Event end = events::run_end({time_ns, vcpu, Source::Vmm}, result.end, static_cast<uint64_t>(result.guest_status),
                              result.message, result.regs ? &regs : nullptr);
  sink.emit(end);
}

}  // namespace ringscope
