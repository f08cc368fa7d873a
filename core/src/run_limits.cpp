// run_limits.cpp — the run's limits and their sentences (run_limits.h).
#include "ringscope/run_limits.h"

#include <fmt/format.h>

namespace ringscope {

namespace {
std::string exit_limit_message(const ExitCount& c) {
  if (c.kind == ExitCount::Kind::KvmExits) return fmt::format("the guest caused {} exits, the limit", c.exits);
  return fmt::format(
      "the guest made {} device accesses and took {} exceptions and interrupts (each a VM exit or an injection "
      "under KVM), the limit",
      c.device_accesses, c.deliveries);
}
}  // namespace

RunStop wall_time_stop(const RunLimits& limits) {
  return {RunEndReason::WatchdogTime, fmt::format("the guest ran past the wall-time limit of {} ms", limits.wall_ms)};
}

std::optional<RunStop> check_steps(uint64_t steps, const RunLimits& limits) {
  if (steps < limits.max_exits) return std::nullopt;
  return RunStop{RunEndReason::WatchdogExits,
                 fmt::format("the guest executed {} instructions, the limit at trace level full", steps)};
}

std::optional<RunStop> check_exits(const ExitCount& count, const RunLimits& limits) {
  if (count.total() < limits.max_exits) return std::nullopt;
  return RunStop{RunEndReason::WatchdogExits, exit_limit_message(count)};
}

std::optional<RunStop> check_after_exit(const AccessResult& access, const ExitCount& count, uint64_t console_bytes,
                                        const RunLimits& limits) {
  if (access.limit_hit) return RunStop{*access.limit_hit, limit_inside_exit_message(*access.limit_hit, limits)};
  if (access.guest_exit)
    return RunStop{RunEndReason::GuestExit, fmt::format("the guest reported exit status {}", access.guest_status),
                   access.guest_status};
  if (auto stop = check_exits(count, limits)) return stop;
  if (console_bytes > limits.max_output_bytes)
    return RunStop{
        RunEndReason::WatchdogOutput,
        fmt::format("the guest wrote more than {} bytes of console output, the limit", limits.max_output_bytes)};
  return std::nullopt;
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
