// cmd_compare.cpp — `ringscope compare`: one scenario in every mode this host
// can run, several times each, side by side (docs/compare.md).
//
// [SECTION] running        modes to try, why one is skipped, N runs each into DIR
// [SECTION] figures        per run from compute_stats (StatsBuilder), then median/min/max
// [SECTION] the table      text for people, JSON for scripts
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "backends.h"
#include "commands.h"
#include "phase_table.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/mode.h"
#include "ringscope/supervisor.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"
#include "ringscope/vmx/profile.h"
#include "session.h"
#include "table_numbers.h"

namespace ringscope::cli {

namespace {

struct CompareArgs {
  std::string target;
  std::string modes;
  int repeat = 3;
  std::vector<std::string> params;
  bool json = false;
  std::string dir;
  std::string vmx_profile = "kvm-default";
  double timeout_s = 120;
  std::string level = "exits";  // full: single-step the KVM runs too, so traps and ring transitions are counted
};

// ---- [SECTION] figures --------------------------------------------------------

// The figures of one run, read back from its trace through StatsBuilder
// (compute_stats one event at a time).
struct RunFigures {
  std::filesystem::path trace;
  bool ok = false;
  std::string message;
  uint64_t wall_ns = 0;
  uint64_t work_ns = 0;                // the work phase (see work_phase), 0 if the trace has none
  std::map<uint16_t, uint64_t> exits;  // by reason
  uint64_t exits_total = 0, exits_vmm = 0, exits_kernel = 0, kernel_only = 0;
  uint64_t work_exits = 0;
  uint64_t traps = 0, ring_transitions = 0;
  std::optional<uint64_t> instructions;
  std::optional<uint64_t> vcpu_cpu_ns;  // CPU time the host gave the vCPU's thread
  std::string profile;                  // the vmx-model profile named by the trace's marker
  std::vector<PhaseFigures> phases;     // every work phase (phase_table.h)
};

struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread spread_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {med, v.front(), v.back()};
}

// The phase that is the scenario's work: a marker label "<what>: <N> <unit>"
// ("syscalls: 16 writes", "io-burst: 4096 bytes"). Its N is the number of
// operations, so time and exits per operation come from it.
struct WorkPhase {
  std::string label;
  uint64_t ops = 0;
  std::string unit;
  // KiB one operation moves, for units that are amounts of data (bytes,
  // 512-byte sectors); 0 for the others (writes, syscalls).
  double kib_per_op() const { return unit == "bytes" ? 1.0 / 1024 : unit == "sectors" ? 0.5 : 0.0; }
};
std::optional<WorkPhase> work_phase(const TraceStats& st) {
  for (const auto& p : st.phases) {
    if (!p.closed) continue;
    if (const auto w = parse_work_label(p.label)) return WorkPhase{p.label, w->count, std::string(w->unit)};
  }
  return std::nullopt;
}

Result<RunFigures> figures_of(const SessionOutcome& o, std::optional<WorkPhase>& work) {
  RunFigures f;
  f.trace = o.trace_path;
  f.ok = o.status_as_expected;
  f.message = o.result.ok() ? trf("guest status {}", o.result.guest_status) : o.result.message;
  f.wall_ns = o.result.wall_ns;
  StatsBuilder builder;
  TraceHeader header;
  ReadSummary summary;
  MarkerExitTracker markers;
  TRY(for_each_event(
      o.trace_path.string(), {},
      [&](const Event& e) {
        builder.add(e);
        markers.add(e);
        if (e.kind == EventKind::Counter && e.source == Source::Emulator && e.name == "instructions")
          f.instructions = e.value;
        if (e.kind == EventKind::Counter && e.source == Source::Vmm && e.name == kCounterVcpuThreadCpuNs)
          f.vcpu_cpu_ns = e.value;
        if (e.kind == EventKind::Marker && e.source == Source::VmxModel && e.name.starts_with("vmx-profile "))
          f.profile = std::string(e.name.substr(12));
        return true;
      },
      &header, &summary));
  TraceStats st = builder.finish(header, summary.complete, summary.warning);
  for (const auto& r : st.exits) f.exits[r.reason] = r.count;
  f.exits_total = st.vm_exits;
  f.exits_vmm = st.exits_vmm;
  f.exits_kernel = st.exits_kernel;
  f.kernel_only = st.kernel_only_exits;
  f.traps = st.trap_count;
  f.ring_transitions = st.ring_transitions;
  f.phases = phase_figures(st, markers);
  if (!work) work = work_phase(st);
  if (work)
    for (const auto& p : st.phases)
      if (p.label == work->label && p.closed) {
        f.work_ns = p.duration_ns();
        f.work_exits = p.vm_exits;
        break;
      }
  return f;
}

// ---- [SECTION] running --------------------------------------------------------

struct ModeResult {
  Mode mode = Mode::FullVirt;
  bool skipped = false;
  std::string reason;     // why skipped, or why a run failed
  bool modelled = false;  // exits come from the VT-x model (emulation)
  std::vector<RunFigures> runs;
};

// Why `mode` cannot run `s` here, or "" when it can.
std::string refusal(const ModeInfo& mode, const Scenario& s, const HostInfo& host) {
  if (mode.needs_kvm && !host.kvm_openable)
    return trf("needs /dev/kvm, which this host cannot open ({})", host.kvm_open_error);
  if (mode.needs_kvm)
    for (const auto& f : s.requires_features) {
      std::string why = kvm_refusal(host, f);
      if (!why.empty()) return why;
    }
  auto kernel = kernel_for_mode(mode.name, s);
  if (!kernel.ok()) return kernel.error().message;
  return "";
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

Result<std::vector<Mode>> parse_modes(const std::string& text) {
  std::vector<Mode> out;
  if (text.empty()) {
    for (const auto& m : modes())
      if (auto mode = mode_from_name(m.name)) out.push_back(*mode);
    return out;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::optional<Mode> m = mode_from_name(name);
    if (m && !find_mode(name)) return mode_not_in_table(name);
    if (!m)
      return make_error(ErrorKind::Usage, trf("unknown mode '{}' in --modes; the modes are {} "
                                              "(comma-separated)",
                                              name, mode_choices()));
    if (std::find(out.begin(), out.end(), *m) == out.end()) out.push_back(*m);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// ---- [SECTION] the table ------------------------------------------------------

std::string with_spread(const Spread& s) { return duration_spread_text(s.median, s.min, s.max); }

// A cell that shows nothing measured: "-", "0", "0 / 0". A row of only these
// in every mode is left out of the table.
bool shows_nothing(const std::string& cell) { return cell.find_first_not_of("0 /.,-") == std::string::npos; }

struct Summary {
  Spread wall, work, per_op;
  std::map<uint16_t, double> exits;  // median per reason
  double exits_total = 0, exits_vmm = 0, exits_kernel = 0, kernel_only = 0, work_exits = 0;
  double traps = 0, ring_transitions = 0;
  std::optional<double> instructions;
  Spread vcpu_cpu;  // ns; median 0: not recorded
  int ok_runs = 0;
  std::vector<PhaseSummary> phases;  // every work phase, per operation (phase_table.h)
};

Summary summarize(const ModeResult& m, const std::optional<WorkPhase>& work) {
  Summary s;
  std::vector<double> wall, w, per, tot, vmm, ker, ko, we, tr, rt, ins, cpu;
  std::map<uint16_t, std::vector<double>> by;
  for (const auto& r : m.runs) {
    if (r.ok) s.ok_runs++;
    wall.push_back(double(r.wall_ns));
    if (r.work_ns) w.push_back(double(r.work_ns));
    if (r.work_ns && work && work->ops) per.push_back(double(r.work_ns) / double(work->ops));
    tot.push_back(double(r.exits_total));
    vmm.push_back(double(r.exits_vmm));
    ker.push_back(double(r.exits_kernel));
    ko.push_back(double(r.kernel_only));
    we.push_back(double(r.work_exits));
    tr.push_back(double(r.traps));
    rt.push_back(double(r.ring_transitions));
    if (r.instructions) ins.push_back(double(*r.instructions));
    if (r.vcpu_cpu_ns) cpu.push_back(double(*r.vcpu_cpu_ns));
  }
  for (const auto& r : m.runs)
    for (const auto& [reason, _] : r.exits) by[reason];
  for (auto& [reason, v] : by) {
    for (const auto& r : m.runs) v.push_back(r.exits.count(reason) ? double(r.exits.at(reason)) : 0.0);
    s.exits[reason] = spread_of(v).median;
  }
  s.wall = spread_of(wall);
  s.work = spread_of(w);
  s.per_op = spread_of(per);
  s.exits_total = spread_of(tot).median;
  s.exits_vmm = spread_of(vmm).median;
  s.exits_kernel = spread_of(ker).median;
  s.kernel_only = spread_of(ko).median;
  s.work_exits = spread_of(we).median;
  s.traps = spread_of(tr).median;
  s.ring_transitions = spread_of(rt).median;
  if (!ins.empty()) s.instructions = spread_of(ins).median;
  s.vcpu_cpu = spread_of(cpu);
  std::vector<std::vector<PhaseFigures>> phases;
  for (const auto& r : m.runs) phases.push_back(r.phases);
  s.phases = summarize_phases(phases);
  return s;
}

// The basis of emulation / full-virt when the traces have no work phase
// (also the JSON's value, which stays English).
constexpr const char* kWallTimeBasis = N_("wall time");

struct Ratios {
  std::optional<double> emulation_over_kvm;  // work time (or wall time without a work phase)
  std::string emulation_over_kvm_basis;      // the work phase's label, or kWallTimeBasis
  std::map<Mode, double> exits_per_op;
  std::optional<double> pv_over_fv_exits_per_kib, pv_over_fv_time_per_kib;
  std::map<Mode, double> exits_per_kib, us_per_kib;
};

Ratios ratios_of(const std::vector<ModeResult>& results, const std::map<Mode, Summary>& sums,
                 const std::optional<WorkPhase>& work) {
  Ratios r;
  auto has = [&](Mode m) { return sums.count(m) && sums.at(m).wall.median > 0; };
  if (has(Mode::Emulation) && has(Mode::FullVirt)) {
    const Summary &e = sums.at(Mode::Emulation), &k = sums.at(Mode::FullVirt);
    if (work && e.work.median > 0 && k.work.median > 0) {
      r.emulation_over_kvm = e.work.median / k.work.median;
      r.emulation_over_kvm_basis = work->label;
    } else {
      r.emulation_over_kvm = e.wall.median / k.wall.median;
      r.emulation_over_kvm_basis = kWallTimeBasis;
    }
  }
  for (const auto& m : results) {
    if (m.skipped || !sums.count(m.mode) || !work || !work->ops) continue;
    const Summary& s = sums.at(m.mode);
    r.exits_per_op[m.mode] = s.work_exits / double(work->ops);
    if (double kib = double(work->ops) * work->kib_per_op(); kib > 0) {
      r.exits_per_kib[m.mode] = s.work_exits / kib;
      if (s.work.median > 0) r.us_per_kib[m.mode] = s.work.median / 1e3 / kib;
    }
  }
  auto pv_over_fv = [](const std::map<Mode, double>& v) -> std::optional<double> {
    if (!v.count(Mode::Paravirt) || !v.count(Mode::FullVirt) || v.at(Mode::FullVirt) <= 0) return std::nullopt;
    return v.at(Mode::Paravirt) / v.at(Mode::FullVirt);
  };
  r.pv_over_fv_exits_per_kib = pv_over_fv(r.exits_per_kib);
  r.pv_over_fv_time_per_kib = pv_over_fv(r.us_per_kib);
  return r;
}

void print_table(const std::string& scenario, const std::vector<ModeResult>& results,
                 const std::map<Mode, Summary>& sums, const std::optional<WorkPhase>& work, const Ratios& ratios,
                 int repeat, const std::filesystem::path& dir, TraceLevel level, KvmFlavour flavour) {
  std::vector<const ModeResult*> ran;
  for (const auto& m : results)
    if (!m.skipped) ran.push_back(&m);
  constexpr int kLabel = 36, kCol = 28;
  // n/a: the trace level cannot see it. Under KVM the guest runs on the CPU:
  // traps and ring transitions are seen only when single-stepping (level
  // full), instructions only by the emulator.
  const std::string kNa = tr("n/a *");
  bool used_na = false;
  auto na = [&] {
    used_na = true;
    return kNa;
  };
  auto blind = [&](const ModeResult& m) { return !m.modelled && level != TraceLevel::Full; };
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  std::vector<std::string> dropped;
  auto row = [&](const std::string& label, auto cell) {
    std::vector<std::string> cells;
    bool nothing = true;
    for (auto* m : ran) {
      cells.push_back(cell(*m, sums.at(m->mode)));
      nothing = nothing && shows_nothing(cells.back());
    }
    if (nothing && !ran.empty()) {
      size_t first = label.find_first_not_of(' ');
      dropped.push_back(first == std::string::npos ? label : label.substr(first));
      return;
    }
    rows.emplace_back(label, std::move(cells));
  };
  std::string unit;  // one operation of the work phase: "write", "byte"
  if (work) unit = work->unit.ends_with("s") ? work->unit.substr(0, work->unit.size() - 1) : work->unit;
  row(tr("runs as expected"),
      [&](const ModeResult& m, const Summary& s) { return fmt::format("{}/{}", s.ok_runs, m.runs.size()); });
  row(tr("wall time"), [](const ModeResult&, const Summary& s) { return with_spread(s.wall); });
  if (work) {
    row(fmt::format("'{}'", escape_terminal(work->label)),
        [](const ModeResult&, const Summary& s) { return s.work.median > 0 ? with_spread(s.work) : std::string("-"); });
    row(trf("time per {}", escape_terminal(unit)), [](const ModeResult&, const Summary& s) {
      return s.per_op.median > 0 ? with_spread(s.per_op) : std::string("-");
    });
    if (work->kib_per_op() > 0)
      row(tr("time per KiB"), [&](const ModeResult& m, const Summary&) {
        return ratios.us_per_kib.count(m.mode) ? duration_text(ratios.us_per_kib.at(m.mode) * 1e3) : std::string("-");
      });
  }
  row(tr("VM exits"), [](const ModeResult& m, const Summary& s) {
    return fmt::format("{} {}", count_text(s.exits_total), m.modelled ? tr("(modelled)") : tr("(real)"));
  });
  std::set<uint16_t> reasons;
  for (const auto& [_, s] : sums)
    for (const auto& [r, __] : s.exits) reasons.insert(r);
  for (uint16_t reason : reasons)
    row(fmt::format("  {:>2} {}", reason, exit_reason_name(reason)), [&](const ModeResult&, const Summary& s) {
      return s.exits.count(reason) ? count_text(s.exits.at(reason)) : std::string("0");
    });
  row(tr("  to the VMM / in the kernel"), [](const ModeResult&, const Summary& s) {
    return fmt::format("{} / {}", count_text(s.exits_vmm), count_text(s.exits_kernel + s.kernel_only));
  });
  if (work)
    row(trf("  exits to the VMM per {}", escape_terminal(unit)), [&](const ModeResult& m, const Summary&) {
      return ratios.exits_per_op.count(m.mode) ? fixed_figure(ratios.exits_per_op.at(m.mode)) : std::string("-");
    });
  if (work && work->kib_per_op() > 0)
    row(tr("  exits per KiB"), [&](const ModeResult& m, const Summary&) {
      return ratios.exits_per_kib.count(m.mode) ? fixed_figure(ratios.exits_per_kib.at(m.mode)) : std::string("-");
    });
  row(tr("traps"), [&](const ModeResult& m, const Summary& s) { return blind(m) ? na() : count_text(s.traps); });
  row(tr("ring transitions"),
      [&](const ModeResult& m, const Summary& s) { return blind(m) ? na() : count_text(s.ring_transitions); });
  // The VM seen from the host: a thread the scheduler gives CPU time to.
  row(tr("host CPU, vCPU thread"), [](const ModeResult&, const Summary& s) {
    return s.vcpu_cpu.median > 0 ? with_spread(s.vcpu_cpu) : std::string("-");
  });
  row(tr("instructions executed"), [&](const ModeResult& m, const Summary& s) {
    return s.instructions ? count_text(*s.instructions) : !m.modelled ? na() : std::string("-");
  });

  trprint(stdout, "{} — {} run(s) per mode; medians, (min-max) where it varies\n\n", escape_terminal(scenario), repeat);
  fmt::print("{:<{}}", "", kLabel);
  for (auto* m : ran) fmt::print("{:>{}}", mode_name(m->mode), kCol);
  fmt::print("\n");
  for (const auto& [label, cells] : rows) {
    fmt::print("{:<{}}", label, kLabel);
    for (const auto& c : cells) fmt::print("{:>{}}", c, kCol);
    fmt::print("\n");
  }
  if (used_na)
    trprint(stdout,
            "\n* n/a: this trace level cannot see it. Under KVM the guest runs on the CPU: traps and ring\n"
            "  transitions are seen only with --level full, instructions only by the emulator.");
  if (!dropped.empty()) {
    std::string list;
    for (const auto& d : dropped) list += (list.empty() ? "" : ", ") + d;
    trprint(stdout, "\nleft out (0 or - in every mode): {}", list);
  }
  for (const auto& m : results)
    if (m.skipped) trprint(stdout, "\n{}: skipped — {}", mode_name(m.mode), escape_terminal(m.reason));
  for (auto* m : ran)
    if (m->modelled && !m->runs.empty() && !m->runs.front().profile.empty())
      trprint(stdout, "\n{}: exits are what VT-x would have done (vmx-model, profile {})", mode_name(m->mode),
              escape_terminal(m->runs.front().profile));
  trprint(stdout, "\n\nratios\n");
  if (ratios.emulation_over_kvm)
    trprint(stdout, "  emulation / full-virt time ({}): {}\n",
            ratios.emulation_over_kvm_basis == kWallTimeBasis ? std::string(tr(kWallTimeBasis))
                                                              : escape_terminal(ratios.emulation_over_kvm_basis),
            ratio_text(*ratios.emulation_over_kvm));
  // The textbook has emulation far slower than hardware virtualization; on a
  // PVM host KVM itself emulates the guest's ring-0 code, so it can invert.
  if (ratios.emulation_over_kvm && *ratios.emulation_over_kvm < 1 && flavour == KvmFlavour::Pvm)
    trprint(stdout,
            "  (emulation is faster here: this host's KVM is PVM, which emulates ring-0 guest code in software;\n"
            "   on VT-x or AMD-V it is the other way round, docs/hosts.md)\n");
  for (const auto& [mode, v] : ratios.exits_per_op)
    trprint(stdout, "  {} exits to the VMM per {}: {}\n", mode_name(mode),
            work ? escape_terminal(unit) : std::string("op"), fixed_figure(v));
  for (const auto& [mode, v] : ratios.exits_per_kib)
    trprint(stdout, "  {} exits per KiB: {}\n", mode_name(mode), fixed_figure(v));
  if (ratios.pv_over_fv_exits_per_kib)
    trprint(stdout, "  paravirt / full-virt exits per KiB: {} (full-virt makes {} as many)\n",
            fixed_figure(*ratios.pv_over_fv_exits_per_kib),
            ratio_text(*ratios.pv_over_fv_exits_per_kib > 0 ? 1 / *ratios.pv_over_fv_exits_per_kib : 0.0));
  if (ratios.pv_over_fv_time_per_kib)
    trprint(stdout, "  paravirt / full-virt time per KiB: {} (full-virt takes {} as long)\n",
            fixed_figure(*ratios.pv_over_fv_time_per_kib),
            ratio_text(*ratios.pv_over_fv_time_per_kib > 0 ? 1 / *ratios.pv_over_fv_time_per_kib : 0.0));
  if (!ratios.emulation_over_kvm && ratios.exits_per_op.empty())
    trprint(stdout, "  (need two modes and a work phase)\n");
  std::vector<PhaseColumn> cols;
  for (auto* m : ran) cols.push_back({m->mode, m->modelled, sums.at(m->mode).phases});
  print_phase_table(cols, flavour);
  trprint(stdout, "\ntraces in {}\n", escape_terminal(dir.string()));
}

std::string to_json(const std::string& scenario, const std::map<std::string, std::string>& params, int repeat,
                    const std::filesystem::path& dir, const std::vector<ModeResult>& results,
                    const std::map<Mode, Summary>& sums, const std::optional<WorkPhase>& work, const Ratios& ratios) {
  using nlohmann::json;
  auto sp = [](const Spread& s) { return json{{"median", s.median}, {"min", s.min}, {"max", s.max}}; };
  json j;
  j["scenario"] = scenario;
  j["params"] = params;
  j["repeat"] = repeat;
  j["dir"] = dir.string();
  j["work_phase"] = work ? json{{"label", work->label}, {"ops", work->ops}, {"unit", work->unit}} : json(nullptr);
  json modes = json::array();
  for (const auto& m : results) {
    json jm;
    jm["mode"] = mode_name(m.mode);
    if (m.skipped) {
      jm["status"] = "skipped";
      jm["reason"] = m.reason;
      modes.push_back(jm);
      continue;
    }
    const Summary& s = sums.at(m.mode);
    jm["status"] = s.ok_runs == int(m.runs.size()) ? "ok" : "failed";
    jm["exits_source"] = m.modelled ? "vmx-model" : "kvm";
    if (m.modelled && !m.runs.empty()) jm["vmx_profile"] = m.runs.front().profile;
    json runs = json::array();
    for (const auto& r : m.runs) {
      json jr{{"trace", r.trace.string()}, {"ok", r.ok},           {"message", r.message},
              {"wall_ns", r.wall_ns},      {"work_ns", r.work_ns}, {"exits", r.exits_total}};
      if (r.instructions) jr["instructions"] = *r.instructions;
      runs.push_back(jr);
    }
    jm["runs"] = runs;
    jm["wall_ns"] = sp(s.wall);
    jm["work_ns"] = sp(s.work);
    jm["per_op_ns"] = sp(s.per_op);
    json by = json::object();
    for (const auto& [r, v] : s.exits) by[exit_reason_name(r)] = v;
    jm["exits"] = json{{"total", s.exits_total},       {"vmm", s.exits_vmm}, {"kernel", s.exits_kernel},
                       {"kernel_only", s.kernel_only}, {"by_reason", by},    {"in_work_phase", s.work_exits}};
    jm["traps"] = s.traps;
    jm["ring_transitions"] = s.ring_transitions;
    jm["instructions"] = s.instructions ? json(*s.instructions) : json(nullptr);
    jm["vcpu_thread_cpu_ns"] = s.vcpu_cpu.median > 0 ? json(s.vcpu_cpu.median) : json(nullptr);
    jm["phases"] = phases_json(s.phases);
    modes.push_back(jm);
  }
  j["modes"] = modes;
  json jr;
  jr["emulation_over_full_virt_time"] = ratios.emulation_over_kvm ? json(*ratios.emulation_over_kvm) : json(nullptr);
  jr["emulation_over_full_virt_basis"] = ratios.emulation_over_kvm_basis;
  auto by_mode = [](const std::map<Mode, double>& v) {
    json o = json::object();
    for (const auto& [mode, x] : v) o[std::string(mode_name(mode))] = x;
    return o;
  };
  jr["exits_per_op"] = by_mode(ratios.exits_per_op);
  jr["exits_per_kib"] = by_mode(ratios.exits_per_kib);
  jr["time_per_kib_us"] = by_mode(ratios.us_per_kib);
  jr["paravirt_over_full_virt_time_per_kib"] =
      ratios.pv_over_fv_time_per_kib ? json(*ratios.pv_over_fv_time_per_kib) : json(nullptr);
  jr["paravirt_over_full_virt_exits_per_kib"] =
      ratios.pv_over_fv_exits_per_kib ? json(*ratios.pv_over_fv_exits_per_kib) : json(nullptr);
  j["ratios"] = jr;
  // Labels and messages come from guests: invalid UTF-8 replaced, C1 controls escaped.
  return json_terminal_safe(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "\n";
}

int do_compare(const CompareArgs& a) {
  if (a.repeat < 1 || a.repeat > 100)
    return report_error("compare", make_error(ErrorKind::Usage, tr("--repeat must be between 1 and 100")));
  auto mode_names = parse_modes(a.modes);
  if (!mode_names.ok()) return report_error("compare", mode_names.error());
  auto params = parse_params(a.params);
  if (!params.ok()) return report_error("compare", params.error());
  auto profile = vmx::load_profile(a.vmx_profile);
  if (!profile.ok()) return report_error("compare", profile.error());
  auto shared_profile = std::make_shared<const vmx::Profile>(std::move(profile).value());

  bool slash = a.target.find('/') != std::string::npos;
  auto scenario = slash ? load_scenario(a.target) : find_builtin_scenario(a.target);
  if (!scenario.ok()) return report_error("compare", scenario.error());
  auto cmdline = build_cmdline(scenario.value(), params.value());
  if (!cmdline.ok()) return report_error("compare", cmdline.error());

  namespace fs = std::filesystem;
  fs::path dir = a.dir.empty() ? fs::path(fmt::format("compare-{}", sanitize(scenario->name))) : fs::path(a.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return report_error("compare",
                        make_error(ErrorKind::IoError, trf("cannot create {}: {}", dir.string(), ec.message())));
  bool progress = isatty(STDERR_FILENO);
  HostInfo host = probe_host();
  std::vector<ModeResult> results;
  std::optional<WorkPhase> work;
  int total = 0, done = 0;
  for (Mode mode : mode_names.value())
    if (refusal(*find_mode(mode_name(mode)), scenario.value(), host).empty()) total += a.repeat;
  for (Mode mode : mode_names.value()) {
    const std::string_view name = mode_name(mode);
    ModeResult m;
    m.mode = mode;
    m.modelled = mode == Mode::Emulation;
    std::string why = refusal(*find_mode(name), scenario.value(), host);
    if (!why.empty()) {
      m.skipped = true;
      m.reason = why;
      results.push_back(std::move(m));
      continue;
    }
    for (int i = 1; i <= a.repeat; i++) {
      if (progress)
        trprint(stderr, "\rringscope compare: {} run {}/{} ({} of {} runs)\033[K", name, i, a.repeat, ++done, total);
      SessionRequest req;
      req.target = a.target;
      req.params = params.value();
      req.mode = name;
      req.trace_path = dir / fmt::format("{}.{}.{}.rtrace", sanitize(scenario->name), name, i);
      req.echo_console = false;
      req.options.limits.wall_ms = static_cast<uint64_t>(a.timeout_s * 1000);
      req.options.level = a.level == "full" ? TraceLevel::Full : TraceLevel::Exits;
      if (m.modelled) req.options.vmx_profile = shared_profile;
      auto outcome = run_session(req);
      if (!outcome.ok()) {
        if (i == 1 && (outcome.error().kind == ErrorKind::Unavailable || outcome.error().kind == ErrorKind::Usage)) {
          m.skipped = true;
          m.reason = outcome.error().message;
          break;
        }
        if (progress) fmt::print(stderr, "\r\033[K");
        return report_error("compare", outcome.error());
      }
      auto f = figures_of(outcome.value(), work);
      if (!f.ok()) {
        if (progress) fmt::print(stderr, "\r\033[K");
        return report_error("compare", f.error());
      }
      m.runs.push_back(std::move(f).value());
    }
    results.push_back(std::move(m));
  }
  if (progress) fmt::print(stderr, "\r\033[K");

  std::map<Mode, Summary> sums;
  bool all_ok = true, any_ran = false;
  for (const auto& m : results) {
    if (m.skipped) continue;
    any_ran = true;
    sums[m.mode] = summarize(m, work);
    if (sums[m.mode].ok_runs != int(m.runs.size())) all_ok = false;
  }
  Ratios ratios = ratios_of(results, sums, work);
  if (a.json)
    fmt::print("{}", to_json(scenario->name, params.value(), a.repeat, dir, results, sums, work, ratios));
  else
    print_table(scenario->name, results, sums, work, ratios, a.repeat, dir,
                a.level == "full" ? TraceLevel::Full : TraceLevel::Exits, host.flavour);
  if (!any_ran) {
    trprint(stderr, "ringscope compare: no mode can run {} on this host (see the reasons above)\n", scenario->name);
    return exit_code_for(ErrorKind::Unavailable);
  }
  if (!all_ok) trprint(stderr, "ringscope compare: some runs did not end as the scenario expects\n");
  return all_ok ? 0 : 1;
}

}  // namespace

void add_compare_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand("compare", "Run one scenario in every mode this host supports and compare the cost");
  cmd->footer(
      "Examples:\n"
      "  ringscope compare syscalls\n"
      "  ringscope compare io-burst --repeat 5 --param bytes=1024\n"
      "  ringscope compare console-write --modes full-virt,paravirt --param bytes=4096\n"
      "  ringscope compare hello --json > hello.json        # for scripts\n"
      "  ringscope compare pagefault --modes emulation --vmx-profile no-ept\n"
      "Each mode runs N times (--repeat); every trace is kept in --dir as <scenario>.<mode>.<run>.rtrace.\n"
      "A mode the host or the scenario cannot run is skipped, with the reason. Exits under emulation are\n"
      "modelled (what VT-x would have done, docs/vmx-model.md); under KVM they are real.\n"
      "Exit status: 0 all runs ended as expected; 1 some did not; 64 usage; 66 no such scenario;\n"
      "69 no mode can run it here.");
  cmd->add_option("scenario", a->target, "Built-in scenario name or a scenario directory")->required();
  cmd->add_option("--modes", a->modes, "Comma-separated modes (default: full-virt,paravirt,emulation)");
  cmd->add_option("--repeat", a->repeat, "Runs per mode")->capture_default_str();
  cmd->add_option("--param", a->params, "Scenario parameter key=value; repeatable");
  cmd->add_flag("--json", a->json, "One JSON object on stdout instead of the table");
  cmd->add_option("--dir", a->dir, "Where to keep the traces (default compare-<scenario>)");
  cmd->add_option("--vmx-profile", a->vmx_profile, "The VT-x model's profile for the emulation mode")
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout_s, "Wall-time limit per run in seconds")->capture_default_str();
  cmd->add_option("--level", a->level,
                  "Trace level of every run: exits, or full (single-steps under KVM too, so traps and ring "
                  "transitions are counted in every mode; slower, and the slow-down is part of the lesson)")
      ->check(CLI::IsMember({"exits", "full"}))
      ->capture_default_str();
  cmd->callback([a, &ctx] { ctx.exit_code = do_compare(*a); });
}

}  // namespace ringscope::cli
