// smp_runner.h — a guest with several vCPUs: one host thread per vCPU.
//
// vCPU 0 starts in the machine's boot state; the others stay where KVM's
// in-kernel irqchip leaves an application processor at creation, waiting
// for INIT and STARTUP IPIs (KVM_MP_STATE_UNINITIALIZED), and KVM itself
// starts them when the guest's boot CPU sends INIT-SIPI-SIPI through its
// local APIC. Each vCPU runs its own VcpuLoop on a thread named vcpuN (what
// `ps -L`, `top -H` and htop show), with its own stats fd and its own lane
// of events (Event::vcpu). Device exits from several threads are taken one
// at a time (one lock around the bus dispatch). The first loop whose end
// ends the run (the guest's exit, a fault, a limit) stops the others
// through the kick (kick.h); a vCPU halted for good while others still run
// only ends its own thread. One run_end event, after every thread ended.
#pragma once

#include "kvm_vm.h"
#include "ringscope/backend.h"
#include "ringscope/machine.h"

namespace ringscope::kvm {

// Runs `machine` (config().vcpus > 1, IrqChip::Kernel) on `vm`, whose
// memory and in-kernel irqchip are already set up, under the watchdog.
Result<RunResult> run_vcpus(Vm& vm, Machine& machine, EventSink& sink, const RunOptions& options);

// The name each vCPU thread gets ("vcpu0", "vcpu1", ...).
std::string vcpu_thread_name(uint32_t index);

}  // namespace ringscope::kvm
