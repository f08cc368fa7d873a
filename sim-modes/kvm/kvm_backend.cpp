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

#include <atomic>
#include <mutex>
#include <thread>

#include "io_offload.h"
#include "irq_wiring.h"
#include "kick.h"
#include "kvm_vm.h"
#include "locked_sink.h"
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
    if (machine.config().io == IoPath::Offload)
      return make_error(ErrorKind::Usage, tr("--io offload runs a guest with one vCPU for now; use --vcpus 1"));
    if (machine.config().irqchip != IrqChip::Kernel)
      return make_error(ErrorKind::Usage,
                        trf("{} vCPUs need KVM's in-kernel irqchip (each vCPU's local APIC starts the others "
                            "and carries their IPIs); run with --irqchip kernel",
                            machine.config().vcpus));
    return run_vcpus(*vm, machine, sink, options);
  }
  TRY_ASSIGN(auto vcpu, vm->create_vcpu(0));
  TRY(vcpu->apply_boot_state(machine.boot()));

  // Offloaded I/O: a device thread beside the vCPU's (io_offload.h), the
  // devices behind one lock, the events through a sink both may use.
  std::mutex bus_lock;
  std::unique_ptr<LockedSink> locked;
  EventSink* out = &sink;
  std::unique_ptr<IoOffload> offload;
  std::string refused;
  if (machine.config().io == IoPath::Offload) {
    if (machine.config().irqchip != IrqChip::Kernel)
      return make_error(ErrorKind::Usage, tr("--io offload needs KVM's in-kernel irqchip (--irqchip kernel)"));
    out = shareable_sink(sink, locked);
    offload = IoOffload::start(*vm, machine, *out, bus_lock, options, &refused);
    if (!offload && options.level != TraceLevel::Off) {
      // Recorded where a reader of the trace looks: what was asked, and why not.
      const std::string why = "refused: " + refused;
      Event e = events::device({monotonic_ns(), 0, Source::Vmm}, "ioeventfd", why, Direction::None, 0, 0);
      out->emit(e);
    }
  }

  VcpuLoop loop(machine, *vcpu, *out, options, 0);
  struct kvm_run* run = vcpu->run();
  std::atomic<pthread_t> vcpu_thread{pthread_t{}};
  if (offload) {
    loop.share_devices(
        &bus_lock, [o = offload.get()] { return o->limit_hit(); }, [o = offload.get()] { o->stop(); });
    offload->set_on_limit([&] {
      loop.request_stop();
      kick_vcpu(run, vcpu_thread.load());
    });
  }
  SupervisedLoop supervised;
  supervised.run = [&] {
    auto thread = machine.vcpu_threads().enter(0);  // named vcpu0, as `ps -L` shows it
    vcpu_thread.store(pthread_self());
    RunResult r = loop.run();
    r.note = refused;
    return r;
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
