// phase_table.cpp — `compare`'s table of work phases (phase_table.h).
//
// [SECTION] figures   the work phases of one trace, then medians per mode
// [SECTION] the table per phase: time and counts per operation in each mode
// [SECTION] the paper row by row: its winner, the fastest mode here, and why
#include "phase_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "ringscope/event.h"
#include "ringscope/i18n.h"
#include "ringscope/nanobench_rows.h"
#include "ringscope/terminal_text.h"
#include "table_numbers.h"

namespace ringscope::cli {

namespace {

// ---- [SECTION] figures --------------------------------------------------------

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

std::vector<PhaseSummary> summarize_phases(const std::vector<std::vector<PhaseFigures>>& runs) {
  std::vector<PhaseSummary> out;
  if (runs.empty()) return out;
  for (const PhaseFigures& first : runs.front()) {
    PhaseSummary s;
    s.label = first.label;
    s.row = first.row;
    s.unit = first.unit;
    s.ops = first.ops;
    std::vector<double> ns, exits, kernel, emulated, callouts, switches;
    for (const auto& run : runs)
      for (const PhaseFigures& f : run)
        if (f.label == first.label) {
          double ops = double(f.ops);
          ns.push_back(double(f.ns) / ops);
          exits.push_back(double(f.exits) / ops);
          kernel.push_back(double(f.kernel_exits) / ops);
          emulated.push_back(double(f.emulated) / ops);
          callouts.push_back(double(f.callouts) / ops);
          switches.push_back(double(f.world_switches) / ops);
          break;  // the first instance in each run, as in the first run
        }
    s.ns_median = median(ns);
    s.ns_min = *std::min_element(ns.begin(), ns.end());
    s.ns_max = *std::max_element(ns.begin(), ns.end());
    s.exits = median(exits);
    s.kernel_exits = median(kernel);
    s.emulated = median(emulated);
    s.callouts = median(callouts);
    s.world_switches = median(switches);
    out.push_back(std::move(s));
  }
  return out;
}

// ---- [SECTION] the table --------------------------------------------------------

namespace {

constexpr int kLabel = 40, kCol = 22;

const PhaseSummary* find_phase(const PhaseColumn& c, const std::string& label) {
  for (const auto& p : c.phases)
    if (p.label == label) return &p;
  return nullptr;
}

std::string singular(const std::string& unit) { return unit.ends_with("s") ? unit.substr(0, unit.size() - 1) : unit; }

// A row of figures, or nothing when every column shows 0 (or has no such phase).
// `figure` returns a number, or nullopt where the mode has no such figure ("-").
template <typename Figure>
void count_row(const std::vector<PhaseColumn>& cols, const std::string& label, const std::string& title,
               Figure figure) {
  std::vector<std::string> cells;
  bool any = false;
  for (const auto& c : cols) {
    const PhaseSummary* p = find_phase(c, label);
    if (!p) {
      cells.emplace_back("-");
      continue;
    }
    std::optional<double> v = figure(c, *p);
    any = any || v.value_or(0) > 0;
    cells.push_back(v ? fixed_figure(*v) : std::string("-"));
  }
  if (!any) return;
  fmt::print("{:<{}}", "  " + title, kLabel);
  for (const auto& cell : cells) fmt::print("{:>{}}", cell, kCol);
  fmt::print("\n");
}

// The mode with the least time per operation for this phase, or nullptr.
const PhaseColumn* fastest(const std::vector<PhaseColumn>& cols, const std::string& label) {
  const PhaseColumn* best = nullptr;
  double best_ns = 0;
  for (const auto& c : cols)
    if (const PhaseSummary* p = find_phase(c, label); p && p->ns_median > 0 && (!best || p->ns_median < best_ns)) {
      best = &c;
      best_ns = p->ns_median;
    }
  return best;
}

// `text` cut into lines of at most `width` characters, each after `indent`.
void print_wrapped(std::string_view text, size_t width, std::string_view indent) {
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    std::string_view word = text.substr(start, space == std::string_view::npos ? text.npos : space - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      fmt::print("{}{}\n", indent, line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (!line.empty()) fmt::print("{}{}\n", indent, line);
}

}  // namespace

void print_phase_table(const std::vector<PhaseColumn>& cols, KvmFlavour flavour) {
  const PhaseColumn* widest = nullptr;
  for (const auto& c : cols)
    if (!widest || c.phases.size() > widest->phases.size()) widest = &c;
  if (!widest || widest->phases.size() < 2) return;

  trprint(stdout, "\nper operation, phase by phase (medians, (min-max) where it varies)\n\n");
  fmt::print("{:<{}}", "", kLabel);
  for (const auto& c : cols) fmt::print("{:>{}}", mode_name(c.mode), kCol);
  fmt::print("\n");
  bool modelled = false;
  for (const PhaseSummary& ph : widest->phases) {
    std::string unit = singular(ph.unit);
    fmt::print("{}\n", escape_terminal(ph.label));
    fmt::print("{:<{}}", "  " + trf("time per {}", escape_terminal(unit)), kLabel);
    for (const auto& c : cols) {
      const PhaseSummary* p = find_phase(c, ph.label);
      fmt::print("{:>{}}", p && p->ns_median > 0 ? duration_spread_text(p->ns_median, p->ns_min, p->ns_max) : "-",
                 kCol);
    }
    fmt::print("\n");
    using Figure = std::optional<double>;
    // KVM's own statistics exist only where KVM ran the guest.
    auto kvm = [](const PhaseColumn& c, double v) { return mode_needs_kvm(c.mode) ? Figure(v) : std::nullopt; };
    count_row(cols, ph.label, trf("VM exits per {}", escape_terminal(unit)),
              [](const PhaseColumn&, const PhaseSummary& p) { return Figure(p.exits + p.kernel_exits); });
    count_row(cols, ph.label, tr("  of them inside KVM"),
              [&](const PhaseColumn& c, const PhaseSummary& p) { return kvm(c, p.kernel_exits); });
    count_row(cols, ph.label, trf("instructions KVM emulated per {}", escape_terminal(unit)),
              [&](const PhaseColumn& c, const PhaseSummary& p) { return kvm(c, p.emulated); });
    count_row(cols, ph.label, trf("callouts per {}", escape_terminal(unit)),
              [](const PhaseColumn&, const PhaseSummary& p) { return Figure(p.callouts); });
    count_row(cols, ph.label, trf("world switches per {}", escape_terminal(unit)),
              [](const PhaseColumn&, const PhaseSummary& p) { return Figure(p.world_switches); });
  }
  for (const auto& c : cols) modelled = modelled || c.modelled;
  if (modelled)
    trprint(stdout,
            "\nVM exits under emulation are what VT-x would have done (the VT-x model); under KVM they are real:\n"
            "the ones the VMM saw, plus those KVM handled itself (its statistics, sampled at each VMM exit).\n"
            "A marker's own exit is not counted in the phase it closes.\n");

  // ---- [SECTION] the paper row by row ---------------------------------------------
  bool any_row = false;
  for (const PhaseSummary& ph : widest->phases) {
    const NanobenchRow* row = find_nanobench_row(ph.row);
    if (!row) continue;
    if (!any_row) trprint(stdout, "\nthe paper's pattern, row by row (Adams & Agesen, ASPLOS 2006)\n");
    any_row = true;
    const PhaseColumn* best = fastest(cols, ph.label);
    fmt::print("\n");
    trprint(stdout, "{}: in the paper {} is faster; fastest here: {}\n", escape_terminal(ph.row),
            technique_name(row->paper_winner), best ? std::string(mode_name(best->mode)) : std::string("-"));
    print_wrapped(tr(row->why), 100, "  ");
    if (flavour == KvmFlavour::Pvm && row->pvm) print_wrapped(trf("On this PVM host: {}", tr(row->pvm)), 100, "  ");
  }
  if (any_row && flavour == KvmFlavour::Pvm)
    trprint(stdout,
            "\nThis host's KVM is PVM (docs/hosts.md): it emulates the guest's ring-0 code in software, so every\n"
            "row the kernel runs costs full-virt and paravirt microseconds per instruction, and emulation often\n"
            "wins on time. The counts per operation are what carry the paper's pattern here.\n");
}

nlohmann::json phases_json(const std::vector<PhaseSummary>& phases) {
  using nlohmann::json;
  json out = json::array();
  for (const PhaseSummary& p : phases)
    out.push_back(json{{"label", p.label},
                       {"row", p.row},
                       {"ops", p.ops},
                       {"unit", p.unit},
                       {"per_op_ns", json{{"median", p.ns_median}, {"min", p.ns_min}, {"max", p.ns_max}}},
                       {"exits_per_op", p.exits},
                       {"kernel_exits_per_op", p.kernel_exits},
                       {"kvm_emulated_instructions_per_op", p.emulated},
                       {"callouts_per_op", p.callouts},
                       {"world_switches_per_op", p.world_switches}});
  return out;
}

}  // namespace ringscope::cli
