// irq_wiring.cpp — device IRQ lines to irqfds (see irq_wiring.h).
#include "irq_wiring.h"

#include <unistd.h>

namespace ringscope::kvm {

namespace {
// A device raised its line: one write to the eventfd is one edge at KVM's
// PIC. The descriptor is non-blocking; an edge written while KVM has not
// yet consumed the previous one merges with it, as the PIC's IRR would.
void pulse(int fd, DeviceContext& ctx, const IrqLine& line) {
  uint64_t one = 1;
  (void)!write(fd, &one, sizeof one);
  if (!ctx.sink) return;
  // Recorded as the VMM's part of the delivery; the vector is the
  // in-kernel PIC's to choose, and KVM's stats fd counts the injection
  // (irq_injections) when it happens.
  Event e = events::irq_via_irqfd({ctx.event_time(), ctx.vcpu, Source::Vmm}, line.device(), line.irq());
  ctx.sink->emit(e);
}
}  // namespace

Result<std::unique_ptr<IrqWiring>> IrqWiring::connect(Vm& vm, Machine& machine) {
  std::unique_ptr<IrqWiring> w(new IrqWiring());
  TRY(vm.create_irqchip());
  for (IrqLine* line : machine.irq_lines()) {
    TRY_ASSIGN(Fd fd, vm.irqfd(line->irq()));
    line->connect([efd = fd.get()](DeviceContext& ctx, const IrqLine& l) { pulse(efd, ctx, l); });
    w->lines_.push_back(line);
    w->fds_.push_back(std::move(fd));
  }
  return w;
}

IrqWiring::~IrqWiring() {
  for (IrqLine* line : lines_) line->connect(nullptr);
}

}  // namespace ringscope::kvm
