// report_summaries.cpp — the sections of report.md that sum an experiment
// up against a claim: efficiency against the seed's 80 % / 60 %, and the
// nanobenchmark rows against Adams & Agesen's table (report.h).
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "report.h"
#include "ringscope/nanobench_rows.h"

namespace ringscope::experiment {

namespace {

std::string cell(double v) { return fmt::format("{:.3g}", v); }

// The median (and spread) of one measure at the largest value of the
// workload that `mode` measured, with that value.
struct AtLargest {
  uint64_t x = 0;
  Spread y;
};
std::optional<AtLargest> at_largest(const Spec& spec, const std::vector<RunRecord>& records,
                                    const std::string& workload, const std::string& measure, const std::string& mode) {
  for (const auto& s : series_of(spec, records, workload, measure))
    if (s.mode == mode && !s.points.empty()) return AtLargest{s.points.back().x, s.points.back().y};
  return std::nullopt;
}

std::string spread_cell(const Spread& y, const char* unit = "") {
  if (y.min == y.max) return fmt::format("{}{}", cell(y.median), unit);
  return fmt::format("{}{} ({}–{})", cell(y.median), unit, cell(y.min), cell(y.max));
}

}  // namespace

std::string efficiency_summary(const Spec& spec, const std::vector<RunRecord>& records, const Provenance& prov) {
  auto rel =
      std::find_if(spec.measures.begin(), spec.measures.end(), [](const Measure& m) { return !m.relative_to.empty(); });
  if (spec.baseline.empty() || rel == spec.measures.end()) return "";
  std::string out = fmt::format("## Efficiency: each mode as a percentage of {}\n\n", spec.baseline);
  out += fmt::format(
      "{} ({}), at the largest size each mode ran; median over the repeats, min–max in brackets. 100 % is "
      "{} speed. The seed's figures: about 80 % for a bare-metal hypervisor, about 60 % for a hosted one.\n\n",
      rel->label, rel->id, spec.baseline);
  out += "| work | size |";
  for (const auto& m : spec.modes)
    if (m.name != spec.baseline) out += fmt::format(" {} |", m.name);
  out += "\n|---|---:|";
  for (const auto& m : spec.modes)
    if (m.name != spec.baseline) out += "---:|";
  out += "\n";
  for (const auto& w : spec.workloads) {
    std::optional<uint64_t> size;
    std::string cells;
    for (const auto& m : spec.modes) {
      if (m.name == spec.baseline) continue;
      auto a = at_largest(spec, records, w.id, rel->id, m.name);
      if (a && (!size || a->x > *size)) size = a->x;
      cells += a ? fmt::format(" {} |", spread_cell(a->y, " %")) : std::string(" – |");
    }
    out += fmt::format("| {} (`{}`) | {} |{}\n", w.id, w.scenario, size ? std::to_string(*size) : "–", cells);
  }
  out += "\n";
  // Against the seed's line: which mode and work reach 80 % and 60 %.
  std::vector<std::string> above80, above60, below;
  for (const auto& w : spec.workloads)
    for (const auto& m : spec.modes) {
      if (m.name == spec.baseline) continue;
      auto a = at_largest(spec, records, w.id, rel->id, m.name);
      if (!a) continue;
      std::string what = fmt::format("{} {} ({} %)", w.id, m.name, cell(a->y.median));
      (a->y.median >= 80 ? above80 : a->y.median >= 60 ? above60 : below).push_back(what);
    }
  auto list = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
  };
  out += fmt::format("- at or above the seed's 80 %: {}\n", list(above80));
  out += fmt::format("- between 60 % and 80 %: {}\n", list(above60));
  out += fmt::format("- below 60 %: {}\n\n", list(below));
  out +=
      "Read the rows against each other before reading them against the seed: the percentage depends on the "
      "work. User-mode compute runs on the CPU in every KVM mode and under bt, so it can approach 100 % only "
      "once the loop is long enough to hide the phase's closing system call (compare the sizes in the tables "
      "below); kernel-heavy and I/O-heavy work pays for every trap and device access.\n\n";
  if (prov.kvm_flavour == "PVM" || prov.cpu_is_virtual) {
    out += "**What the host is.** ";
    if (prov.kvm_flavour == "PVM")
      out +=
          "This host's KVM is PVM (Pagetable-based Virtual Machine): a software flavour of KVM that runs the "
          "guest's kernel deprivileged at hardware ring 3 on shadow page tables, and emulates guest ring-0 "
          "instructions in software (docs/hosts.md). It is a paravirtualised KVM, not VT-x or AMD-V: kernel-heavy "
          "work here measures PVM's instruction emulator, and a VT-x host shows far higher percentages for it. ";
    if (prov.cpu_is_virtual)
      out +=
          "The CPU flags say \"hypervisor\": this Linux is itself a virtual machine, so the native baseline is "
          "already a guest of a cloud hypervisor and the guests measured here are nested, a VM inside a VM. ";
    out += fmt::format(
        "Neither is the bare-metal or hosted hypervisor the seed describes. {} CPU(s); load average {} at the start "
        "and {} at the end (other work on the machine widens the spread).\n\n",
        prov.cpus, prov.load_start, prov.load_end);
  }
  return out;
}

std::string nanobench_summary(const Spec& spec, const std::vector<RunRecord>& records) {
  // The workloads whose phase is a row of the paper's table, in its order.
  std::vector<std::pair<const NanobenchRow*, const Workload*>> rows;
  for (const auto& r : nanobench_rows())
    for (const auto& w : spec.workloads)
      if (auto colon = w.phase.find(':'); colon != std::string::npos && w.phase.substr(0, colon) == r.name)
        rows.push_back({&r, &w});
  auto has = [&](const char* id) {
    return std::any_of(spec.measures.begin(), spec.measures.end(), [&](const Measure& m) { return m.id == id; });
  };
  if (rows.size() < 2 || !has("ns_per_op")) return "";
  auto hw = [](Technique t) {
    return t == Technique::HardwareAssist ? "hardware assist (VT-x)" : "binary translation";
  };
  std::string out = "## Beside the paper's table\n\n";
  out +=
      "Per operation at the largest n each mode ran (medians). Each cell: time, then VM exits / callouts / "
      "world switches per operation. *Paper* is the technique the project's table "
      "of the paper's rows (core/src/nanobench_rows.cpp) records as faster; no cycle counts of the paper are "
      "quoted here. Full-virt and paravirt are KVM's hardware-assisted path on this host, emulation shows what "
      "VT-x would have done (the VT-x model's exits), bt is binary translation.\n\n";
  out += "| row | paper |";
  for (const auto& m : spec.modes) out += fmt::format(" {} |", m.name);
  out += " fastest here | fewest exits + world switches |\n|---|---|";
  for (size_t i = 0; i < spec.modes.size(); i++) out += "---|";
  out += "---|---|\n";
  for (const auto& [row, w] : rows) {
    out += fmt::format("| {} | {} |", row->name, hw(row->paper_winner));
    std::string fastest = "–", fewest = "–";
    double best_ns = 0, best_cost = 0;
    for (const auto& m : spec.modes) {
      auto t = at_largest(spec, records, w->id, "ns_per_op", m.name);
      if (!t) {
        out += " – |";
        continue;
      }
      std::string c = t->y.median >= 1e6   ? fmt::format("{} ms", cell(t->y.median / 1e6))
                      : t->y.median >= 1e3 ? fmt::format("{} µs", cell(t->y.median / 1e3))
                                           : fmt::format("{} ns", cell(t->y.median));
      double cost = 0;
      std::vector<std::string> counts;
      for (const char* id : {"exits_per_op", "callouts_per_op", "world_switches_per_op"}) {
        auto a = has(id) ? at_largest(spec, records, w->id, id, m.name) : std::nullopt;
        double v = a ? a->y.median : 0;
        if (std::string_view(id) != "callouts_per_op") cost += v;
        counts.push_back(cell(v));
      }
      c += fmt::format("; {}", fmt::join(counts, " / "));
      out += fmt::format(" {} |", c);
      if (fastest == "–" || t->y.median < best_ns) {
        fastest = m.name;
        best_ns = t->y.median;
      }
      if (fewest == "–" || cost < best_cost) {
        fewest = m.name;
        best_cost = cost;
      } else if (cost == best_cost) {
        fewest += ", " + m.name;
      }
    }
    out += fmt::format(" {} | {} |\n", fastest, fewest);
  }
  out += "\n";
  for (const auto& [row, w] : rows)
    out += fmt::format("- **{}** (paper: {}): {}\n", row->name, hw(row->paper_winner), row->why);
  out +=
      "\nThe counts are what carry the paper's pattern across hosts: an exit or a world switch is a full "
      "transition between guest and monitor, a callout stays inside the monitor's own world. Times belong to "
      "this host: on a PVM host KVM emulates every guest ring-0 instruction, so the rows the kernel runs cost "
      "full-virt and paravirt microseconds where a VT-x host spends nanoseconds.\n\n";
  return out;
}

}  // namespace ringscope::experiment
