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
#include "ringscope/trace_stats.h"

namespace ringscope::cli {

// One work phase of one run: a closed phase labelled "<row>: <N> <unit>"
// ("in: 100 reads"); every figure counts the events strictly inside it.
struct PhaseFigures {
  std::string label, row, unit;
  uint64_t ops = 0;
  uint64_t ns = 0;
  uint64_t exits = 0;           // vm_exit events: real under KVM, modelled under emulation
  uint64_t kernel_exits = 0;    // exits KVM handled itself (its kernel_exits or exits statistic)
  uint64_t emulated = 0;        // instructions KVM's own emulator ran (its insn_emulation statistic)
  uint64_t callouts = 0;        // bt_callout events (bt)
  uint64_t world_switches = 0;  // world_switch events (bt)
};

// A marker is an `out` to the probe port, and the exit (or callout) that
// carries it is recorded just before the marker itself: inside the phase an
// end marker closes. Fed every event of a trace in order, this notes which
// end markers came right after their own exit or callout, so phase_figures
// can leave that one out and a phase counts its work alone.
class MarkerExitTracker {
 public:
  void add(const Event& e);
  // The seqs of those end markers, and whether theirs was an exit (else a callout).
  const std::map<uint64_t, bool>& closing() const { return closing_; }

 private:
  std::map<uint32_t, const char*> last_;  // per vCPU: "exit", "callout" or nullptr, for the last event
  std::map<uint64_t, bool> closing_;
};

// The work phases of a trace, in the order they began.
std::vector<PhaseFigures> phase_figures(const TraceStats& st, const MarkerExitTracker& markers);

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
