// halt_wait.h — HLT in ring 0: waiting for an interrupt, the same for every
// backend.
//
// The CPU sleeps until an interrupt it may take arrives (SDM Vol. 2A, HLT).
// With IF clear nothing can wake it; with no timer running nothing will
// either, since a device raises its line only when the guest touches it
// (every device finishes its work before the access that started it
// returns). Otherwise the wait lasts until the machine's timer is next due.
// What differs between backends is only the clock that the wait passes:
// host time under KVM (the thread sleeps), guest time under emulation (the
// clock jumps to the deadline).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "ringscope/machine.h"

namespace ringscope {

enum class Wake : uint8_t {
  Interrupt,  // one is pending: deliver it, the guest goes on after the HLT
  Stopped,    // the watchdog asked the run to end (the loop reports it)
  IfClear,    // halted for good: interrupts are off
  NoWaker,    // halted for good: nothing is left that could raise one
};

// Passes time until `deadline_ns` on the machine's timer clock. Returns
// false if it never will (the caller's clock cannot reach it).
using SleepUntil = std::function<bool(uint64_t deadline_ns)>;

Wake wait_for_interrupt(Machine& machine, bool if_set, const std::atomic<bool>& stop, const SleepUntil& sleep_until);

// The sentence for a run that ends halted for good (IfClear, NoWaker).
std::string halted_message(Wake wake);

}  // namespace ringscope
