// mode_tracker.h — CR0/CR4/EFER change tracking, the same for every backend.
//
// A `mode_change` event records the control registers before and after
// (real → protected → long mode, paging on, PAE, NXE, ...). Backends see the
// registers at different moments (KVM at each exit, the emulator at each
// transition and device access), so each asks the tracker whenever it has
// them; the tracker records an event only when they differ from what the
// trace last recorded.
#pragma once

#include <cstdint>

#include "ringscope/boot.h"
#include "ringscope/event.h"

namespace ringscope {

class ModeTracker {
 public:
  // The registers the guest starts with: the first change is measured
  // against the boot state, which is not an event of its own.
  void reset(const BootState& boot) { cr0_ = boot.cr0, cr4_ = boot.cr4, efer_ = boot.efer; }
  bool changed(uint64_t cr0, uint64_t cr4, uint64_t efer) const { return cr0 != cr0_ || cr4 != cr4_ || efer != efer_; }
  // Records a mode_change (at `rip`, the guest's RIP when it was seen) if
  // the registers changed, and remembers them.
  void observe(EventSink& sink, uint64_t time_ns, uint32_t vcpu, Source source, uint64_t cr0, uint64_t cr4,
               uint64_t efer, uint64_t rip);

 private:
  uint64_t cr0_ = 0, cr4_ = 0, efer_ = 0;
};

}  // namespace ringscope
