// fields.cpp — the per-kind field order shared by the chunk encoder and
// decoder.
#include "fields.h"

#include <initializer_list>

namespace ringscope::trace {
namespace {

// The hot fields of each kind, most volatile first. Every other field
// follows in Field order, so any field of any kind can still be encoded.
KindOrder make_order(std::initializer_list<Field> hot) {
  KindOrder o{};
  std::array<bool, kFieldCount> used{};
  int bit = 0;
  for (Field f : hot) {
    o.field_at[bit] = f;
    o.bit_of[f] = static_cast<uint8_t>(bit++);
    used[f] = true;
  }
  for (int f = 0; f < kFieldCount; ++f) {
    if (used[f]) continue;
    o.field_at[bit] = static_cast<uint8_t>(f);
    o.bit_of[f] = static_cast<uint8_t>(bit++);
  }
  return o;
}

const std::array<KindOrder, kEventKindCount> kOrders = {
    // vm_exit: value, duration and rip change between exits; the rest mostly not.
    make_order({kValue, kDuration, kRip, kPort, kDirection, kSize, kCount, kGpa, kLength, kReason, kHandledBy,
                kCpl, kVcpu, kSource}),
    make_order({kRip, kRipTo, kVector, kErrorCode, kCr2, kHasErrorCode, kFromCpl, kToCpl, kCause, kCpl, kVcpu,
                kSource}),                                                              // trap
    make_order({kRip, kRipTo, kFromCpl, kToCpl, kCause, kCpl, kVcpu, kSource}),        // trap_return
    make_order({kNumber, kArg0, kArg1, kResult, kArg2, kArg3, kRip, kTransport, kDuration, kCpl, kVcpu,
                kSource}),                                                              // hypercall
    make_order({kValue, kDuration, kReg, kDirection, kDevice, kSize, kCount, kVcpu, kSource}),  // device
    make_order({kVector, kVcpu, kSource}),                                              // irq_inject
    make_order({kCr0, kCr4, kEfer, kPrevCr0, kPrevCr4, kPrevEfer, kRip, kVcpu, kSource}),  // mode_change
    make_order({kRip, kText, kCpl, kVcpu, kSource}),                                    // step
    make_order({kValue, kName, kVcpu, kSource}),                                        // counter
    make_order({kText, kVcpu, kSource}),                                                // output
    make_order({kName, kPhase, kValue, kGpa, kVcpu, kSource}),                          // marker
    make_order({kEndReason, kText, kValue, kRegs, kVcpu, kSource}),                     // run_end
};

}  // namespace

const KindOrder& kind_order(EventKind kind) { return kOrders[static_cast<size_t>(kind)]; }

}  // namespace ringscope::trace
