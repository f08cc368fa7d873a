// kvm_backend.cpp — assemble the KVM VM for a Machine, run its vCPU on its own
// thread, and watch it.
//
// The watchdog is ringscope::supervise (core). A guest can hang *inside* KVM_RUN
// (docs/hosts.md: cpuid and vmcall do on PVM), where no check in the loop can
// run; so the watchdog sets kvm_run.immediate_exit and signals the vCPU
// thread, which makes KVM_RUN return EINTR, and the loop then ends the run
// with a typed failure and the trace intact.
#include "kvm_backend.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <unistd.h>

#include <thread>

#include "irq_wiring.h"
#include "kick.h"
#include "kvm_vm.h"
#include "ringscope/i18n.h"
#include "ringscope/supervisor.h"
#include "smp_runner.h"
#include "vcpu_loop.h"

namespace ringscope::kvm {

namespace {
constexpr uint64_t kHaltCheckNs = 50'000'000;  // 50 ms: prompt, and cheap for a busy guest
}  // namespace

Result<RunResult> KvmBackend::run(Machine& machine, EventSink& sink, const RunOptions& options) {
  install_kick_handler();
  TRY_ASSIGN(auto vm, Vm::create());
  TRY(vm->set_memory(machine.memory()));
  std::unique_ptr<IrqWiring> irqs;  // before the vCPU: KVM_CREATE_IRQCHIP must come first
  if (machine.config().irqchip == IrqChip::Kernel) {
    TRY_ASSIGN(irqs, IrqWiring::connect(*vm, machine));
  }
  if (machine.config().vcpus > 1) {
    if (machine.config().irqchip != IrqChip::Kernel)
      return make_error(ErrorKind::Usage,
                        trf("{} vCPUs need KVM's in-kernel irqchip (each vCPU's local APIC starts the others "
                            "and carries their IPIs); run with --irqchip kernel",
                            machine.config().vcpus));
    return run_vcpus(*vm, machine, sink, options);
  }
  TRY_ASSIGN(auto vcpu, vm->create_vcpu(0));
  TRY(vcpu->apply_boot_state(machine.boot()));

  VcpuLoop loop(machine, *vcpu, sink, options, 0);
  struct kvm_run* run = vcpu->run();
  SupervisedLoop supervised;
  supervised.run = [&] {
    auto thread = machine.vcpu_threads().enter(0);  // named vcpu0, as `ps -L` shows it
    return loop.run();
  };
  // KVM_RUN returns EINTR on the signal; immediate_exit catches a KVM_RUN
  // entered just after it.
  supervised.stop = [&](std::thread::native_handle_type t) {
    loop.request_stop();
    kick_vcpu(run, t);
  };
  supervised.kick = [&](std::thread::native_handle_type t) { kick_vcpu(run, t); };
  supervised.progress = [&] { return fmt::format("{} exits, {} steps", loop.exits(), loop.steps()); };
  // With KVM's in-kernel irqchip a hlt never reaches the loop; a kick every
  // kHaltCheckNs lets it see a vCPU parked for good (VcpuLoop::halted_for_good).
  if (machine.config().irqchip == IrqChip::Kernel) supervised.check_period_ns = kHaltCheckNs;
  supervised.sink = &sink;
  return supervise(machine, options, supervised);
}

}  // namespace ringscope::kvm
