// scenario.h — scenarios: a manifest naming a kernel and user programs, a
// description for students, the expected console output, and what the host
// must support. Built-in ones live in scenarios/<name>/scenario.json; a
// user's own scenario is any directory with a scenario.json.
// Manifest format: docs/scenarios.md.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringscope/result.h"

namespace ringscope {

struct Scenario {
  std::string name;           // "syscalls"
  std::string title;          // one line
  std::string description;    // a paragraph for students
  std::filesystem::path dir;  // the directory holding scenario.json
  // Resolved absolute paths of the guest images.
  std::filesystem::path kernel;  // kernel ELF
  // The PV build of the kernel, booted by --mode paravirt; empty: the
  // scenario has none (a kernel of its own and no "kernel_pv").
  std::filesystem::path kernel_pv;
  // The native kernel with virtio drivers and no hypercalls, booted by
  // --mode hvm-pv; empty: the scenario has none (a kernel of its own and
  // no "kernel_hvm_pv").
  std::filesystem::path kernel_hvm_pv;
  std::vector<std::filesystem::path> programs;  // user program ELFs, handed over as boot modules
  std::string kernel_args;                      // fixed part of the kernel command line
  std::map<std::string, std::string> params;    // defaults; --param k=v overrides
  std::optional<std::string> expected_output;   // console output with default params
  int expected_status = 0;                      // the guest's exit status when all went right
  // How many CPUs the scenario is meant to run on (1..8); expected_output
  // is what it prints with that many (QEMU's -smp N in the cross-check).
  int vcpus = 1;
  std::vector<std::string> requires_features;  // host features (host.h), e.g. "syscall-insn"
  // The labels of the marker phases a run emits (begin and end), as
  // templates: "{ticks}" stands for the run's value of param ticks.
  // Labs check their `between` labels against these when they load.
  std::vector<std::string> markers;
};

// The most CPUs a manifest may ask for: the teaching kernel's NCPU
// (scenarios/kernel/proc.h).
inline constexpr int kMaxScenarioVcpus = 8;

// Loads <dir>/scenario.json (or a path to the manifest itself). Errors name
// the file and the field, and say what a valid value looks like.
Result<Scenario> load_scenario(const std::filesystem::path& dir_or_manifest);
// A built-in scenario by name; the error lists the names that exist.
Result<Scenario> find_builtin_scenario(const std::string& name);
// Every built-in scenario, sorted by name.
std::vector<Scenario> builtin_scenarios();

// The kernel command line for a run: kernel_args, then every param as
// key=value (defaults overridden by `overrides`). Unknown keys in overrides
// are an error (Usage) that lists the scenario's params.
Result<std::string> build_cmdline(const Scenario& s, const std::map<std::string, std::string>& overrides);

// Where built-in manifests and built guest images are found: beside an
// installed executable, or the source and build trees (resources.h); the
// environment variables RINGSCOPE_SCENARIOS_DIR and RINGSCOPE_GUEST_DIR
// override them.
std::filesystem::path scenarios_dir();
std::filesystem::path guest_dir();

}  // namespace ringscope
