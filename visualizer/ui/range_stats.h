// range_stats.h — View's cache of compute_stats over the visible time range
// (internal to the UI; its own header so View.cpp can destroy it).
#pragma once

#include <cstdint>

#include "ringscope/trace_stats.h"
#include "ui/View.h"

namespace ringscope::viewer {

struct View::RangeStats {
  int trace = -1;
  double t0 = 0, t1 = 0;
  TraceStats stats;
  bool capped = false;  // the range held more events than the cap; stats cover the first ones
  // KVM's counters (kvm-stats) over the range: their growth from the last
  // sample before it to the last one inside it. `samples` counts the
  // samples inside; with none, `around` is the growth of kernel_exits
  // between the samples just before and just after the range (at `before_ns`
  // and `after_ns`, absolute; 0 / UINT64_MAX when there is none).
  size_t samples = 0;
  uint64_t before_ns = 0, after_ns = UINT64_MAX;
  uint64_t around = 0;
};

}  // namespace ringscope::viewer
