// kick.h — how another thread stops a vCPU that is inside KVM_RUN.
//
// A guest can stay inside KVM_RUN indefinitely (a hlt with the in-kernel
// irqchip, a loop KVM emulates, docs/hosts.md's cpuid and vmcall on PVM).
// Setting kvm_run.immediate_exit and sending the vCPU thread kKickSignal,
// whose handler is empty and installed without SA_RESTART, makes KVM_RUN
// return EINTR; immediate_exit catches a KVM_RUN entered just after it.
#pragma once

#include <signal.h>

#include <thread>

struct kvm_run;

namespace ringscope::kvm {

inline constexpr int kKickSignal = SIGUSR1;

// Installs the empty handler once per process.
void install_kick_handler();

// Unblocks kKickSignal on the calling thread (the vCPU's), whatever mask it
// inherited.
void accept_kicks();

// Makes the vCPU on `thread` leave KVM_RUN (or not enter it): sets
// immediate_exit in its run area (when there is one) and signals it.
void kick_vcpu(struct kvm_run* run, std::thread::native_handle_type thread);

}  // namespace ringscope::kvm
