// emu_loop_devices.cpp — the emulation loop's device hooks: port I/O and
// MMIO to the Machine's bus, as the KVM backend hands its exits to the same
// bus, and Unicorn's unmapped-memory hook.
#include "emu_loop.h"

#include "ringscope/machine.h"

namespace ringscope::emulation {

namespace {
// The guest's registers for a device that needs them (the hypercall
// doorbell, DeviceContext::regs): Unicorn's own, read and written in the
// I/O hook, before the `out` completes.
class UnicornRegisters final : public VcpuRegisters {
 public:
  UnicornRegisters(UnicornCpu& cpu, uint64_t rip) : cpu_(cpu), rip_(rip) {}
  uint64_t get(Gpr r) override { return cpu_.reg(id(r)); }
  void set(Gpr r, uint64_t value) override { cpu_.set_reg(id(r), value); }
  uint64_t rip() override { return rip_; }
  uint8_t cpl() override { return cpu_.cpl(); }
  Source observed_by() const override { return Source::Emulator; }

 private:
  static int id(Gpr r) {
    switch (r) {
      case Gpr::Rax: return UC_X86_REG_RAX;
      case Gpr::Rbx: return UC_X86_REG_RBX;
      case Gpr::Rcx: return UC_X86_REG_RCX;
      case Gpr::Rdx: return UC_X86_REG_RDX;
      case Gpr::Rsi: return UC_X86_REG_RSI;
      case Gpr::Rdi: return UC_X86_REG_RDI;
    }
    return UC_X86_REG_RAX;
  }
  UnicornCpu& cpu_;
  uint64_t rip_;
};
}  // namespace

uint64_t EmuLoop::port_access(uint16_t port, uint8_t size, bool out, uint64_t value) {
  io_.store(io_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (tracing_) record_mode_change(monotonic_ns());
  vmx::GuestAction a;
  if (model_) {
    a = io_action(port, size, out);
    model_boundary(a);
  }
  // Unicorn reports each element of a REP OUTS as its own access; the
  // registers are offered to single ones only, as under KVM.
  UnicornRegisters regs(cpu_, model_ ? a.rip : cpu_.reg(UC_X86_REG_RIP));
  if (!(model_ && a.string && a.rep)) ctx_.regs = &regs;
  ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  AccessResult access;
  if (out)
    access = machine_.bus().write(ctx_, AddressSpace::Pio, port, size, value, nullptr);
  else
    value = machine_.bus().read(ctx_, AddressSpace::Pio, port, size, nullptr);
  ctx_.regs = nullptr;
  if (model_) {
    a.value = value;
    model(a);
  }
  after_device_access(access);
  return value;
}

uint64_t EmuLoop::mmio_access(uint64_t gpa, uint8_t size, bool write, uint64_t value) {
  io_.store(io_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (model_ && model_->holding()) {
    model_->flush();
    deferred_.drain(sink_);
  }
  ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  AccessResult access;
  if (write)
    access = machine_.bus().write(ctx_, AddressSpace::Mmio, gpa, size, value, nullptr);
  else
    value = machine_.bus().read(ctx_, AddressSpace::Mmio, gpa, size, nullptr);
  if (model_) {
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Mmio;
    a.gpa = gpa;
    a.size = size;
    a.write = write;
    a.value = value;
    a.rip = cpu_.reg(UC_X86_REG_RIP);
    a.cpl = cpu_.cpl();
    model(a);
  }
  after_device_access(access);
  return value;
}

// The same limits as the KVM backend: here every device access is what
// would have been a user-space exit there.
void EmuLoop::after_device_access(const AccessResult& devices) {
  if (auto stop =
          check_after_exit(ctx_.access_result(devices), exit_count(), machine_.console_bytes(), options_.limits))
    stop_emulation(std::move(*stop));
  // The access may have raised an interrupt (a virtio completion, an EOI
  // letting the next one through, a PIT or PIC reprogrammed): the CPU takes
  // it at the next instruction boundary if IF is set; here, at the next
  // block boundary, where the block hook looks.
  else
    irq_look_ = true;
}

uint32_t EmuLoop::on_in(uc_engine*, uint32_t port, int size, void* p) {
  return static_cast<uint32_t>(
      self_of(p).port_access(static_cast<uint16_t>(port), static_cast<uint8_t>(size), false, 0));
}

void EmuLoop::on_out(uc_engine*, uint32_t port, int size, uint32_t value, void* p) {
  self_of(p).port_access(static_cast<uint16_t>(port), static_cast<uint8_t>(size), true, value);
}

uint64_t EmuLoop::on_mmio_read(uc_engine*, uint64_t offset, unsigned size, void* p) {
  EmuLoop& s = self_of(p);
  return s.mmio_access(s.machine_.memory().size() + offset, static_cast<uint8_t>(size), false, 0);
}

void EmuLoop::on_mmio_write(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* p) {
  EmuLoop& s = self_of(p);
  s.mmio_access(s.machine_.memory().size() + offset, static_cast<uint8_t>(size), true, value);
}

// See UnicornCpu::alias_page: the first touch of a page outside guest RAM
// mirrors the guest's mapping of it into Unicorn's map, and the access goes
// on (through the guest's page tables, which may still raise #PF).
bool EmuLoop::on_unmapped(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t, void* p) {
  EmuLoop& s = self_of(p);
  bool ok = s.cpu_.alias_page(address, s.machine_.memory());
  // An access that straddles two pages needs both.
  uint64_t last = address + uint64_t(size > 0 ? size - 1 : 0);
  if (ok && (last & ~0xfffull) != (address & ~0xfffull)) s.cpu_.alias_page(last, s.machine_.memory());
  return ok;
}

}  // namespace ringscope::emulation
