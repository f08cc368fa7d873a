// lapic.cpp — the local APICs (lapic.h): registers, the timer, IPIs.
#include "ringscope/devices/lapic.h"

#include <algorithm>

#include "ringscope/events.h"

namespace ringscope {

namespace {
constexpr uint32_t kVectorMask = 0xff;
constexpr uint32_t kIcrDeliveryShift = 8;
constexpr uint32_t kIcrDestLogical = 1u << 11;
constexpr uint32_t kIcrLevelAssert = 1u << 14;
constexpr uint32_t kIcrTriggerLevel = 1u << 15;
constexpr uint32_t kIcrShorthandShift = 18;
constexpr uint32_t kIcrWritable = 0x000ccfff;  // vector, delivery, dest mode, level, trigger, shorthand
constexpr uint32_t kTimerModeShift = 17;       // 0 one-shot, 1 periodic, 2 TSC-deadline (not modelled)
constexpr uint32_t kLvtWritable = 0x000700ff;  // vector, mask, timer mode (others: their delivery mode too)
constexpr uint32_t kLintWritable = 0x0001a7ff;
constexpr uint32_t kBroadcast = 0xff;
// ESR bits (SDM Vol. 3A Figure 10-9).
constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;

enum Shorthand : uint32_t { kNoShorthand = 0, kSelf = 1, kAllIncludingSelf = 2, kAllExcludingSelf = 3 };
}  // namespace

LocalApics::LocalApics(int vcpus, std::function<uint64_t()> clock_ns)
    : apics_(static_cast<size_t>(std::max(vcpus, 1))), clock_(std::move(clock_ns)) {
  for (size_t i = 1; i < apics_.size(); i++) apics_[i].wait_sipi = true;
  apics_[0].lvt_lint0 = static_cast<uint32_t>(Delivery::ExtInt) << kIcrDeliveryShift;  // virtual wire
  apics_[0].lvt_lint1 = static_cast<uint32_t>(Delivery::Nmi) << kIcrDeliveryShift;
}

std::string_view LocalApics::register_name(uint64_t offset, Direction) const {
  switch (offset & ~0xfull) {
    case kId: return "ID";
    case kVersion: return "VER";
    case kTpr: return "TPR";
    case kPpr: return "PPR";
    case kEoi: return "EOI";
    case kLdr: return "LDR";
    case kDfr: return "DFR";
    case kSvr: return "SVR";
    case kEsr: return "ESR";
    case kIcrLow: return "ICR";
    case kIcrHigh: return "ICR_HI";
    case kLvtTimer: return "LVT_TIMER";
    case kLvtPerf: return "LVT_PERF";
    case kLvtLint0: return "LVT_LINT0";
    case kLvtLint1: return "LVT_LINT1";
    case kLvtError: return "LVT_ERROR";
    case kTimerInitial: return "TIMER_INITIAL";
    case kTimerCurrent: return "TIMER_CURRENT";
    case kTimerDivide: return "TIMER_DIVIDE";
    default: break;
  }
  if (offset >= kIsr && offset < kTmr) return "ISR";
  if (offset >= kIrr && offset < kEsr) return "IRR";
  return {};
}

int LocalApics::highest(const std::bitset<256>& bits) {
  for (int v = 255; v >= 0; v--)
    if (bits[static_cast<size_t>(v)]) return v;
  return -1;
}

// Processor priority (SDM §10.8.3.1): the higher of the task priority and
// the class of the highest vector in service.
uint32_t LocalApics::ppr(const Apic& a) const {
  int isrv = highest(a.isr);
  uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) & 0xf0;
  return (a.tpr & 0xf0) >= isr_class ? a.tpr & 0xff : isr_class;
}

// Divide configuration bits 3, 1, 0 (SDM Figure 10-10): 000 = 2 ... 110 =
// 128, 111 = 1.
uint64_t LocalApics::divisor(const Apic& a) const {
  uint32_t code = ((a.divide >> 1) & 4) | (a.divide & 3);
  return code == 7 ? 1 : 2ull << code;
}

uint64_t LocalApics::period_ns(const Apic& a) const {
  uint64_t p = uint64_t{a.initial} * divisor(a);  // at most 2^32 * 128: no overflow
  bool periodic = ((a.lvt_timer >> kTimerModeShift) & 3) == 1;
  return periodic ? std::max(p, kMinPeriodNs) : p;
}

// Brings the timer up to now: an expiry sets its vector in IRR (unless
// masked, or the vector is illegal) and, periodic, re-arms it at the next
// period (periods missed meanwhile merge into one, as IRR merges them).
void LocalApics::update_timer(Apic& a, uint64_t now_ns) {
  if (a.deadline_ns == 0 || now_ns < a.deadline_ns) return;
  uint32_t vector = a.lvt_timer & kVectorMask;
  if (!(a.lvt_timer & kLvtMasked)) {
    if (vector < 16) {
      a.esr_pending |= kEsrReceiveIllegalVector;
    } else {
      a.irr.set(vector);
      a.ipi_from[vector] = 0;
    }
  }
  a.fires++;
  bool periodic = ((a.lvt_timer >> kTimerModeShift) & 3) == 1;
  if (!periodic) {
    a.deadline_ns = 0;
    return;
  }
  uint64_t period = period_ns(a);
  uint64_t missed = (now_ns - a.deadline_ns) / period + 1;
  a.deadline_ns += missed * period;
}

uint32_t LocalApics::current_count(const Apic& a, uint64_t now_ns) const {
  if (a.initial == 0 || a.deadline_ns == 0 || now_ns >= a.deadline_ns) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>((a.deadline_ns - now_ns) / divisor(a), a.initial));
}

uint64_t LocalApics::read(DeviceContext& ctx, uint64_t offset, uint8_t) {
  if (ctx.vcpu >= apics_.size() || (offset & 0xf)) return 0;  // registers are 32-bit, 16-byte aligned
  Apic& a = apics_[ctx.vcpu];
  uint64_t t = now();
  update_timer(a, t);
  auto bits = [](const std::bitset<256>& b, uint64_t word) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < 32; i++)
      if (b[word * 32 + i]) v |= 1u << i;
    return v;
  };
  switch (offset) {
    case kId: return uint64_t{ctx.vcpu} << 24;
    case kVersion: return kVersionValue;
    case kTpr: return a.tpr;
    case kPpr: return ppr(a);
    case kLdr: return a.ldr;
    case kDfr: return a.dfr;
    case kSvr: return a.svr;
    case kEsr: return a.esr;
    case kIcrLow: return a.icr_low;  // delivery status (bit 12) always idle: delivery is immediate
    case kIcrHigh: return a.icr_high;
    case kLvtTimer: return a.lvt_timer;
    case kLvtThermal: return a.lvt_thermal;
    case kLvtPerf: return a.lvt_perf;
    case kLvtLint0: return a.lvt_lint0;
    case kLvtLint1: return a.lvt_lint1;
    case kLvtError: return a.lvt_error;
    case kTimerInitial: return a.initial;
    case kTimerCurrent: return current_count(a, t);
    case kTimerDivide: return a.divide;
    default: break;
  }
  if (offset >= kIsr && offset < kTmr) return bits(a.isr, (offset - kIsr) / 16);
  if (offset >= kIrr && offset < kEsr) return bits(a.irr, (offset - kIrr) / 16);
  return 0;
}

void LocalApics::write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  if (ctx.vcpu >= apics_.size() || (offset & 0xf)) return;
  Apic& a = apics_[ctx.vcpu];
  auto v = static_cast<uint32_t>(value);
  uint64_t t = now();
  update_timer(a, t);
  if (offset != kIcrLow)  // the ICR's event carries the destination too (send_ipi)
    ctx.trace_device("lapic", register_name(offset, Direction::Write), Direction::Write, v, width);
  switch (offset) {
    case kTpr: a.tpr = v & 0xff; break;
    case kEoi: {
      int v_in = highest(a.isr);
      if (v_in >= 0) a.isr.reset(static_cast<size_t>(v_in));
      break;
    }
    case kLdr: a.ldr = v & 0xff000000; break;
    case kDfr: a.dfr = v | 0x0fffffff; break;
    case kSvr: a.svr = v & 0x3ff; break;
    case kEsr:  // a write latches the errors since the last one
      a.esr = a.esr_pending;
      a.esr_pending = 0;
      break;
    case kIcrHigh: a.icr_high = v & 0xff000000; break;
    case kIcrLow:
      a.icr_low = v & kIcrWritable;
      send_ipi(ctx, ctx.vcpu);
      break;
    case kLvtTimer: {
      uint32_t old_mode = (a.lvt_timer >> kTimerModeShift) & 3;
      a.lvt_timer = v & kLvtWritable;
      if (((a.lvt_timer >> kTimerModeShift) & 3) != old_mode) a.deadline_ns = 0;  // a mode change stops it
      break;
    }
    case kLvtThermal: a.lvt_thermal = v & kLintWritable; break;
    case kLvtPerf: a.lvt_perf = v & kLintWritable; break;
    case kLvtLint0: a.lvt_lint0 = v & kLintWritable; break;
    case kLvtLint1: a.lvt_lint1 = v & kLintWritable; break;
    case kLvtError: a.lvt_error = v & kLvtWritable; break;
    case kTimerInitial:
      // Writing the initial count (re)starts the timer; 0 stops it.
      a.initial = v;
      a.start_ns = t;
      a.deadline_ns = v == 0 ? 0 : t + std::max<uint64_t>(period_ns(a), 1);
      break;
    case kTimerDivide: a.divide = v & 0xb; break;
    default: break;  // read-only or reserved: ignored
  }
}

// The ICR low write sends: to whom (shorthand, or ICR high's destination,
// physical; 0xff broadcasts), and what (fixed vector, INIT, STARTUP).
void LocalApics::send_ipi(DeviceContext& ctx, uint32_t from) {
  Apic& a = apics_[from];
  uint64_t t = ctx.event_time();
  if (ctx.sink) {
    Event e = events::device({t, ctx.vcpu, Source::Vmm}, "lapic", "ICR", Direction::Write,
                             (uint64_t{a.icr_high} << 32) | a.icr_low, 4);
    ctx.sink->emit(e);
  }
  auto mode = static_cast<Delivery>((a.icr_low >> kIcrDeliveryShift) & 7);
  auto vector = static_cast<uint8_t>(a.icr_low & kVectorMask);
  if (mode == Delivery::Init && !(a.icr_low & kIcrLevelAssert) && (a.icr_low & kIcrTriggerLevel))
    return;  // INIT level de-assert: nothing on current CPUs (SDM §10.6.1)
  if ((mode == Delivery::Fixed || mode == Delivery::Lowest) && vector < 16) {
    a.esr_pending |= kEsrSendIllegalVector;
    return;
  }
  if (mode != Delivery::Fixed && mode != Delivery::Lowest && mode != Delivery::Init && mode != Delivery::Startup)
    return;  // SMI, NMI, ExtINT, reserved: not modelled, nothing delivered
  ipis_sent_++;
  uint32_t shorthand = (a.icr_low >> kIcrShorthandShift) & 3;
  uint32_t dest = a.icr_high >> 24;
  bool logical = a.icr_low & kIcrDestLogical;
  for (uint32_t to = 0; to < apics_.size(); to++) {
    bool hit = false;
    switch (shorthand) {
      case kSelf: hit = to == from; break;
      case kAllIncludingSelf: hit = true; break;
      case kAllExcludingSelf: hit = to != from; break;
      default:
        // Logical destinations: the flat model (LDR bit i for CPU i).
        hit = logical ? (apics_[to].ldr >> 24) & dest : dest == kBroadcast || dest == to;
        break;
    }
    if (hit) accept(to, from, mode, vector, t);
  }
}

void LocalApics::accept(uint32_t to, uint32_t from, Delivery mode, uint8_t vector, uint64_t sent_ns) {
  Apic& a = apics_[to];
  if (mode == Delivery::Init) {
    if (to == 0) return;  // the boot CPU is not reset by INIT here (it would lose the run)
    uint64_t fires = a.fires;
    a = Apic{};
    a.fires = fires;
    a.wait_sipi = true;
    a.startups.push_back({mode, 0, from, sent_ns});
    return;
  }
  if (mode == Delivery::Startup) {
    if (!a.wait_sipi) return;  // already running: a second STARTUP is ignored
    a.wait_sipi = false;
    a.startups.push_back({mode, vector, from, sent_ns});
    return;
  }
  a.irr.set(vector);
  a.ipi_from[vector] = static_cast<uint8_t>(from + 1);
  a.ipi_sent[vector] = sent_ns;
}

std::vector<LocalApics::Startup> LocalApics::take_startups(uint32_t cpu) {
  std::vector<Startup> out;
  if (cpu < apics_.size()) out.swap(apics_[cpu].startups);
  return out;
}

std::optional<uint8_t> LocalApics::pending(uint32_t cpu) {
  if (cpu >= apics_.size()) return std::nullopt;
  Apic& a = apics_[cpu];
  update_timer(a, now());
  int v = highest(a.irr);
  if (v < 0) return std::nullopt;
  if ((static_cast<uint32_t>(v) & 0xf0) <= (ppr(a) & 0xf0)) return std::nullopt;
  return static_cast<uint8_t>(v);
}

bool LocalApics::accepts_pic(uint32_t cpu) const {
  if (cpu >= apics_.size()) return false;
  uint32_t lint0 = apics_[cpu].lvt_lint0;
  return !(lint0 & kLvtMasked) && ((lint0 >> kIcrDeliveryShift) & 7) == static_cast<uint32_t>(Delivery::ExtInt);
}

LocalApics::Taken LocalApics::acknowledge(uint32_t cpu) {
  Taken t;
  auto v = pending(cpu);
  if (!v) return t;
  Apic& a = apics_[cpu];
  a.irr.reset(*v);
  a.isr.set(*v);
  t.vector = *v;
  if (a.ipi_from[*v]) {
    t.ipi = true;
    t.from = a.ipi_from[*v] - 1u;
    t.sent_ns = a.ipi_sent[*v];
    a.ipi_from[*v] = 0;
  }
  return t;
}

std::optional<uint64_t> LocalApics::next_deadline_ns(uint32_t cpu) const {
  if (cpu >= apics_.size()) return std::nullopt;
  const Apic& a = apics_[cpu];
  if (a.deadline_ns == 0 || (a.lvt_timer & kLvtMasked)) return std::nullopt;
  return a.deadline_ns;
}

}  // namespace ringscope
