// backend.cpp — small shared pieces of the backend seam.
#include "ringscope/backend.h"

#include <fmt/format.h>

#include <time.h>

namespace ringscope {

std::string_view trace_level_name(TraceLevel level) { return level == TraceLevel::Full ? "full" : level == TraceLevel::Exits ? "exits" : "off"; }

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

std::string limit_inside_exit_message(RunEndReason reason, const RunLimits& limits) {
  switch (reason) {
    case RunEndReason::WatchdogOutput:
      return fmt::format(
          "the guest wrote more than {} bytes of console output, the limit (reached inside one exit; "
          "the device stopped there)",
          limits.max_output_bytes);
    case RunEndReason::WatchdogTime:
      return fmt::format(
          "the guest ran past the wall-time limit of {} ms (reached inside one exit; the device "
          "stopped there)",
          limits.wall_ms);
    default: return "a run limit was reached inside one exit";
  }
}

}  // namespace ringscope
