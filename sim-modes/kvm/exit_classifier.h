// exit_classifier.h — from "KVM_RUN returned" to "what happened, in VT-x terms".
//
// A plain function from an exit description to a decision (Firecracker's
// shape), so it is tested by feeding it made-up exits, no KVM needed. The
// run loop (kvm_backend.cpp) acts on the decision.
#pragma once

#include <cstdint>
#include <string_view>

#include "ringscope/event.h"

struct kvm_run;

namespace ringscope::kvm {

// The parts of struct kvm_run the classifier needs, copied out.
struct KvmExitInfo {
  uint32_t kvm_reason = 0;  // KVM_EXIT_*
  // KVM_EXIT_IO
  bool io_out = false;
  uint8_t io_size = 0;
  uint16_t io_port = 0;
  uint32_t io_count = 0;
  // KVM_EXIT_MMIO
  uint64_t mmio_gpa = 0;
  uint32_t mmio_len = 0;
  bool mmio_write = false;
  // KVM_EXIT_INTERNAL_ERROR / FAIL_ENTRY / DEBUG / SYSTEM_EVENT
  uint32_t internal_suberror = 0;
  uint64_t fail_entry_reason = 0;
  uint32_t debug_exception = 0;
  uint32_t system_event_type = 0;
};

KvmExitInfo exit_info_from(const struct kvm_run& run);

enum class ExitAction : uint8_t {
  PortIo,    // hand to the bus (port space)
  Mmio,      // hand to the bus (MMIO space)
  Halt,      // hlt: stop if nothing can wake the vCPU
  Step,      // a single-step trap (trace level full)
  Continue,  // nothing to do (interrupt window, signal)
  Stop,      // the run is over: see `end`
};

struct ExitDecision {
  ExitAction action = ExitAction::Stop;
  uint16_t vtx_reason = 0;                    // the VT-x basic exit reason this corresponds to
  RunEndReason end = RunEndReason::VmmError;  // when action == Stop
  std::string_view what;                      // one phrase for messages: "triple fault", "KVM internal error"
};

ExitDecision classify_exit(const KvmExitInfo& exit);

// The KVM_EXIT_* name, for messages ("KVM_EXIT_IO").
std::string_view kvm_exit_name(uint32_t kvm_reason);

}  // namespace ringscope::kvm
