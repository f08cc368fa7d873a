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
};

}  // namespace ringscope::viewer
