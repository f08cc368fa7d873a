// lapic.h — the local APICs of a multi-vCPU machine, as ringscope's own
// model (the emulation backend's; under KVM the in-kernel irqchip has its
// own). Every CPU reaches its local APIC at the same physical page,
// 0xfee00000: one Device on the bus answers for all of them, by the
// accessing vCPU (DeviceContext::vcpu).
//
// Exactly what the teaching kernel (scenarios/kernel/lapic.c) uses, with
// Intel's register layout (SDM Vol. 3A chapter 10, "Advanced Programmable
// Interrupt Controller"):
//   0x020 ID (bits 31-24: the vCPU's index)   0x030 version (0x14, 6 LVTs)
//   0x080 TPR   0x0a0 PPR   0x0b0 EOI   0x0d0 LDR   0x0e0 DFR   0x0f0 SVR
//   0x100-0x170 ISR   0x200-0x270 IRR   0x280 ESR
//   0x300 ICR low (writing it sends the IPI)   0x310 ICR high (destination)
//   0x320 LVT timer   0x340 LVT performance counter   0x350/0x360 LINT0/1
//   0x370 LVT error   0x380 initial count   0x390 current count   0x3e0 divide
// IPIs: fixed (and lowest priority, delivered as fixed), INIT, STARTUP,
// physical destinations and the shorthands (self, all, all but self).
// Timer: one-shot and periodic on a 1 GHz bus clock (as KVM's and QEMU's
// local APICs), from the clock the backend gives (guest time under
// emulation): one bus cycle per nanosecond.
//
// A hostile guest cannot hurt the VMM through it: bad vectors set the
// error register and deliver nothing, unknown destinations deliver
// nothing, a periodic timer never fires faster than every kMinPeriodNs
// (as KVM's min_timer_period_us), every count is 32 bits wide.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ringscope/device.h"

namespace ringscope {

inline constexpr uint64_t kLapicWindow = 0x1000;

class LocalApics final : public Device {
 public:
  // Register offsets.
  enum Reg : uint32_t {
    kId = 0x20,
    kVersion = 0x30,
    kTpr = 0x80,
    kApr = 0x90,
    kPpr = 0xa0,
    kEoi = 0xb0,
    kLdr = 0xd0,
    kDfr = 0xe0,
    kSvr = 0xf0,
    kIsr = 0x100,
    kTmr = 0x180,
    kIrr = 0x200,
    kEsr = 0x280,
    kIcrLow = 0x300,
    kIcrHigh = 0x310,
    kLvtTimer = 0x320,
    kLvtThermal = 0x330,
    kLvtPerf = 0x340,
    kLvtLint0 = 0x350,
    kLvtLint1 = 0x360,
    kLvtError = 0x370,
    kTimerInitial = 0x380,
    kTimerCurrent = 0x390,
    kTimerDivide = 0x3e0,
  };
  static constexpr uint32_t kVersionValue = 0x00050014;  // version 0x14, last LVT entry 5 (KVM's)
  static constexpr uint32_t kLvtMasked = 1u << 16;
  static constexpr uint32_t kSvrEnable = 1u << 8;
  static constexpr uint64_t kMinPeriodNs = 200'000;  // KVM's min_timer_period_us (200 µs)
  // ICR delivery modes (bits 10-8).
  enum class Delivery : uint8_t { Fixed = 0, Lowest = 1, Smi = 2, Nmi = 4, Init = 5, Startup = 6, ExtInt = 7 };

  // `vcpus` local APICs with IDs 0..vcpus-1. vCPU 0 is the boot CPU: its
  // LINT0 is wired to the 8259A PIC (ExtINT, "virtual wire" mode, as KVM
  // resets it); the others wait for INIT and STARTUP.
  explicit LocalApics(int vcpus, std::function<uint64_t()> clock_ns = {});
  void set_clock(std::function<uint64_t()> ns) { clock_ = std::move(ns); }
  int count() const { return static_cast<int>(apics_.size()); }

  std::string_view name() const override { return "lapic"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // ---- the CPU side: the backend, for vCPU `cpu` ----------------------------
  // The vector the CPU would take now (IRR above the processor priority),
  // after bringing its timer up to now; nothing otherwise.
  std::optional<uint8_t> pending(uint32_t cpu);
  // Whether the 8259A's interrupts reach this CPU (LINT0 unmasked ExtINT).
  bool accepts_pic(uint32_t cpu) const;
  // The CPU takes the pending vector (IRR to ISR). For an IPI, who sent it
  // and when (the DeviceContext time of the ICR write), for its trace event.
  struct Taken {
    uint8_t vector = 0;
    bool ipi = false;
    uint32_t from = 0;
    uint64_t sent_ns = 0;
  };
  Taken acknowledge(uint32_t cpu);
  // When this CPU's timer next fires (clock ns), or nothing.
  std::optional<uint64_t> next_deadline_ns(uint32_t cpu) const;

  // Start-up. An application processor waits for a STARTUP IPI from reset
  // or after an INIT; a STARTUP to a CPU that is not waiting is ignored.
  bool waiting_for_startup(uint32_t cpu) const { return apics_[cpu].wait_sipi; }
  // What INIT or STARTUP did to this CPU since the last call (oldest first):
  // the backend resets the CPU (INIT) or starts it in real mode at
  // vector << 12 (STARTUP), and records each.
  struct Startup {
    Delivery mode = Delivery::Init;
    uint8_t vector = 0;
    uint32_t from = 0;
    uint64_t sent_ns = 0;
  };
  std::vector<Startup> take_startups(uint32_t cpu);
  bool has_startups(uint32_t cpu) const { return cpu < apics_.size() && !apics_[cpu].startups.empty(); }

  // Counters, for tests and the run's summary.
  uint64_t ipis_sent() const { return ipis_sent_; }
  uint64_t timer_fires(uint32_t cpu) const { return apics_[cpu].fires; }
  uint32_t error_status(uint32_t cpu) const { return apics_[cpu].esr_pending | apics_[cpu].esr; }

 private:
  struct Apic {
    uint32_t tpr = 0, ldr = 0, dfr = 0xffffffff, svr = 0xff, esr = 0, esr_pending = 0;
    uint32_t icr_low = 0, icr_high = 0;
    uint32_t lvt_timer = kLvtMasked, lvt_thermal = kLvtMasked, lvt_perf = kLvtMasked;
    uint32_t lvt_lint0 = kLvtMasked, lvt_lint1 = kLvtMasked, lvt_error = kLvtMasked;
    uint32_t initial = 0, divide = 0;
    uint64_t start_ns = 0, deadline_ns = 0;  // deadline 0: not armed
    std::bitset<256> irr, isr;
    // For each vector an IPI set in IRR: who sent it and when.
    std::array<uint8_t, 256> ipi_from{};  // sender + 1; 0: not an IPI
    std::array<uint64_t, 256> ipi_sent{};
    bool wait_sipi = false;
    std::vector<Startup> startups;
    uint64_t fires = 0;
  };
  uint64_t now() const { return clock_ ? clock_() : 0; }
  uint64_t divisor(const Apic& a) const;
  uint64_t period_ns(const Apic& a) const;
  void update_timer(Apic& a, uint64_t now_ns);
  uint32_t current_count(const Apic& a, uint64_t now_ns) const;
  void send_ipi(DeviceContext& ctx, uint32_t from);
  void accept(uint32_t to, uint32_t from, Delivery mode, uint8_t vector, uint64_t sent_ns);
  static int highest(const std::bitset<256>& bits);
  uint32_t ppr(const Apic& a) const;

  std::vector<Apic> apics_;
  std::function<uint64_t()> clock_;
  uint64_t ipis_sent_ = 0;
};

}  // namespace ringscope
