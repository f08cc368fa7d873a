// control_sink.h — the sink a controlled run records through: every event
// goes on to the trace, then into the control's ring of latest events
// (kept from the start, so a client that connects late sees recent history;
// fixed size), then (only while a step or breakpoint
// is armed) to RunControl::observe,
// which decides whether it pauses the guest. A run_end that only closes a
// run before `system_reset` boots the machine again is recorded as a
// marker instead ("system_reset"), so the trace keeps one run_end, last.
#pragma once

#include "ringscope/control/run_control.h"
#include "ringscope/event.h"

namespace ringscope {
class TraceWriter;
}

namespace ringscope::control {

inline constexpr std::string_view kResetMarker = "system_reset";

class ControlSink final : public EventSink {
 public:
  ControlSink(RunControl& control, EventSink& inner);
  void emit(Event& e) override;

 private:
  RunControl& control_;
  EventSink& inner_;
  TraceWriter* writer_;  // inner_ when it is the trace writer (a direct call, not a virtual one)
};

}  // namespace ringscope::control
