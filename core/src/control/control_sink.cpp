// control_sink.cpp — ControlSink (control_sink.h).
#include "ringscope/control/control_sink.h"

#include "ringscope/trace.h"

namespace ringscope::control {

ControlSink::ControlSink(RunControl& control, EventSink& inner)
    : control_(control), inner_(inner), writer_(dynamic_cast<TraceWriter*>(&inner)) {}

void ControlSink::emit(Event& e) {
  if (e.kind == EventKind::RunEnd && control_.resetting()) {
    Event m = events::marker({e.time_ns, e.vcpu, Source::Vmm}, MarkerPhase::Point, kResetMarker);
    inner_.emit(m);
    control_.ring().push(m);
    e.seq = m.seq;
    return;
  }
  if (writer_)
    writer_->emit(e);
  else
    inner_.emit(e);
  // The fast path: no client, nothing armed (one relaxed load).
  const uint32_t hooks = control_.hooks();
  if (hooks == 0) [[likely]]
    return;
  if (hooks >= RunControl::kObserver) control_.ring().push(e);
  if (hooks & RunControl::kArmed) control_.observe(e);
}

}  // namespace ringscope::control
