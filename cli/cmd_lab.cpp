// cmd_lab.cpp — `ringscope lab`: the classroom labs under labs/.
//
//   ringscope lab list            the labs, and whether this host runs them as written
//   ringscope lab show N          the handout, in the reader's language (checker/handout.h)
//   ringscope lab check N         build the student's program, run what the
//                                 lab says, grade the traces (labs/checker)
//   ringscope lab validate DIR    check a lab directory without running it
//
// `check` works in the student's directory (--dir, default the current
// one): their source files and answers.txt are read from there, and the
// built program and every trace go to DIR/lab-N/, so they can open the
// traces in the viewer afterwards. A lab that needs KVM on a host where it
// is unusable is not graded at all: it says why and exits 69, so a course's
// script tells "this machine cannot run it" from a failing student. Traces
// are streamed into the checker (bounded memory, whatever their size).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends.h"
#include "checker/discovery.h"
#include "checker/handout.h"
#include "checker/lab.h"
#include "commands.h"
#include "program_build.h"
#include "ringscope/cpu_list.h"
#include "ringscope/files.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/trace.h"
#include "ringscope/vmx/profile.h"
#include "session.h"

namespace ringscope::cli {

namespace {

namespace fs = std::filesystem;

struct LabArgs {
  int number = 0;
  std::string dir = ".";
  bool json = false;
};

Result<labs::Lab> find_lab(int number) {
  TRY_ASSIGN(auto all, labs::discover_labs());
  for (auto& l : all)
    if (l.number == number) return std::move(l);
  std::string known;
  for (const auto& l : all) known += fmt::format(" {}", l.number);
  return make_error(ErrorKind::NoInput,
                    trf("there is no lab {}; the labs are{} (`ringscope lab list`)", number, known));
}

// The host as the labs see it: probe_host(), and RINGSCOPE_NO_KVM=1 hides a
// working /dev/kvm (to try what a student without KVM gets, and for tests).
HostInfo lab_host() {
  HostInfo host = probe_host();
  const char* off = std::getenv("RINGSCOPE_NO_KVM");
  if (off && std::string(off) == "1" && host.kvm_openable) {
    host.kvm_openable = false;
    host.kvm_open_error = "RINGSCOPE_NO_KVM=1 hides /dev/kvm";
  }
  return host;
}

std::string kvm_unusable(const HostInfo& host) {
  if (!host.kvm_device_exists) return tr("this host has no /dev/kvm");
  return trf("/dev/kvm is not usable here ({})", host.kvm_open_error);
}

// Whether this build has a backend for the mode (bt has none until its
// backend is built: cli/backends.cpp's table).
bool mode_built(Mode m) {
  const ModeInfo* info = find_mode(mode_name(m));
  return info && info->available;
}

// The mode a run uses on this host: KVM modes fall back where there is no
// usable /dev/kvm, if the lab allows it; empty with `why` if it cannot run.
std::optional<Mode> mode_here(const labs::LabRun& r, const HostInfo& host, std::string* why) {
  if (!mode_built(r.mode)) {
    if (why) *why = trf("run {} needs --mode {}, which this build of ringscope does not have", r.id, mode_name(r.mode));
    return {};
  }
  if (!mode_needs_kvm(r.mode) || host.kvm_openable) return r.mode;
  if (r.fallback_mode) return r.fallback_mode;
  if (why)
    *why = trf("run {} needs --mode {}{} on KVM, with no emulation to fall back to, and {}", r.id, mode_name(r.mode),
               r.irqchip == "kernel" ? " and KVM's in-kernel irqchip" : "", kvm_unusable(host));
  return {};
}

// Why a lab cannot run on this host at all, with what to use instead; empty
// if every run can (some perhaps in their fallback mode).
std::string why_lab_cannot_run(const labs::Lab& lab, const HostInfo& host) {
  std::string why;
  for (const auto& r : lab.runs)
    if (!mode_here(r, host, &why)) {
      if (!mode_built(r.mode)) return why;  // no machine helps: it is this build that lacks the mode
      break;
    }
  if (why.empty()) return {};
  std::string others;
  if (auto all = labs::discover_labs(); all.ok())
    for (const auto& l : all.value()) {
      std::string w;
      bool runs = true;
      for (const auto& r : l.runs) runs = runs && mode_here(r, host, &w);
      if (runs) others += fmt::format("{}{}", others.empty() ? "" : ", ", l.number);
    }
  return fmt::format(
      "{}. Do this lab on a Linux machine where /dev/kvm opens (VT-x, AMD-V or PVM; as root or in "
      "group kvm; `ringscope doctor` checks){}",
      why, others.empty() ? "" : trf("; labs {} run on this host", others));
}

int do_list(const std::string& lang) {
  auto all = labs::discover_labs();
  if (!all.ok()) return report_error("lab", all.error());
  HostInfo host = lab_host();
  for (const auto& l : all.value()) {
    std::string modes, note;
    for (const auto& r : l.runs) {
      std::string why;
      const std::optional<Mode> m = mode_here(r, host, &why);
      modes += (modes.empty() ? "" : ", ") +
               (m ? std::string(mode_name(*m)) : std::string(mode_name(r.mode)) + tr(" (cannot run here)"));
      if (m && *m != r.mode) note = tr(" (no usable /dev/kvm here: KVM runs fall back to emulation)");
    }
    const std::string title = current_language() == Language::Korean && !l.title_ko.empty() ? l.title_ko : l.title;
    trprint(stdout, "{:>3}  {}\n     runs: {}{}\n     handout: {}\n", l.number, title, modes, note,
            labs::handout_path(l.dir, lang).string());
  }
  trprint(stdout, "\n`ringscope lab show N` prints a handout; `ringscope lab check N` grades your work.\n");
  return 0;
}

// `lang` as labs::handout_name takes it ("ko", "ko_KR.UTF-8", "en", "").
int do_show(int number, const std::string& lang) {
  auto lab = find_lab(number);
  if (!lab.ok()) return report_error("lab", lab.error());
  bool fell_back = false;
  const fs::path path = labs::handout_path(lab.value().dir, lang, &fell_back);
  if (fell_back)
    trprint(stderr, "ringscope lab: lab {} has no {} (its handout in your language); showing {}\n", number,
            labs::handout_name(lang), path.string());
  auto text = read_regular_text(path, kMaxTextBytes, "the handout");
  if (!text.ok()) return report_error("lab", text.error());
  fmt::print("{}", text.value());
  return 0;
}

// A run that ended with the wrong status, said as what happened: the
// teaching kernel kills a program that faults with status 128 + vector
// (docs/syscalls.md), which a student reads better as "it crashed".
std::string crash_text(int status, int expected) {
  if (status >= 128 && status < 128 + 32 && !exception_name(static_cast<uint8_t>(status - 128)).empty())
    return trf(
        "your program crashed: the kernel killed it for {} (vector {}; exit status {} = 128 + vector). The checks "
        "below read its trace up to the crash: a system call it made before still counts",
        exception_name(static_cast<uint8_t>(status - 128)), status - 128, status);
  return trf("the guest exited with status {}, the lab expects {}", status, expected);
}

// A lab's disk image with real blocks in it (a new file is a hole, which
// the host reads without touching its disk, so no cache would show): made
// once, of `bytes` of xorshift noise; an existing one is left as it is.
Status fill_disk_image(const fs::path& path, uint64_t bytes) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) return ok_status();
  FILE* f = std::fopen(path.c_str(), "wbx");
  if (!f) return make_error(ErrorKind::IoError, trf("cannot create disk image {}: {}", path.string(), strerror(errno)));
  std::vector<uint64_t> block(512);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  bool ok = true;
  for (uint64_t done = 0; done < bytes && ok; done += block.size() * 8) {
    for (auto& w : block) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      w = x;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size() * 8, bytes - done));
    ok = std::fwrite(block.data(), 1, n, f) == n;
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return make_error(ErrorKind::IoError, trf("cannot write disk image {}: {}", path.string(), strerror(errno)));
  return ok_status();
}

// One run of the lab, done: where its trace is, or why it did not run.
struct DoneRun {
  std::string id;
  std::optional<Mode> mode;  // where it ran; none: it could not run here
  fs::path trace_path;       // empty if no trace was written
  std::string problem;       // why it did not run, or ran badly
};

// A host CPU hog (a lab run's host_hog): one thread that only computes,
// pinned to the vCPUs' CPUs, for as long as it lives. The host scheduler
// then shares those CPUs between it and the vCPU threads, as it would with
// any other busy process.
class CpuHog {
 public:
  explicit CpuHog(std::vector<int> cpus) {
    thread_ = std::thread([this, cpus = std::move(cpus)] {
      pthread_setname_np(pthread_self(), "host-hog");
      pin_this_thread(cpus);
      volatile uint64_t x = 0;
      while (!stop_.load(std::memory_order_relaxed)) x = x + 1;
    });
  }
  ~CpuHog() {
    stop_ = true;
    thread_.join();
  }
  CpuHog(const CpuHog&) = delete;
  CpuHog& operator=(const CpuHog&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A lab run's vcpu_affinity as CPUs: "first" is the first CPU this process may use.
Result<std::vector<int>> lab_affinity(const std::string& text) {
  if (text != "first") return parse_cpu_list(text);
  const std::string allowed = allowed_cpus_text();
  return parse_cpu_list(allowed.substr(0, allowed.find_first_of(",-")));
}

DoneRun do_run(const labs::LabRun& r, const fs::path& student, const fs::path& work, const HostInfo& host) {
  DoneRun done;
  done.id = r.id;
  done.mode = mode_here(r, host, &done.problem);
  if (!done.mode) return done;
  const Mode mode = *done.mode;
  trprint(stderr, "ringscope lab: run {} ({}{})...\n", r.id, mode_name(mode),
          mode != r.mode ? trf(", instead of {}", mode_name(r.mode)) : "");
  SessionRequest req;
  if (!r.program.empty()) {
    BuildRequest b;
    for (const auto& s : r.program) b.sources.push_back(student / s);
    b.output = work / (r.id + ".elf");
    b.name = r.program_name;
    auto built = build_program(b);
    if (!built.ok()) {
      done.problem = built.error().message;
      return done;
    }
    req.programs = {built.value().path};
    req.append = r.append;
  } else {
    req.target = r.scenario;
    req.params = r.params;
  }
  req.mode = mode_name(mode);
  req.devices = mode == Mode::Emulation ? r.devices : "";
  req.irqchip = mode == Mode::Emulation ? "" : r.irqchip;
  req.io = mode == Mode::Emulation ? "" : r.io;
  req.vcpus = r.vcpus;
  std::unique_ptr<CpuHog> hog;
  if (!r.vcpu_affinity.empty()) {
    auto cpus = lab_affinity(r.vcpu_affinity);
    if (!cpus.ok()) {
      done.problem = cpus.error().message;
      return done;
    }
    req.vcpu_affinity = cpus.value();
    if (r.host_hog) hog = std::make_unique<CpuHog>(cpus.value());
  }
  req.trace_path = work / fmt::format("{}.{}.rtrace", r.id, mode_name(mode));
  req.options.level = r.level == "full" ? TraceLevel::Full : TraceLevel::Exits;
  req.options.limits.wall_ms = 60'000;
  req.echo_console = false;
  if (!r.disk.empty()) {
    req.disk_image = work / r.disk;
    if (r.disk_fill) {
      Status filled = fill_disk_image(req.disk_image, r.disk_fill);
      if (!filled.ok()) {
        done.problem = filled.error().message;
        return done;
      }
    }
  }
  if (!r.disk_cache.empty()) req.disk_cache = parse_disk_cache(r.disk_cache).value_or(DiskCache::Writeback);
  req.disk_cache_drop = r.disk_cache_drop;
  if (r.ram_mib) req.ram_mib = r.ram_mib;
  req.balloon_target_mib = r.balloon_target_mib;
  req.balloon_after = r.balloon_after;
  if (!r.vmx_profile.empty() && mode == Mode::Emulation) {
    auto profile = vmx::load_profile(r.vmx_profile);
    if (!profile.ok()) {
      done.problem = profile.error().message;
      return done;
    }
    req.options.vmx_profile = std::make_shared<const vmx::Profile>(std::move(profile).value());
  }
  auto outcome = run_session(req);
  if (!outcome.ok()) {
    done.problem = outcome.error().message;
    return done;
  }
  const SessionOutcome& o = outcome.value();
  if (!o.result.ok())
    done.problem = trf("the guest did not finish: {}", o.result.message);
  else if (o.result.end == RunEndReason::GuestExit && o.result.guest_status != r.expect_status)
    done.problem = crash_text(o.result.guest_status, r.expect_status);
  done.trace_path = o.trace_path;
  return done;
}

// Streams one run's trace into the grader: one event at a time, nothing kept.
void grade_run(DoneRun& d, labs::Grader& grader) {
  if (d.trace_path.empty()) return;
  ReadSummary summary;
  Status st = for_each_event(
      d.trace_path.string(), {},
      [&](const Event& e) {
        grader.feed(d.id, e);
        return true;
      },
      nullptr, &summary);
  if (!st.ok()) {
    if (d.problem.empty()) d.problem = st.error().message;
    return;
  }
  if (!summary.complete && !summary.warning.empty() && d.problem.empty()) d.problem = summary.warning;
  grader.run_done(d.id);
}

int do_check(const LabArgs& a) {
  auto found = find_lab(a.number);
  if (!found.ok()) return report_error("lab", found.error());
  const labs::Lab& lab = found.value();
  const fs::path student = fs::absolute(a.dir).lexically_normal();
  const fs::path work = student / fmt::format("lab-{}", lab.number);
  std::error_code ec;
  if (!fs::is_directory(student, ec))
    return report_error("lab",
                        make_error(ErrorKind::NoInput, trf("{} is not a directory; give --dir the directory with your "
                                                           "sources and answers.txt",
                                                           student.string())));
  // With --json the report is one JSON object on stdout (for a course's
  // scripts); the human-readable lines go to stderr instead.
  std::FILE* out = a.json ? stderr : stdout;
  // The report for a course's grader (Gradescope and the like) is in the
  // language the lab declares; without one, and for a student at the
  // terminal, in the student's language (LANG or --lang).
  if (a.json && !lab.language.empty()) init_i18n(lab.language);
  const bool ko = current_language() == Language::Korean;
  auto in_language = [ko](const std::string& en, const std::string& korean) {
    return ko && !korean.empty() ? korean : en;
  };
  trprint(out, "lab {}: {}\n", lab.number, in_language(lab.title, lab.title_ko));
  nlohmann::ordered_json report = {{"lab", lab.number},
                                   {"title", in_language(lab.title, lab.title_ko)},
                                   {"language", language_code(current_language())},
                                   {"dir", work.string()}};

  // A lab this host cannot run is not graded: that is not the student's fault.
  HostInfo host = lab_host();
  if (std::string why = why_lab_cannot_run(lab, host); !why.empty()) {
    trprint(out, "  cannot run on this host: {}\n", why);
    if (a.json) {
      report["status"] = "unavailable";
      report["reason"] = why;
      fmt::print("{}\n", report.dump());
    }
    return exit_code_for(ErrorKind::Unavailable);
  }
  fs::create_directories(work, ec);
  if (ec)
    return report_error("lab",
                        make_error(ErrorKind::IoError, trf("cannot create {}: {}", work.string(), ec.message())));

  std::map<std::string, double> answers;
  std::vector<std::string> answer_problems;
  if (!lab.answers.empty()) {
    const fs::path file = student / "answers.txt";
    std::error_code exists_ec;
    if (!fs::exists(file, exists_ec)) {
      answer_problems.push_back(trf("no answers.txt in {} (the handout lists the questions: {})", student.string(),
                                    (lab.dir / "handout.md").string()));
    } else {
      auto text = read_regular_text(file, kMaxTextBytes, "answers.txt");
      if (!text.ok()) {
        answer_problems.push_back(text.error().message);
      } else {
        labs::Answers parsed = labs::parse_answers(text.value(), lab.answers);
        answers = std::move(parsed.values);
        answer_problems = std::move(parsed.problems);
      }
    }
    for (const auto& p : answer_problems) fmt::print(out, "  ! {}\n", p);
  }

  labs::Grader grader(lab);
  std::vector<DoneRun> done;
  for (const auto& r : lab.runs) {
    done.push_back(do_run(r, student, work, host));
    grade_run(done.back(), grader);
  }
  for (const auto& d : done)
    if (!d.problem.empty()) fmt::print(out, "  ! run {}: {}\n", d.id, d.problem);

  size_t passed = 0;
  nlohmann::ordered_json problems = nlohmann::ordered_json::array(), checks = nlohmann::ordered_json::array();
  for (const auto& p : answer_problems) problems.push_back(p);
  for (const auto& d : done)
    if (!d.problem.empty()) problems.push_back(trf("run {}: {}", d.id, d.problem));
  for (const auto& r : grader.results(answers)) {
    const labs::Check& c = *r.check;
    passed += r.passed;
    const std::string say = in_language(c.say, c.say_ko), hint = in_language(c.hint, c.hint_ko);
    fmt::print(out, "  {} {}  {}\n      {}\n", r.passed ? "PASS" : "FAIL", c.id, say, r.detail);
    if (!r.passed && !hint.empty()) trprint(out, "      hint: {}\n", hint);
    checks.push_back({{"id", c.id}, {"passed", r.passed}, {"say", say}, {"detail", r.detail}});
  }
  trprint(out, "\n{} of {} checks pass. Traces and your built program are in {}/ (open them with `ringscope view`).\n",
          passed, lab.checks.size(), work.string());
  const bool all = passed == lab.checks.size();
  if (a.json) {
    report["status"] = all ? "passed" : "failed";
    report["passed"] = passed;
    report["checks_total"] = lab.checks.size();
    report["problems"] = problems;
    report["checks"] = checks;
    fmt::print("{}\n", report.dump());
  }
  return all ? 0 : 1;
}

// `lab validate DIR`: a lab checked without running anything.
int do_validate(const std::string& dir, const std::string& answers) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return report_error("lab",
                        make_error(ErrorKind::NoInput, trf("{} is not a directory; give the lab's directory (the one "
                                                           "with lab.json and handout.md)",
                                                           dir)));
  std::optional<fs::path> answers_path;
  if (!answers.empty()) answers_path = fs::path(answers);
  auto problems = labs::validate_lab(dir, answers_path);
  if (problems.empty()) {
    auto lab = labs::load_lab(dir);
    trprint(stdout, "{}: lab {} is valid: {} runs, {} checks, {} questions{}\n", dir, lab.value().number,
            lab.value().runs.size(), lab.value().checks.size(), lab.value().answers.size(),
            answers_path ? ", and the answers file answers each of them" : "");
    return 0;
  }
  fmt::print("{}", problems.size() == 1 ? trf("{}: {} problem:\n", dir, problems.size())
                                        : trf("{}: {} problems:\n", dir, problems.size()));
  for (const auto& p : problems) fmt::print("  - {}\n", p);
  return exit_code_for(ErrorKind::BadData);
}

}  // namespace

void add_lab_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<LabArgs>();
  auto* cmd = app.add_subcommand("lab", "Classroom labs: handouts, and checkers that grade your traces");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  ringscope lab list\n"
      "  ringscope lab show 1 > handout.md\n"
      "  ringscope lab check 1                 # in the directory with your lab1.c and answers.txt\n"
      "  ringscope lab check 2 --dir ~/labs/2\n"
      "  for d in students/*; do ringscope lab check 1 --dir $d --json > $d/lab1.json; done\n"
      "  ringscope lab validate labs/04-irqchip --answers tests/labs/solutions/04/answers.txt\n"
      "Exit status of check: 0 every check passes; 1 some do not; 66 no such lab; 69 this host cannot run the lab\n"
      "(it needs KVM; RINGSCOPE_NO_KVM=1 hides /dev/kvm). Of validate: 0 valid; 65 problems, each named.");
  auto* list = cmd->add_subcommand("list", "The labs, and the modes they run in on this host");
  list->callback([&ctx] { ctx.exit_code = do_list(std::string(language_code(current_language()))); });
  auto* show = cmd->add_subcommand("show", "Print a lab's handout");
  show->add_option("number", a->number, "The lab's number")->required();
  show->callback([a, &ctx] { ctx.exit_code = do_show(a->number, std::string(language_code(current_language()))); });
  auto* check = cmd->add_subcommand("check", "Build your program, run the lab's guests and grade the traces");
  check->add_option("number", a->number, "The lab's number")->required();
  check->add_option("--dir", a->dir, "Your working directory: sources and answers.txt (default: here)");
  check->add_flag("--json", a->json, "The report as one JSON object on stdout (for a course's scripts)");
  check->callback([a, &ctx] { ctx.exit_code = do_check(*a); });
  auto v = std::make_shared<std::pair<std::string, std::string>>();
  auto* validate = cmd->add_subcommand("validate", "Check a lab directory (lab.json, handout) without running it");
  validate->add_option("dir", v->first, "The lab's directory (with lab.json and handout.md)")->required();
  validate->add_option("--answers", v->second, "A reference answers.txt to check against the lab's questions");
  validate->callback([v, &ctx] { ctx.exit_code = do_validate(v->first, v->second); });
}

}  // namespace ringscope::cli
