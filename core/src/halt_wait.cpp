// halt_wait.cpp — waiting for an interrupt after HLT (halt_wait.h).
#include "ringscope/halt_wait.h"

namespace ringscope {

Wake wait_for_interrupt(Machine& machine, bool if_set, const std::atomic<bool>& stop, const SleepUntil& sleep_until) {
  if (!if_set) return Wake::IfClear;
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) return Wake::Stopped;
    if (machine.pending_irq()) return Wake::Interrupt;
    std::optional<uint64_t> deadline = machine.next_irq_deadline_ns();
    if (!deadline || !sleep_until(*deadline)) return Wake::NoWaker;
  }
}

std::string halted_message(Wake wake) {
  return wake == Wake::IfClear ? "the guest executed hlt with interrupts off (nothing can wake it)"
                               : "the guest executed hlt with nothing left to wake it";
}

}  // namespace ringscope
