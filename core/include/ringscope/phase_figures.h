// phase_figures.h — the work phases of a trace, each with its figures: a
// closed phase labelled "<row>: <N> <unit>" ("in: 100 reads") with its time
// and its exits, callouts and world switches, counted from the events. Read
// by `compare` (cli/phase_table.h) and by `experiment`'s phase_figure
// measures (docs/experiments.md), so both give the same numbers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/trace_stats.h"

namespace ringscope {

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

// A figure of a phase by name, for specs: "ns", "exits" (those the VMM saw,
// or the VT-x model's), "kernel_exits", "all_exits" (both), "kvm_emulated",
// "callouts", "world_switches". nullopt for another name.
std::optional<double> phase_figure(const PhaseFigures& f, std::string_view name);
std::span<const std::string_view> phase_figure_names();

}  // namespace ringscope
