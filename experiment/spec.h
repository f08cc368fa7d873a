// spec.h — an experiment as data: which scenarios to run, over which swept
// parameter values, in which modes, how many times, and what to measure in
// each run's trace (the lab checker's query language, labs/checker/lab.h).
//
// The spec is a small JSON file (docs/experiments.md); the built-in ones
// (pv-io, emulation-vs-kvm) are the same JSON, kept in builtin.cpp. This
// file knows nothing of running guests: `ringscope experiment`
// (cli/cmd_experiment.cpp) runs the grid.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checker/lab.h"
#include "ringscope/result.h"

namespace ringscope::experiment {

// One scenario swept over one of its params.
struct Workload {
  std::string id;        // how results name it ("console")
  std::string scenario;  // a built-in scenario or a scenario directory
  std::string param;     // the swept param ("bytes")
  std::vector<uint64_t> values;
  std::string unit;         // what one step of the param is, for axes ("bytes", "writes")
  double kib_per_unit = 0;  // KiB one unit moves (bytes: 1/1024, sectors: 0.5); 0: not an amount of data
  std::string phase;        // the work phase's marker template ("console-write: {bytes} bytes")
};

// One run mode: a mode name, with an optional device set ("emulation:virtio")
// and an optional I/O path ("hvm-pv+offload": run --io offload).
// "native" is no guest at all: the scenario's program built for the host and
// run as a plain process (cli/native_run.h), the baseline of `efficiency`.
struct ModeSpec {
  std::string name;     // as written in the spec, and in results
  std::string mode;     // full-virt, paravirt, emulation, bt, hvm-pv, native
  std::string devices;  // "", legacy, virtio
  std::string io;       // "", offload
};
inline constexpr std::string_view kNativeMode = "native";

// One number taken from every run, from one of three sources:
//  - query: the lab checker's query over the trace (divided by divide_by);
//  - phase_figure: a figure of the phase as `compare` counts it
//    (ringscope/phase_figures.h: "ns", "all_exits", "callouts", ...);
//  - relative_to: the spec's baseline run's value of another measure (same
//    workload, value and repeat) divided by this run's: native time / guest
//    time is the guest's efficiency.
// Then divided by the swept value or its KiB with "per", times scale.
struct Measure {
  std::string id;            // column name ("exits_per_kib")
  std::string label;         // axis text ("VM exits per KiB")
  labs::Query query;         // when neither of the two below
  std::string phase_figure;  // a phase figure's name
  std::string relative_to;   // a measure's id (computed by apply_baseline, results.h)
  std::optional<labs::Query> divide_by;
  std::string per;  // "", "unit" (the swept value) or "kib" (the value times kib_per_unit)
  double scale = 1;
  bool log_y = false;  // the chart's y axis is logarithmic
};

struct Spec {
  std::string name;
  std::string title;
  std::string claim;     // what the seed claims (a paragraph for the report)
  std::string measured;  // what the experiment measures, and how to read it
  std::vector<Workload> workloads;
  std::vector<ModeSpec> modes;
  // A mode to run instead where the host cannot run one of `modes` (no
  // usable /dev/kvm): "full-virt" -> "emulation" keeps the comparison's
  // device sets and its exit counts (the VT-x model's) on any host.
  std::map<std::string, ModeSpec> fallback_modes;
  // The mode every relative_to measure is taken against ("native").
  std::string baseline;
  int repeat = 3;
  std::string level = "exits";
  double timeout_s = 120;
  std::vector<Measure> measures;
  // A fit of each measure's raw total (before "per") against the swept
  // value: fixed cost a + b per unit, and the value a/b where the fixed
  // set-up stops dominating. Named measures only.
  std::vector<std::string> fit;
  std::string source;  // the spec's JSON text, as read (results.json keeps it)
};

// Parses a spec; a BadData error names `file` and the key that is wrong.
Result<Spec> parse_spec(const std::string& json_text, const std::string& file);

// A built-in experiment by name, or a spec file (a name with '/' or ending
// in .json). NoInput error when there is neither.
Result<Spec> load_spec(const std::string& name_or_file);

struct BuiltinExperiment {
  std::string_view name;
  std::string_view json;
};
const std::vector<BuiltinExperiment>& builtin_experiments();
// efficiency and nanobench (builtin_overhead.cpp), listed by builtin_experiments().
std::vector<BuiltinExperiment> overhead_experiments();
// The spec of the built-in `cloud` (builtin_cloud.cpp).
std::string_view cloud_experiment_spec();

// The marker label of a workload's phase for one value of its param.
Result<std::string> phase_label(const Workload& w, uint64_t value);

}  // namespace ringscope::experiment
