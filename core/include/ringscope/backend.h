// backend.h — the seam between a Machine and what runs it (docs/modes.md).
//
// A backend takes a Machine and an EventSink and runs until the guest exits,
// halts, fails, or a limit trips. Hitting a limit is a RunResult, not an
// Error: the trace is kept and says what happened. An Error means the run
// could not happen at all (no /dev/kvm, bad state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ringscope/event.h"
#include "ringscope/machine.h"
#include "ringscope/result.h"

namespace ringscope {

namespace vmx {
struct Profile;
}
namespace control {
class RunControl;
}

// Off records nothing (for measuring what tracing costs).
enum class TraceLevel : uint8_t { Off, Exits, Full };
std::string_view trace_level_name(TraceLevel level);

struct RunLimits {
  uint64_t wall_ms = 60'000;               // wall time for the whole run
  uint64_t max_exits = 10'000'000;         // user-space exits (or single steps at level full)
  uint64_t max_output_bytes = 4ull << 20;  // console output
};

struct RunOptions {
  TraceLevel level = TraceLevel::Exits;
  RunLimits limits;
  bool progress = false;  // a progress line on stderr (the CLI sets it for terminals)
  // Mode emulation: the VMCS controls the VT-x model applies (vmx/profile.h);
  // null means the kvm-default preset. Other backends ignore it.
  std::shared_ptr<const vmx::Profile> vmx_profile;
  // Live control (control/run_control.h: pause, step, quit; `run --qmp`):
  // every backend consults it at its checkpoints. Null: not controlled,
  // and the checkpoints cost one pointer test.
  control::RunControl* control = nullptr;
  // The host counters' sampling period (`run --host-sample-ms`, host_sampler.h);
  // 0: no host counters are recorded.
  uint64_t host_sample_ms = 10;
};

struct RunResult {
  RunEndReason end = RunEndReason::GuestExit;
  int guest_status = 0;
  std::string message;     // one sentence
  uint64_t exits = 0;      // user-space exits
  uint64_t steps = 0;      // single steps (level full)
  uint64_t wall_ns = 0;    // from start to end, paused time included
  uint64_t paused_ns = 0;  // of it, the time a QMP client kept the guest paused (stop, steps, breakpoints)
  // The time the guest ran: what per-time figures divide by.
  uint64_t running_ns() const { return wall_ns > paused_ns ? wall_ns - paused_ns : 0; }
  std::optional<GuestRegs> regs;  // captured on failures
  // What the backend could not do as asked, and what it did instead (KVM
  // refused KVM_IOEVENTFD: the notifies went to the vCPU thread). One
  // sentence; the trace records it too.
  std::string note;
  // Only a guest that reported its status succeeded. A guest halted for
  // good without one (Halted) is a failure: it hung, it did not finish.
  bool ok() const { return end == RunEndReason::GuestExit; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual Result<RunResult> run(Machine& machine, EventSink& sink, const RunOptions& options) = 0;
};

uint64_t monotonic_ns();

}  // namespace ringscope
