// native_run.h — a scenario's user program run as a plain host process: the
// "native" baseline of `ringscope experiment efficiency` (docs/experiments.md).
//
// The program is the host build of the same source (scenarios/user/host/:
// the SDK's system calls mapped onto Linux, built by CMake next to the guest
// images). Its markers are timed with CLOCK_MONOTONIC in the process and
// written to a trace holding only those markers and a run_end, so the
// experiment's queries (span_ns between a phase's markers) read a native run
// exactly as they read a guest's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "ringscope/result.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

// The host build of a scenario's program: <guest dir>/host/<name>.
std::filesystem::path host_program(const Scenario& s);

// Why the scenario cannot run natively here, or "": it must be one user
// program (no kernel task) whose host build exists.
std::string native_refusal(const Scenario& s);

struct NativeRequest {
  const Scenario* scenario = nullptr;
  std::map<std::string, std::string> params;  // as --param: override the scenario's defaults
  std::filesystem::path trace_path;           // the markers, as a trace
  std::filesystem::path console_path;         // the program's standard output
  uint64_t wall_ms = 120'000;                 // killed after this long
};

struct NativeOutcome {
  bool status_as_expected = false;
  int status = -1;  // exit status, or -1 when killed
  std::string message;
};

// Runs the program and writes its trace. An error is the host's (no such
// program, cannot spawn, cannot write); a program that fails is an outcome.
Result<NativeOutcome> run_native(const NativeRequest& req);

}  // namespace ringscope::cli
