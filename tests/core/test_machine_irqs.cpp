// Where a machine's interrupt lines end: at its own 8259A model
// (IrqChip::Vmm), or nowhere until a backend wires them to its in-kernel
// irqchip (IrqChip::Kernel), in which case the machine has no PIC or PIT.
#include <gtest/gtest.h>

#include "ringscope/machine.h"
#include "support/tiny_elf.h"

namespace ringscope {
namespace {

std::unique_ptr<Machine> make_machine(IrqChip chip) {
  MachineConfig config;
  config.kernel = test::write_temp_file("irq-kernel.elf", test::make_tiny_kernel({}));
  config.devices = DeviceSet::Virtio;
  config.irqchip = chip;
  auto m = Machine::create(config);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? std::move(m).value() : nullptr;
}

// ICW1..ICW4 for both chips (vectors 32.. and 40..), then unmask IRQ n.
void program_pic(Machine& m, DeviceContext& ctx, uint8_t irq) {
  auto out = [&](uint16_t port, uint8_t v) { m.bus().write(ctx, AddressSpace::Pio, port, 1, v, nullptr); };
  out(0x20, 0x11), out(0x21, 32), out(0x21, 4), out(0x21, 1);
  out(0xa0, 0x11), out(0xa1, 40), out(0xa1, 2), out(0xa1, 1);
  out(0x21, static_cast<uint8_t>(~(1u << irq) & ~(1u << 2))), out(0xa1, 0xff);
}

TEST(MachineIrqs, VirtioLinesEndAtTheMachinesPic) {
  auto m = make_machine(IrqChip::Vmm);
  ASSERT_TRUE(m);
  DeviceContext ctx;
  auto lines = m->irq_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]->irq(), kVirtioIrqBase);
  EXPECT_EQ(lines[0]->device(), "virtio-console");
  EXPECT_EQ(lines[1]->irq(), kVirtioIrqBase + 1);
  EXPECT_EQ(lines[1]->device(), "virtio-blk");

  program_pic(*m, ctx, kVirtioIrqBase + 1);
  EXPECT_FALSE(m->pending_irq());
  lines[0]->raise(ctx);  // masked at the PIC
  EXPECT_FALSE(m->pending_irq());
  lines[1]->raise(ctx);
  ASSERT_TRUE(m->pending_irq());
  EXPECT_EQ(*m->pending_irq(), 32 + kVirtioIrqBase + 1);
  EXPECT_EQ(m->acknowledge_irq(), 32 + kVirtioIrqBase + 1);
  EXPECT_FALSE(m->pending_irq()) << "in service until the EOI";
}

TEST(MachineIrqs, WithTheKernelIrqchipTheMachineHasNoPicOrPit) {
  auto m = make_machine(IrqChip::Kernel);
  ASSERT_TRUE(m);
  for (uint16_t port : {0x20, 0x21, 0xa0, 0xa1, 0x40, 0x43})
    EXPECT_FALSE(m->bus().find(AddressSpace::Pio, port).device) << "port " << port << " is the hypervisor's";
  EXPECT_TRUE(m->bus().find(AddressSpace::Pio, 0x3f8).device) << "the UART is still ours";
  DeviceContext ctx;
  for (IrqLine* line : m->irq_lines()) line->raise(ctx);  // unwired: counted, goes nowhere
  EXPECT_EQ(m->irq_lines()[1]->raised(), 1u);
  EXPECT_FALSE(m->pending_irq()) << "the backend's irqchip delivers, not the machine";
  EXPECT_FALSE(m->next_irq_deadline_ns());

  // A backend wires the lines to its own controller.
  std::vector<uint8_t> seen;
  for (IrqLine* line : m->irq_lines())
    line->connect([&](DeviceContext&, const IrqLine& l) { seen.push_back(l.irq()); });
  m->irq_lines()[1]->raise(ctx);
  EXPECT_EQ(seen, std::vector<uint8_t>{kVirtioIrqBase + 1});
}

}  // namespace
}  // namespace ringscope
