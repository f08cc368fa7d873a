// report.cpp — report.md (see report.h).
#include "report.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

namespace ringscope::experiment {

namespace {

std::string cell(double v) { return fmt::format("{:.4g}", v); }

// Table cells and headings come from the spec and the guest: keep them on one line.
std::string md(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string chart_file(const Workload& w, const Measure& m) { return fmt::format("{}-{}.png", w.id, m.id); }

std::string report_markdown(const Spec& spec, const std::vector<RunRecord>& records,
                            const std::vector<Skipped>& skipped, const Provenance& prov,
                            const std::string& charts_note) {
  std::string out = fmt::format("# {}\n\n", md(spec.title));
  if (!spec.claim.empty()) out += fmt::format("**What the seed claims.** {}\n\n", spec.claim);
  if (!spec.measured.empty()) out += fmt::format("**What was measured.** {}\n\n", spec.measured);

  size_t ok = 0;
  for (const auto& r : records) ok += r.ok;
  out += fmt::format(
      "{} run(s) recorded, {} ended as the scenario expects; {} repeat(s) per point; medians, with "
      "the spread (min–max) over the repeats.\n\n",
      records.size(), ok, spec.repeat);
  for (const auto& s : skipped) out += fmt::format("- **{}** did not run here: {}\n", md(s.mode), md(s.reason));
  if (!skipped.empty()) out += "\n";
  std::set<std::string> reported;
  for (const auto& r : records)
    if (!r.ok && reported.insert(r.key.mode + r.message).second)
      out += fmt::format("- a {} run of {} at {} did not end as expected: {}\n", md(r.key.mode), md(r.key.workload),
                         r.key.value, md(r.message));

  out += "\n## Host\n\n";
  out += fmt::format(
      "| | |\n|---|---|\n| KVM flavour | {}{} |\n| CPU | {}{} |\n| CPUs | {} |\n| kernel | Linux {} |\n| load "
      "average (1, 5, 15 min) | {} at the start, {} at the end |\n| tool | ringscope {} |\n| started | {} |\n| "
      "finished | {} |\n\n",
      md(prov.kvm_flavour), prov.kvm_usable ? "" : " (/dev/kvm not usable)", md(prov.cpu_model),
      prov.cpu_is_virtual ? " (the CPU flags say \"hypervisor\": this Linux is itself a virtual machine)" : "",
      prov.cpus, md(prov.kernel_release), md(prov.load_start), md(prov.load_end), md(prov.tool_version), prov.started,
      prov.finished);
  out +=
      "Times are this host's; counts (VM exits) do not depend on its speed. On a PVM host guest ring 0 is "
      "emulated inside KVM (docs/hosts.md); `ringscope doctor` explains the flavour.\n\n";

  out += efficiency_summary(spec, records, prov);
  out += nanobench_summary(spec, records);

  auto fits = fits_of(spec, records);
  auto crossings = crossings_of(spec, records);
  for (const auto& w : spec.workloads) {
    out += fmt::format("## {} — scenario `{}`, {} swept\n\n", md(w.id), md(w.scenario), md(w.param));
    for (const auto& m : spec.measures) {
      auto series = series_of(spec, records, w.id, m.id);
      out += fmt::format("### {}\n\n", md(m.label));
      if (charts_note.empty())
        out += fmt::format("![{} of {} against {}]({})\n\n", md(m.label), md(w.id), md(w.param), chart_file(w, m));
      if (series.empty()) {
        out += "No run has a value for this measure.\n\n";
        continue;
      }
      std::set<uint64_t> xs;
      for (const auto& s : series)
        for (const auto& p : s.points) xs.insert(p.x);
      out += fmt::format("| {} |", md(w.param));
      for (const auto& s : series) out += fmt::format(" {} |", md(s.mode));
      out += "\n|---:|";
      for (size_t i = 0; i < series.size(); i++) out += "---:|";
      out += "\n";
      for (uint64_t x : xs) {
        out += fmt::format("| {} |", x);
        for (const auto& s : series) {
          auto it = std::find_if(s.points.begin(), s.points.end(), [&](const Point& p) { return p.x == x; });
          if (it == s.points.end())
            out += " – |";
          else if (it->y.min == it->y.max)
            out += fmt::format(" {} |", cell(it->y.median));
          else
            out += fmt::format(" {} ({}–{}) |", cell(it->y.median), cell(it->y.min), cell(it->y.max));
        }
        out += "\n";
      }
      out += "\n";
      // At the largest value every mode measured: each mode against the first.
      if (series.size() >= 2) {
        std::optional<uint64_t> top;
        for (uint64_t x : xs)
          if (std::all_of(series.begin(), series.end(), [&](const Series& s) {
                return std::any_of(s.points.begin(), s.points.end(), [&](const Point& p) { return p.x == x; });
              }))
            top = x;
        auto at = [&](const Series& s) {
          return std::find_if(s.points.begin(), s.points.end(), [&](const Point& p) { return p.x == *top; })->y.median;
        };
        if (top && at(series[0]) != 0) {
          out += fmt::format("- at {} = {}:", md(w.param), *top);
          for (size_t i = 1; i < series.size(); i++)
            out += fmt::format(" {} is {}× {}{}", md(series[i].mode), cell(at(series[i]) / at(series[0])),
                               md(series[0].mode), i + 1 < series.size() ? ";" : "");
          out += "\n";
        }
      }
      for (const auto& f : fits)
        if (f.workload == w.id && f.measure == m.id) {
          std::string unit = w.unit;
          out += fmt::format("- {}: total ≈ {} + {} × {} ({} points)", md(f.mode), cell(f.a), cell(f.b), md(unit),
                             f.points);
          if (f.crossover) {
            out += fmt::format("; the fixed cost equals the cost of {} {}", cell(*f.crossover), md(unit));
            if (w.kib_per_unit > 0) out += fmt::format(" ({} KiB)", cell(*f.crossover * w.kib_per_unit));
            out += ": below it set-up dominates";
          } else if (f.b <= 0) {
            out += "; no cost per unit: the fixed cost is all there is at every size measured";
          } else {
            out += "; no fixed cost to speak of: the cost per unit dominates at every size";
          }
          out += "\n";
        }
      for (const auto& c : crossings)
        if (c.workload == w.id && c.measure == m.id)
          out += fmt::format("- the {} and {} lines cross between {} = {} and {}\n", md(c.mode_a), md(c.mode_b),
                             md(w.param), c.below, c.above);
      out += "\n";
    }
  }
  if (!charts_note.empty()) out += fmt::format("Charts: not drawn ({}).\n\n", charts_note);
  out +=
      "## Files\n\n- `results.csv`: one row per run and measure (tidy; opens in a spreadsheet or pandas)\n"
      "- `results.json`: the spec, the host, every run, the medians, the fits\n"
      "- `runs.jsonl`: each run as it finished (what `--resume` reads)\n"
      "- `traces/`: every run's trace (`ringscope show`, `ringscope view`)\n\n";
  out += fmt::format("## Reproduce\n\n```sh\n{}\n```\n", prov.command);
  return out;
}

}  // namespace ringscope::experiment
