// mode_tracker.cpp — CR0/CR4/EFER change tracking (mode_tracker.h).
#include "ringscope/mode_tracker.h"

namespace ringscope {

void ModeTracker::observe(EventSink& sink, uint64_t time_ns, uint32_t vcpu, Source source, uint64_t cr0, uint64_t cr4,
                          uint64_t efer, uint64_t rip) {
  if (!changed(cr0, cr4, efer)) return;
  Event m = events::mode_change({time_ns, vcpu, source}, rip, {cr0_, cr4_, efer_}, {cr0, cr4, efer});
  sink.emit(m);
  cr0_ = cr0, cr4_ = cr4, efer_ = efer;
}

}  // namespace ringscope
