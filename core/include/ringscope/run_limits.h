// run_limits.h — the run's limits, checked the same way by every backend,
// and the sentences that say which one ended a run.
//
// A limit reached is a RunResult, not an Error (backend.h): the trace is
// kept and its last event says what happened. The checks here decide
// *whether* a run ends and *with which sentence*; each backend only says
// what it counted and how to stop its CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ringscope/backend.h"
#include "ringscope/device.h"

namespace ringscope {

// How a run ends when a check says it must: the reason, the one sentence
// that says why, and the status a guest reported.
struct RunStop {
  RunEndReason end = RunEndReason::GuestExit;
  std::string message;
  int guest_status = 0;
};

// What counts against RunLimits::max_exits. Under KVM: the user-space exits.
// Under emulation nothing exits, so each device access and each event
// delivered through the IDT counts instead (each is a VM exit or an
// injection under KVM): a guest that faults in a loop makes no device
// access at all, yet must end.
struct ExitCount {
  enum class Kind : uint8_t { KvmExits, EmulatedEvents };
  Kind kind = Kind::KvmExits;
  uint64_t exits = 0;            // KvmExits
  uint64_t device_accesses = 0;  // EmulatedEvents
  uint64_t deliveries = 0;       // EmulatedEvents: exceptions, `int n` and interrupts
  static ExitCount kvm(uint64_t exits) { return {Kind::KvmExits, exits, 0, 0}; }
  static ExitCount emulated(uint64_t accesses, uint64_t deliveries) {
    return {Kind::EmulatedEvents, 0, accesses, deliveries};
  }
  uint64_t total() const { return kind == Kind::KvmExits ? exits : device_accesses + deliveries; }
};

// The watchdog stopped the run at the wall-time limit.
RunStop wall_time_stop(const RunLimits& limits);

// Trace level full: every instruction stepped counts against max_exits.
std::optional<RunStop> check_steps(uint64_t steps, const RunLimits& limits);

// The exit limit alone (an emulated delivery is checked before it happens).
std::optional<RunStop> check_exits(const ExitCount& count, const RunLimits& limits);

// After one exit (one device access under emulation), in this order: a
// limit a device ran into inside it, the guest's own exit (its status on
// the probe port or through a hypercall), the exit limit, the output limit.
std::optional<RunStop> check_after_exit(const AccessResult& access, const ExitCount& count, uint64_t console_bytes,
                                        const RunLimits& limits);

// Why a run ended when a device ran into a limit inside one exit (a
// virtqueue drain, a `rep` count): the same sentence from every backend.
std::string limit_inside_exit_message(RunEndReason reason, const RunLimits& limits);

}  // namespace ringscope
