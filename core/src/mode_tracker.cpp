// mode_tracker.cpp — CR0/CR4/EFER change tracking (mode_tracker.h).
#include "ringscope/mode_tracker.h"

namespace ringscope {

void ModeTracker::observe(EventSink& sink, uint64_t time_ns, uint32_t vcpu, Source source, uint64_t cr0,
                          uint64_t cr4, uint64_t efer, uint64_t rip) {
  if (!changed(cr0, cr4, efer)) return;
  Event m;
  m.time_ns = time_ns;
  m.vcpu = vcpu;
  m.kind = EventKind::ModeChange;
  m.source = source;
  m.prev_cr0 = cr0_, m.prev_cr4 = cr4_, m.prev_efer = efer_;
  m.cr0 = cr0, m.cr4 = cr4, m.efer = efer;
  m.rip = rip;
  sink.emit(m);
  cr0_ = cr0, cr4_ = cr4, efer_ = efer;
}

}  // namespace ringscope
