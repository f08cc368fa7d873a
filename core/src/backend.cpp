// backend.cpp — small shared pieces of the backend seam.
#include "ringscope/backend.h"

#include <time.h>

namespace ringscope {

std::string_view trace_level_name(TraceLevel level) {
  return level == TraceLevel::Full ? "full" : level == TraceLevel::Exits ? "exits" : "off";
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

}  // namespace ringscope
