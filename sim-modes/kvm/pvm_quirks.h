// pvm_quirks.h — where KVM's PVM flavour differs from KVM on VT-x/AMD-V, and
// what the VMM does about it, in one place.
//
// PVM ("Pagetable-based Virtual Machine", docs/hosts.md) is a software
// hypervisor: the guest runs at hardware CPL 3 and guest supervisor mode is
// simulated. The VMM is written only against the standard KVM API, so each
// workaround here is a no-op on VT-x/AMD-V, where the situation it handles
// never arises. None of them is the architecture; none is in the lesson's
// path (vcpu_loop.cpp calls them at the one point each concerns).
//
// Elsewhere, because they concern the object itself:
//   - single-step traps that come one instruction late at an exception
//     handler's first `push`: StepTracer::vector_for (step_tracer.cpp);
//   - the guest kernel's own PVM predicate (scenarios/kernel/trap.c).
#pragma once

#include <cstdint>

#include "step_tracer.h"

namespace ringscope::kvm::pvm {

// After a single-step exit, KVM's ready_for_interrupt_injection can miss
// the one-instruction interrupt shadow of STI (or MOV SS) on PVM: it lets
// the VMM inject, and `sti; hlt` then sleeps past its wake-up. The step
// tracer knows what was just stepped; while it opened a shadow, the VMM
// holds the injection (and asks for an interrupt window instead).
inline bool hold_injection(const StepTracer* stepper) { return stepper && stepper->in_interrupt_shadow(); }

// On PVM a single-stepped HLT reports its step trap first and its HLT exit
// later, after the interrupt that woke the guest has been injected and
// handled. That late HLT exit is stale: the HLT has already ended. On
// VT-x/AMD-V the HLT exit comes before any injection, and nothing is ever
// marked here.
class LateHltExit {
 public:
  // An interrupt was injected right after a stepped HLT at `rip`.
  void injected(const StepTracer* stepper, uint64_t rip) {
    if (stepper && stepper->stepped_hlt()) woken_rip_ = rip;
  }
  // After each step: a newly stepped HLT's exit, when it comes, is real.
  void stepped(const StepTracer& stepper) {
    if (stepper.stepped_hlt()) woken_rip_ = 0;
  }
  // True (once) for the stale HLT exit at `exit_rip`: the loop ignores it.
  bool stale(uint64_t exit_rip) {
    if (!woken_rip_ || exit_rip != woken_rip_) return false;
    woken_rip_ = 0;
    return true;
  }

 private:
  uint64_t woken_rip_ = 0;
};

}  // namespace ringscope::kvm::pvm
