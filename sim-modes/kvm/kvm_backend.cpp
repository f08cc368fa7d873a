// kvm_backend.cpp — assemble the KVM VM for a Machine, run its vCPU on its own
// thread, and watch it.
//
// The watchdog is the caller's thread. A guest can hang *inside* KVM_RUN
// (PLATFORM.md: cpuid and vmcall do on PVM), where no check in the loop can
// run; so the watchdog sets kvm_run.immediate_exit and signals the vCPU
// thread, which makes KVM_RUN return EINTR, and the loop then ends the run
// with a typed failure and the trace intact.
#include "kvm_backend.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "kvm_vm.h"
#include "vcpu_loop.h"

namespace ringscope::kvm {

namespace {
constexpr int kKickSignal = SIGUSR1;
constexpr uint64_t kProgressNs = 250'000'000;  // the progress line's refresh
constexpr uint64_t kKickGapNs = 200'000;        // the least time between two timer kicks

void install_kick_handler() {
  // An empty handler without SA_RESTART: its only job is to interrupt KVM_RUN.
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sigaction(kKickSignal, &sa, nullptr);
  });
}
}  // namespace

Result<RunResult> KvmBackend::run(Machine& machine, EventSink& sink, const RunOptions& options) {
  install_kick_handler();
  TRY_ASSIGN(auto vm, Vm::create());
  TRY(vm->set_memory(machine.memory()));
  TRY_ASSIGN(auto vcpu, vm->create_vcpu(0));
  TRY(vcpu->apply_boot_state(machine.boot()));

  VcpuLoop loop(machine, *vcpu, sink, options, 0);
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
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        // Kick until the loop notices; a KVM_RUN entered after one kick is
        // caught by immediate_exit.
        loop.request_stop();
        vcpu->run()->immediate_exit = 1;
        pthread_kill(thread.native_handle(), kKickSignal);
        cv.wait_for(lock, std::chrono::milliseconds(20));
        continue;
      }
      // The machine's timer is due: make KVM_RUN return so the loop can
      // inject the interrupt (a guest running with interrupts on may make
      // no exit of its own). At most one kick per kKickGapNs.
      uint64_t t = monotonic_ns(), due = machine.irq_deadline_hint();
      if (due && t >= due && t - last_kick >= kKickGapNs) {
        vcpu->run()->immediate_exit = 1;
        pthread_kill(thread.native_handle(), kKickSignal);
        last_kick = t;
      }
      uint64_t wake = next_progress;
      if (due) wake = std::min(wake, std::max(due, last_kick + kKickGapNs));
      cv.wait_for(lock, std::chrono::nanoseconds(wake > t ? wake - t : 0));
      if (!finished && options.progress && monotonic_ns() >= next_progress) {
        next_progress = monotonic_ns() + kProgressNs;
        double secs = (monotonic_ns() - start) / 1e9;
        std::fprintf(stderr, "\rringscope: running… %.1f s, %llu exits, %llu steps ", secs,
                     static_cast<unsigned long long>(loop.exits()), static_cast<unsigned long long>(loop.steps()));
        progress_shown = true;
      }
    }
  }
  thread.join();
  if (progress_shown) std::fprintf(stderr, "\r\033[K");
  result.wall_ns = monotonic_ns() - start;
  return result;
}

}  // namespace ringscope::kvm
