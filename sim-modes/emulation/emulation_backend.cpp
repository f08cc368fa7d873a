// emulation_backend.cpp — assemble Unicorn for a Machine, run the loop on its
// own thread, and watch the wall clock.
//
// The watchdog is the caller's thread, as in the KVM backend. Unicorn can be
// stopped from any thread (uc_emu_stop), so a guest that loops forever ends
// with a typed failure and its trace intact.
#include "emulation_backend.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "emu_loop.h"
#include "ringscope/machine.h"
#include "unicorn_cpu.h"

namespace ringscope::emulation {

namespace {
constexpr uint64_t kProgressNs = 250'000'000;  // the progress line's refresh
constexpr uint64_t kKickGapNs = 200'000;        // the least time between two timer kicks
}  // namespace

Result<RunResult> EmulationBackend::run(Machine& machine, EventSink& sink, const RunOptions& options) {
  TRY_ASSIGN(auto cpu, UnicornCpu::create(machine.memory()));
  TRY(cpu->apply_boot_state(machine.boot()));
  EmuLoop loop(machine, *cpu, sink, options, options_);
  TRY(loop.install_hooks());

  RunResult result;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  uint64_t start = monotonic_ns();
  std::thread thread([&] {
    RunResult r = loop.run();
    std::lock_guard lock(mu);
    result = std::move(r);
    finished = true;
    cv.notify_all();
  });

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.limits.wall_ms);
  bool progress_shown = false;
  uint64_t next_progress = start + kProgressNs, last_kick = 0;
  {
    std::unique_lock lock(mu);
    while (!finished) {
      if (std::chrono::steady_clock::now() >= deadline) {
        // Repeat until the loop notices: a stop that lands between two
        // uc_emu_start calls is caught by the loop's own check.
        loop.request_stop();
        cv.wait_for(lock, std::chrono::milliseconds(20));
        continue;
      }
      // The machine's timer is due: stop Unicorn at the next block so the
      // loop delivers the interrupt (QEMU's TCG is kicked the same way). A
      // kick that lands between two runs is lost, so repeat while the
      // deadline stands, at most one per kKickGapNs.
      uint64_t t = monotonic_ns(), due = machine.irq_deadline_hint();
      if (due && t >= due && t - last_kick >= kKickGapNs) {
        loop.kick();
        last_kick = t;
      }
      uint64_t wake = next_progress;
      if (due) wake = std::min(wake, std::max(due, last_kick + kKickGapNs));
      cv.wait_for(lock, std::chrono::nanoseconds(wake > t ? wake - t : 0));
      if (!finished && options.progress && monotonic_ns() >= next_progress) {
        next_progress = monotonic_ns() + kProgressNs;
        double secs = (monotonic_ns() - start) / 1e9;
        std::fprintf(stderr, "\rringscope: emulating… %.1f s, %llu instructions, %llu device accesses ", secs,
                     static_cast<unsigned long long>(loop.instructions()),
                     static_cast<unsigned long long>(loop.device_accesses()));
        progress_shown = true;
      }
    }
  }
  thread.join();
  if (progress_shown) std::fprintf(stderr, "\r\033[K");
  result.wall_ns = monotonic_ns() - start;
  instructions_ = loop.instructions();
  return result;
}

}  // namespace ringscope::emulation
