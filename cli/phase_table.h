// phase_table.h — `compare`'s table of work phases, for a scenario that has
// several (nanobench): per phase and mode, the time and the exits, callouts
// and world switches per operation, all counted from the trace's events; for
// the rows of Adams & Agesen's table, which technique the paper found faster,
// which mode is fastest here, and why (nanobench_rows.h, docs/compare.md).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "ringscope/host.h"
#include "ringscope/mode.h"
#include "ringscope/phase_figures.h"
#include "ringscope/trace_stats.h"

namespace ringscope::cli {

// One phase of one mode: per operation, medians over the runs (the time
// also with its min and max).
struct PhaseSummary {
  std::string label, row, unit;
  uint64_t ops = 0;
  double ns_median = 0, ns_min = 0, ns_max = 0;
  double exits = 0, kernel_exits = 0, emulated = 0, callouts = 0, world_switches = 0;
};
// `runs`: each run's phase_figures. A phase is listed when the first run
// has it; runs without it do not count towards its medians.
std::vector<PhaseSummary> summarize_phases(const std::vector<std::vector<PhaseFigures>>& runs);

struct PhaseColumn {
  Mode mode = Mode::FullVirt;
  bool modelled = false;  // exits come from the VT-x model (emulation)
  std::vector<PhaseSummary> phases;
};

// The table, then the paper's pattern row by row; prints nothing unless some
// column has at least two phases. `flavour`: this host's KVM, for the notes
// on what a PVM host changes.
void print_phase_table(const std::vector<PhaseColumn>& cols, KvmFlavour flavour);

// The phases as JSON for `compare --json`: one object per phase.
nlohmann::json phases_json(const std::vector<PhaseSummary>& phases);

}  // namespace ringscope::cli
