// irqchip_probe.h — a live check: does KVM's in-kernel irqchip deliver an
// interrupt raised through an irqfd into a guest on this host?
//
// The lesson it carries: the interrupt controller (here the 8259A PIC) can
// live inside the kernel, next to the vCPU; a device thread then raises an
// IRQ by writing to an eventfd, and the guest takes it without any exit to
// user space. The scenario `tick` does the opposite (a user-space PIC and
// KVM_INTERRUPT), so the two can be compared.
#pragma once

#include <string>

namespace ringscope::kvm {

struct IrqchipProbe {
  bool works = false;  // the guest took the interrupt
  std::string detail;  // one sentence: what was tried and what happened
};

// Builds a throwaway VM with KVM_CREATE_IRQCHIP, runs a 16-bit real-mode
// guest that programs the PIC and halts, raises IRQ 5 through an irqfd and
// waits for the guest's handler to report. Never throws, never hangs (a
// watchdog bounds the guest to ~0.5 s), closes every fd and mapping it made.
// Uses SIGUSR1 (an empty handler) to interrupt KVM_RUN, as KvmBackend does.
IrqchipProbe probe_in_kernel_irqchip();

}  // namespace ringscope::kvm
