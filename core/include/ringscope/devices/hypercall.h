// hypercall.h — the hypercall doorbell (docs/hypercalls.md).
//
// An I/O port the paravirtual guest writes to call the hypervisor. Unlike
// other devices it needs the guest's registers: the number is in RAX, the
// arguments in RBX, RCX, RDX, RSI, the result goes back in RAX. A plain bus
// access carries none of that, so every backend hands the bus the vCPU's
// registers with each single port write (DeviceContext::regs); write()
// reads them, does the call and sets RAX, the same code under KVM and
// under the emulator. Bus writes without registers are reported and
// ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "ringscope/device.h"
#include "ringscope/hypercalls.h"

namespace ringscope {

struct HypercallRegs {
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0;
};

class HypercallDevice final : public Device {
 public:
  std::string_view name() const override { return "hypercall"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override {
    (void)write_access(ctx, offset, width, value);
  }
  // A ring of the doorbell: the halt hypercall returns the guest's exit.
  AccessResult write_access(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t, Direction) const override { return "doorbell"; }

  // Does hypercall regs.rax: `rax` is the value for RAX, `access` what the
  // call means for the run (halt: the guest's exit). Records one `hypercall`
  // event (number, arguments, result, transport; rip, cpl).
  struct CallResult {
    uint64_t rax = 0;
    AccessResult access;
  };
  CallResult call(DeviceContext& ctx, const HypercallRegs& regs, Transport transport, Source source, uint64_t rip,
                  uint8_t cpl);

  // Where ConsoleWrite's bytes go (the machine's console).
  void set_console(std::function<void(DeviceContext&, std::string_view)> console) { console_ = std::move(console); }
  uint64_t calls() const { return calls_; }

 private:
  uint64_t console_write(DeviceContext& ctx, uint64_t gpa, uint64_t len);
  std::function<void(DeviceContext&, std::string_view)> console_;
  uint64_t calls_ = 0;
};

}  // namespace ringscope
