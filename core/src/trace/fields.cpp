// fields.cpp — per-kind field order and the reference history shared by the
// chunk encoder and decoder.
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

Fields default_fields() {
  const Event e{};
  Fields f{};
  f.v[kSource] = static_cast<uint64_t>(e.source);
  f.v[kPhase] = static_cast<uint64_t>(e.phase);
  f.v[kEndReason] = static_cast<uint64_t>(e.end_reason);
  return f;
}

void History::reset() {
  const Fields d = default_fields();
  for (int ki = 0; ki < kEventKindCount; ++ki) {
    for (int i = 0; i < kHistoryDepth; ++i) order_[ki][i] = static_cast<uint8_t>(ki * kHistoryDepth + i);
    pool_[order_[ki][0]] = d;
    count_[ki] = 1;
  }
  spare_ = kPoolSize - 1;
}

void History::commit(EventKind kind, int found) {
  const auto ki = k(kind);
  auto& order = order_[ki];
  int from;  // position whose pool entry becomes the new spare
  if (found >= 0) {
    from = found;
  } else if (count_[ki] < kHistoryDepth) {
    from = count_[ki]++;  // an unused entry of this kind
  } else {
    from = kHistoryDepth - 1;  // the oldest
  }
  const uint8_t freed = order[from];
  for (int i = from; i > 0; --i) order[i] = order[i - 1];
  order[0] = spare_;
  spare_ = freed;
}

uint64_t changed_fields(const Fields& a, const Fields& b) {
  // Runs on every emit(). Fully unrolled, the compares are independent and
  // the shifts constant; an SSE2 version measured no faster (the 16-byte
  // loads stall on the 8-byte stores that just filled the scratch entry).
  uint64_t changed = 0;
#pragma GCC unroll 64
  for (int f = 0; f < kFieldCount; ++f) changed |= static_cast<uint64_t>(a.v[f] != b.v[f]) << f;
  return changed;
}

}  // namespace ringscope::trace
