// cmd_experiment.cpp — `ringscope experiment NAME|FILE --out DIR`: a spec's
// grid of runs (workloads × swept values × repeats × modes), each measured
// with the lab checker's queries, into CSV, JSON, charts and report.md
// (docs/experiments.md). The spec, the records, the charts and the report
// are the experiment/ library's; this file runs guests.
//
// [SECTION] measuring   one run's trace through the spec's queries
// [SECTION] running     the grid, a progress line, one record per finished run
// [SECTION] outputs     results.csv/json after every run; charts and report.md at the end
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "backends.h"
#include "chart.h"
#include "commands.h"
#include "native_run.h"
#include "report.h"
#include "results.h"
#include "ringscope/files.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/phase_figures.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"
#include "ringscope/version.h"
#include "ringscope/vmx/profile.h"
#include "session.h"
#include "spec.h"

namespace ringscope::cli {

namespace {

namespace fs = std::filesystem;
using namespace ringscope::experiment;

struct ExperimentArgs {
  std::string target;
  std::string out;
  bool resume = false;
  bool print = false;
  bool list = false;
  int repeat = 0;  // 0: the spec's
};

// ---- [SECTION] measuring --------------------------------------------------------

// A query of the spec bound to one run: "{phase}" in `between` or `name`
// is the workload's phase label at this value; other templates take the
// run's params ("{bytes}").
Result<std::string> bind_text(const std::string& text, const Workload& w, uint64_t value, const std::string& phase) {
  if (text == "{phase}") return phase;
  if (text.find('{') == std::string::npos) return text;
  return labs::expand_label(text, {{w.param, std::to_string(value)}}, w.scenario);
}

Result<labs::Query> bind_query(labs::Query q, const Workload& w, uint64_t value, const std::string& phase) {
  TRY_ASSIGN(q.between, bind_text(q.between, w, value, phase));
  if (q.filter.name) {
    TRY_ASSIGN(*q.filter.name, bind_text(*q.filter.name, w, value, phase));
  }
  return q;
}

Result<std::map<std::string, MeasureValue>> measure_trace(const Spec& spec, const Workload& w, uint64_t value,
                                                          const fs::path& trace) {
  TRY_ASSIGN(std::string phase, phase_label(w, value));
  std::vector<labs::Query> queries;  // per query measure: the query, then its divide_by if any
  std::vector<std::pair<size_t, std::optional<size_t>>> slots;
  bool figures = false;
  for (const auto& m : spec.measures) {
    figures = figures || !m.phase_figure.empty();
    if (!m.phase_figure.empty() || !m.relative_to.empty()) {
      slots.push_back({0, std::nullopt});
      continue;
    }
    TRY_ASSIGN(labs::Query q, bind_query(m.query, w, value, phase));
    queries.push_back(q);
    std::optional<size_t> d;
    if (m.divide_by) {
      TRY_ASSIGN(labs::Query dq, bind_query(*m.divide_by, w, value, phase));
      queries.push_back(dq);
      d = queries.size() - 1;
    }
    slots.push_back({queries.size() - 1 - (d ? 1 : 0), d});
  }
  std::vector<labs::QueryMeter> meters;
  meters.reserve(queries.size());
  for (const auto& q : queries) meters.emplace_back(q);
  // Phase figures: the phase as `compare` counts it (ringscope/phase_figures.h).
  StatsBuilder builder;
  MarkerExitTracker markers;
  TraceHeader header;
  ReadSummary summary;
  TRY(for_each_event(
      trace.string(), {},
      [&](const Event& e) {
        for (auto& m : meters) m.feed(e);
        if (figures) {
          builder.add(e);
          markers.add(e);
        }
        return true;
      },
      &header, &summary));
  std::optional<PhaseFigures> figure;
  if (figures) {
    TraceStats st = builder.finish(header, summary.complete, summary.warning);
    for (auto& f : phase_figures(st, markers))
      if (f.label == phase) {
        figure = std::move(f);
        break;
      }
  }
  std::map<std::string, MeasureValue> out;
  for (size_t i = 0; i < spec.measures.size(); i++) {
    const Measure& m = spec.measures[i];
    MeasureValue v;
    if (!m.relative_to.empty()) continue;  // apply_baseline's, once the baseline run is in
    std::optional<double> raw;
    if (!m.phase_figure.empty()) {
      if (figure)
        raw = phase_figure(*figure, m.phase_figure);
      else
        v.problem = fmt::format("no closed phase \"{}\" of the form \"<row>: <N> <unit>\"", phase);
    } else {
      labs::Measured q = meters[slots[i].first].result();
      if (!q.value) v.problem = q.problem;
      raw = q.value;
      if (raw && slots[i].second) {
        labs::Measured d = meters[*slots[i].second].result();
        if (!d.value || *d.value == 0) {
          v.problem = d.value ? "divide_by measured 0" : d.problem;
          raw.reset();
        } else {
          *raw /= *d.value;
        }
      }
    }
    if (raw) {
      *raw *= m.scale;
      v.raw = *raw;
      double per = m.per == "unit" ? double(value) : m.per == "kib" ? double(value) * w.kib_per_unit : 1.0;
      v.value = *raw / per;
    }
    out[m.id] = v;
  }
  return out;
}

// ---- [SECTION] running ----------------------------------------------------------

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Host facts for the report: how loaded the host was, and whether it is
// itself a virtual machine (the efficiency experiment's baseline is then a
// guest too).
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? fmt::format("{} {} {}", a, b, c) : std::string("?");
}
int host_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
}
bool cpu_is_virtual() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.starts_with("flags")) return (line + " ").find(" hypervisor ") != std::string::npos;
  return false;
}

// Why `m` cannot run workload `w` here, or "".
Result<Scenario> workload_scenario(const Workload& w) {
  return w.scenario.find('/') != std::string::npos ? load_scenario(w.scenario) : find_builtin_scenario(w.scenario);
}

std::string refusal(const ModeSpec& m, const Workload& w, const HostInfo& host) {
  if (m.mode == kNativeMode) {
    auto s = workload_scenario(w);
    return s.ok() ? native_refusal(s.value()) : s.error().message;
  }
  const ModeInfo* info = find_mode(m.mode);
  if (!info) return mode_not_in_table(m.mode).message;
  if (!info->available) return fmt::format("mode {} is not built in this version", m.mode);
  if (info->needs_kvm && !host.kvm_openable)
    return fmt::format("needs /dev/kvm, which this host cannot open ({})", host.kvm_open_error);
  auto s = w.scenario.find('/') != std::string::npos ? load_scenario(w.scenario) : find_builtin_scenario(w.scenario);
  if (!s.ok()) return s.error().message;
  if (info->needs_kvm)
    for (const auto& f : s->requires_features)
      if (std::string why = kvm_refusal(host, f); !why.empty()) return why;
  return "";
}

Status append_line(const fs::path& file, const std::string& line) {
  int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return make_error(ErrorKind::IoError, trf("cannot open {}: {}", file.string(), strerror(errno)));
  std::string text = line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return make_error(ErrorKind::IoError, trf("cannot write {}", file.string()));
  return ok_status();
}

// Ctrl-C: every finished run is already in runs.jsonl; say so, then die of
// the signal as usual (the run in progress is run again by --resume).
char g_interrupt_message[512];
size_t g_interrupt_length = 0;
void on_interrupt(int sig) {
  if (g_interrupt_length) (void)!::write(STDERR_FILENO, g_interrupt_message, g_interrupt_length);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
void say_on_interrupt(const std::string& message) {
  g_interrupt_length = std::min(message.size(), sizeof(g_interrupt_message));
  std::copy_n(message.data(), g_interrupt_length, g_interrupt_message);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

std::string progress_bar(size_t done, size_t total) {
  constexpr size_t kWidth = 24;
  size_t filled = total ? done * kWidth / total : kWidth;
  return "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
}

Status write_outputs(const fs::path& out, const Spec& spec, std::vector<RunRecord>& records,
                     const std::vector<Skipped>& skipped, const Provenance& prov) {
  apply_baseline(spec, records);
  TRY(write_csv(out / "results.csv", spec, records));
  return write_json(out / "results.json", spec, records, skipped, prov);
}

int do_experiment(const ExperimentArgs& a) {
  if (a.list) {
    for (const auto& b : builtin_experiments()) {
      auto s = parse_spec(std::string(b.json), std::string(b.name));
      fmt::print("{:<20} {}\n", b.name, s.ok() ? s->title : s.error().message);
    }
    return 0;
  }
  if (a.target.empty())
    return report_error("experiment", make_error(ErrorKind::Usage, tr("name a built-in experiment (--list shows them) "
                                                                      "or a spec file")));
  auto loaded = load_spec(a.target);
  if (!loaded.ok()) return report_error("experiment", loaded.error());
  Spec spec = std::move(loaded).value();
  if (a.print) {
    fmt::print("{}\n", spec.source);
    return 0;
  }
  if (a.repeat < 0 || a.repeat > 100)
    return report_error("experiment", make_error(ErrorKind::Usage, tr("--repeat must be between 1 and 100")));
  if (a.repeat) spec.repeat = a.repeat;
  fs::path out = a.out.empty() ? fs::path("experiment-" + sanitize(spec.name)) : fs::path(a.out);
  std::error_code ec;
  fs::create_directories(out / "traces", ec);
  if (ec)
    return report_error("experiment", make_error(ErrorKind::IoError,
                                                 trf("cannot create {}: {}", (out / "traces").string(), ec.message())));
  const fs::path runs_file = out / "runs.jsonl", spec_file = out / "spec.json";
  std::vector<RunRecord> records;
  if (fs::exists(runs_file, ec)) {
    if (!a.resume)
      return report_error("experiment",
                          make_error(ErrorKind::Usage, trf("{} already holds an experiment's runs; pass "
                                                           "--resume to continue it, or choose another --out",
                                                           out.string())));
    auto saved = read_regular_text(spec_file, kMaxTextBytes, "spec.json");
    if (saved.ok() && saved.value() != spec.source)
      return report_error("experiment",
                          make_error(ErrorKind::Usage, trf("the spec differs from the one {} was started with "
                                                           "({}); resume with that spec, or choose another --out",
                                                           out.string(), spec_file.string())));
    auto prev = read_records(runs_file);
    if (!prev.ok()) return report_error("experiment", prev.error());
    for (auto& r : prev.value())
      if (r.ok) records.push_back(std::move(r));  // a failed run is run again
  }
  if (auto st = write_file_atomically(spec_file, spec.source); !st.ok()) return report_error("experiment", st.error());
  if (!records.empty()) {
    // runs.jsonl keeps only the runs that count from here on.
    std::string text;
    for (const auto& r : records) text += record_to_json_line(r) + "\n";
    if (auto st = write_file_atomically(runs_file, text); !st.ok()) return report_error("experiment", st.error());
  }

  HostInfo host = probe_host();
  Provenance prov;
  prov.tool_version = kVersion;
  prov.command = fmt::format("ringscope experiment {} --out {}{}", a.target, out.string(),
                             a.repeat ? fmt::format(" --repeat {}", a.repeat) : "");
  prov.kvm_flavour = std::string(flavour_name(host.flavour));
  prov.kvm_usable = host.kvm_openable;
  prov.kernel_release = host.kernel_release;
  prov.cpu_model = host.cpu_model;
  prov.cpus = host_cpus();
  prov.cpu_is_virtual = cpu_is_virtual();
  prov.load_start = load_average();
  prov.load_end = prov.load_start;
  prov.started = utc_now();

  // A mode the host cannot run at all is replaced by its fallback, if the
  // spec names one that can run (the report says which, and why).
  std::vector<Skipped> skipped;
  for (auto& m : spec.modes) {
    auto fb = spec.fallback_modes.find(m.name);
    if (fb == spec.fallback_modes.end()) continue;
    std::string why = refusal(m, spec.workloads.front(), host);
    if (why.empty() || !refusal(fb->second, spec.workloads.front(), host).empty()) continue;
    std::string note = fmt::format("{} ran instead, since {} {}", fb->second.name, m.name, why);
    fmt::print(stderr, "ringscope experiment: {}: {}\n", m.name, note);
    skipped.push_back(Skipped{m.name, note});
    m = fb->second;
  }
  // Which (mode, workload) pairs cannot run here, and why.
  std::set<std::pair<std::string, std::string>> refused;
  for (const auto& m : spec.modes)
    for (const auto& w : spec.workloads)
      if (std::string why = refusal(m, w, host); !why.empty()) {
        refused.insert({m.name, w.id});
        std::string mode = spec.workloads.size() > 1 ? fmt::format("{} ({})", m.name, w.id) : m.name;
        skipped.push_back(Skipped{mode, why});
        trprint(stderr, "ringscope experiment: {} skipped: {}\n", mode, why);
      }

  auto profile = vmx::load_profile("kvm-default");
  if (!profile.ok()) return report_error("experiment", profile.error());
  auto shared_profile = std::make_shared<const vmx::Profile>(std::move(profile).value());

  std::set<RunKey> done;
  for (const auto& r : records) done.insert(r.key);
  std::vector<RunKey> todo;
  for (const auto& k : grid(spec))
    if (!done.count(k) && !refused.count({k.mode, k.workload})) todo.push_back(k);
  if (todo.empty() && records.empty()) {
    trprint(stderr, "ringscope experiment: no mode of {} can run on this host (see the reasons above)\n", spec.name);
    return exit_code_for(ErrorKind::Unavailable);
  }
  if (!records.empty())
    trprint(stderr, "ringscope experiment: resuming {}: {} run(s) kept, {} to go\n", out.string(), records.size(),
            todo.size());

  const bool progress = isatty(STDERR_FILENO);
  say_on_interrupt(
      trf("{}ringscope experiment: interrupted; every finished run is kept in {}: "
          "continue with --resume\n",
          progress ? "\r\033[K" : "", runs_file.string()));
  const size_t total = done.size() + todo.size();
  std::set<RunKey> ran;
  for (size_t i = 0; i < todo.size(); i++) {
    const RunKey& k = todo[i];
    if (ran.count(k)) continue;  // measured from another workload's run of the same guest
    const Workload& w = *std::find_if(spec.workloads.begin(), spec.workloads.end(),
                                      [&](const Workload& x) { return x.id == k.workload; });
    const ModeSpec& m =
        *std::find_if(spec.modes.begin(), spec.modes.end(), [&](const ModeSpec& x) { return x.name == k.mode; });
    if (progress)
      trprint(stderr, "\r{} {}/{}  {} {}={} {} run {}/{}\033[K", progress_bar(done.size() + i, total),
              done.size() + i + 1, total, w.id, w.param, k.value, m.name, k.repeat, spec.repeat);
    // Workloads that differ only in their phase (nanobench's rows) share one
    // run: the same scenario, param, value, mode and repeat.
    std::vector<const Workload*> sharing{&w};
    for (const auto& o : spec.workloads)
      if (&o != &w && o.scenario == w.scenario && o.param == w.param &&
          !done.count({o.id, k.value, k.mode, k.repeat}) &&
          std::find(o.values.begin(), o.values.end(), k.value) != o.values.end() && !refused.count({k.mode, o.id}))
        sharing.push_back(&o);
    std::string trace_name = fmt::format("{}.{}.{}.{}.rtrace", sanitize(sharing.size() > 1 ? w.scenario : w.id),
                                         k.value, sanitize(m.name), k.repeat);
    fs::path trace_path = out / "traces" / trace_name;
    bool ok = false;
    std::string message;
    if (m.mode == kNativeMode) {
      auto scenario = workload_scenario(w);
      if (!scenario.ok()) return report_error("experiment", scenario.error());
      NativeRequest nreq;
      nreq.scenario = &scenario.value();
      nreq.params = {{w.param, std::to_string(k.value)}};
      nreq.trace_path = trace_path;
      nreq.console_path = out / "traces" / (trace_name + ".console.txt");
      nreq.wall_ms = static_cast<uint64_t>(spec.timeout_s * 1000);
      auto outcome = run_native(nreq);
      if (!outcome.ok()) {
        if (progress) fmt::print(stderr, "\r\033[K");
        return report_error("experiment", outcome.error());
      }
      ok = outcome->status_as_expected;
      message = outcome->message;
    } else {
      SessionRequest req;
      req.target = w.scenario;
      req.params = {{w.param, std::to_string(k.value)}};
      req.mode = m.mode;
      req.devices = m.devices;
      req.io = m.io;
      req.trace_path = trace_path;
      req.echo_console = false;
      req.options.limits.wall_ms = static_cast<uint64_t>(spec.timeout_s * 1000);
      req.options.level = spec.level == "full" ? TraceLevel::Full : TraceLevel::Exits;
      if (m.mode == "emulation") req.options.vmx_profile = shared_profile;
      auto outcome = run_session(req);
      if (!outcome.ok()) {
        if (progress) fmt::print(stderr, "\r\033[K");
        // The host or the spec, not the guest: no point running the rest.
        if (outcome.error().kind != ErrorKind::Internal) return report_error("experiment", outcome.error());
        message = outcome.error().message;
      } else {
        const SessionOutcome& o = outcome.value();
        ok = o.status_as_expected;
        message = o.result.ok() ? fmt::format("guest status {}", o.result.guest_status) : o.result.message;
        if (!o.result.note.empty()) message += "; " + o.result.note;  // offload refused: what ran instead
      }
    }
    for (const Workload* sw : sharing) {
      RunRecord rec;
      rec.key = RunKey{sw->id, k.value, k.mode, k.repeat};
      rec.trace = "traces/" + trace_name;
      rec.ok = ok;
      rec.message = message;
      if (fs::exists(trace_path, ec)) {
        auto measured = measure_trace(spec, *sw, k.value, trace_path);
        if (!measured.ok()) {
          rec.ok = false;
          rec.message = measured.error().message;
        } else {
          rec.measures = std::move(measured).value();
        }
      }
      if (auto st = append_line(runs_file, record_to_json_line(rec)); !st.ok())
        return report_error("experiment", st.error());
      ran.insert(rec.key);
      records.push_back(std::move(rec));
    }
    prov.finished = utc_now();
    if (auto st = write_outputs(out, spec, records, skipped, prov); !st.ok())
      return report_error("experiment", st.error());
  }
  if (progress) fmt::print(stderr, "\r\033[K");

  // ---- [SECTION] outputs --------------------------------------------------------
  prov.finished = utc_now();
  prov.load_end = load_average();
  if (auto st = write_outputs(out, spec, records, skipped, prov); !st.ok())
    return report_error("experiment", st.error());
  std::string charts_note;
  std::vector<std::string> charts;
  for (const auto& w : spec.workloads)
    for (const auto& m : spec.measures) {
      Chart c;
      c.title = fmt::format("{} — {}", w.id, m.label);
      c.x_label = w.unit == w.param ? w.param : fmt::format("{} ({})", w.param, w.unit);
      c.y_label = m.label;
      c.series = series_of(spec, records, w.id, m.id);
      c.log_x = wants_log_axis(c.series);
      c.log_y = m.log_y;
      fs::path file = out / chart_file(w, m);
      if (auto st = write_chart_png(file, c); !st.ok()) {
        charts_note = st.error().message;
        break;
      }
      charts.push_back(file.string());
    }
  if (auto st = write_file_atomically(out / "report.md", report_markdown(spec, records, skipped, prov, charts_note));
      !st.ok())
    return report_error("experiment", st.error());

  size_t ok = 0;
  for (const auto& r : records) ok += r.ok;
  trprint(stdout, "{}: {} run(s), {} as expected\n", spec.name, records.size(), ok);
  fmt::print("  {}\n  {}\n  {}\n", (out / "report.md").string(), (out / "results.csv").string(),
             (out / "results.json").string());
  for (const auto& c : charts) fmt::print("  {}\n", c);
  if (!charts_note.empty()) trprint(stderr, "ringscope experiment: charts not drawn: {}\n", charts_note);
  if (ok != records.size()) {
    trprint(stderr, "ringscope experiment: some runs did not end as the scenario expects (report.md lists them)\n");
    return 1;
  }
  return 0;
}

}  // namespace

void add_experiment_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<ExperimentArgs>();
  auto* cmd = app.add_subcommand("experiment", "Run a sweep over sizes and modes into CSV, JSON, charts and a report");
  cmd->footer(
      "Examples:\n"
      "  ringscope experiment --list\n"
      "  ringscope experiment pv-io --out pv-io\n"
      "  ringscope experiment emulation-vs-kvm --out evk --repeat 5\n"
      "  ringscope experiment --print pv-io > my.json   # a spec to edit\n"
      "  ringscope experiment ./my.json --out mine\n"
      "  ringscope experiment pv-io --out pv-io --resume # after an interruption\n"
      "Each finished run is appended to DIR/runs.jsonl at once, so an interrupted experiment keeps them;\n"
      "--resume runs the rest. A mode this host cannot run is skipped, with the reason. docs/experiments.md.\n"
      "Exit status: 0 every run ended as expected; 1 some did not; 64 usage; 65 bad spec; 66 no such\n"
      "experiment; 69 no mode can run here.");
  cmd->add_option("experiment", a->target, "A built-in experiment (--list) or a spec file (.json)");
  cmd->add_option("--out", a->out, "Output directory (default experiment-<name>)");
  cmd->add_flag("--resume", a->resume, "Continue the experiment in --out: keep its finished runs, run the rest");
  cmd->add_option("--repeat", a->repeat, "Runs per point (default: the spec's)");
  cmd->add_flag("--print", a->print, "Print the spec's JSON and exit");
  cmd->add_flag("--list", a->list, "List the built-in experiments and exit");
  cmd->callback([a, &ctx] { ctx.exit_code = do_experiment(*a); });
}

}  // namespace ringscope::cli
