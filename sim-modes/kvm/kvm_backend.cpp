// kvm_backend.cpp — assemble the KVM VM for a Machine, run its vCPU on its own
// thread, and watch it.
//
// The watchdog is ringscope::supervise (core). A guest can hang *inside* KVM_RUN
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
#include <cstdio>
#include <mutex>
#include <thread>

#include "kvm_vm.h"
#include "ringscope/supervisor.h"
#include "vcpu_loop.h"

namespace ringscope::kvm {

namespace {
constexpr int kKickSignal = SIGUSR1;

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
  struct kvm_run* run = vcpu->run();
  SupervisedLoop supervised;
  supervised.run = [&] { return loop.run(); };
  // KVM_RUN returns EINTR on the signal; immediate_exit catches a KVM_RUN
  // entered just after it.
  supervised.stop = [&](std::thread::native_handle_type t) {
    loop.request_stop();
    run->immediate_exit = 1;
    pthread_kill(t, kKickSignal);
  };
  supervised.kick = [&](std::thread::native_handle_type t) {
    run->immediate_exit = 1;
    pthread_kill(t, kKickSignal);
  };
  supervised.progress = [&] { return fmt::format("{} exits, {} steps", loop.exits(), loop.steps()); };
  return supervise(machine, options, supervised);
}

}  // namespace ringscope::kvm
