// irq_wiring.h — a machine's device IRQ lines wired to KVM's in-kernel
// irqchip (MachineConfig::irqchip == IrqChip::Kernel), one irqfd per line.
//
// With the in-kernel irqchip a device no longer asks the VMM to inject a
// vector: it writes to an eventfd, and KVM raises the line at its own
// 8259A, which picks the vector the guest programmed and delivers it,
// waking a vCPU halted inside KVM_RUN. The PIC's EOI writes never leave the
// kernel. That is kvmtool's and Firecracker's configuration.
#pragma once

#include <memory>
#include <vector>

#include "kvm_vm.h"
#include "ringscope/machine.h"

namespace ringscope::kvm {

class IrqWiring {
 public:
  // Creates the in-kernel irqchip and PIT on `vm` (before its vCPUs) and
  // connects every line of `machine` to an irqfd for its IRQ number.
  static Result<std::unique_ptr<IrqWiring>> connect(Vm& vm, Machine& machine);
  // Disconnects the lines: they must not write to closed descriptors.
  ~IrqWiring();
  IrqWiring(const IrqWiring&) = delete;
  IrqWiring& operator=(const IrqWiring&) = delete;

 private:
  IrqWiring() = default;
  std::vector<IrqLine*> lines_;
  std::vector<Fd> fds_;
};

}  // namespace ringscope::kvm
