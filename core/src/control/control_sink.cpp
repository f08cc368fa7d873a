// control_sink.cpp — ControlSink (control_sink.h).
#include "ringscope/control/control_sink.h"

namespace ringscope::control {

void ControlSink::emit(Event& e) {
  if (e.kind == EventKind::RunEnd && control_.resetting()) {
    Event m = events::marker({e.time_ns, e.vcpu, Source::Vmm}, MarkerPhase::Point, kResetMarker);
    inner_.emit(m);
    control_.ring().push(m);
    e.seq = m.seq;
    return;
  }
  inner_.emit(e);
  control_.ring().push(e);
  if (control_.armed()) control_.observe(e);
}

}  // namespace ringscope::control
