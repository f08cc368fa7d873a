// cmd_lab.cpp — `ringscope lab`: the classroom labs under labs/.
//
//   ringscope lab list            the labs, and whether this host runs them as written
//   ringscope lab show N          the handout
//   ringscope lab check N         build the student's program, run what the
//                                 lab says, grade the traces (labs/checker)
//
// `check` works in the student's directory (--dir, default the current
// one): their source files and answers.txt are read from there, and the
// built program and every trace go to DIR/lab-N/, so they can open the
// traces in the viewer afterwards.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "checker/discovery.h"
#include "checker/lab.h"
#include "commands.h"
#include "program_build.h"
#include "ringscope/host.h"
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
                    fmt::format("there is no lab {}; the labs are{} (`ringscope lab list`)", number, known));
}

// The mode a run uses on this host: KVM modes fall back where there is no
// usable /dev/kvm, if the lab allows it; empty with `why` if it cannot run.
std::string mode_here(const labs::LabRun& r, const HostInfo& host, std::string* why) {
  if (r.mode == "emulation" || host.kvm_openable) return r.mode;
  if (!r.fallback_mode.empty()) return r.fallback_mode;
  if (why) *why = fmt::format("--mode {} needs a usable /dev/kvm, which this host does not have", r.mode);
  return {};
}

int do_list() {
  auto all = labs::discover_labs();
  if (!all.ok()) return report_error("lab", all.error());
  HostInfo host = probe_host();
  for (const auto& l : all.value()) {
    std::string modes, note;
    for (const auto& r : l.runs) {
      std::string why, m = mode_here(r, host, &why);
      modes += (modes.empty() ? "" : ", ") + (m.empty() ? r.mode + " (cannot run here)" : m);
      if (m != r.mode && !m.empty()) note = " (no usable /dev/kvm here: KVM runs fall back to emulation)";
    }
    fmt::print("{:>3}  {}\n     runs: {}{}\n     handout: {}\n", l.number, l.title, modes, note,
               (l.dir / "handout.md").string());
  }
  fmt::print("\n`ringscope lab show N` prints a handout; `ringscope lab check N` grades your work.\n");
  return 0;
}

int do_show(int number) {
  auto lab = find_lab(number);
  if (!lab.ok()) return report_error("lab", lab.error());
  std::ifstream in(lab.value().dir / "handout.md");
  if (!in) return report_error("lab", make_error(ErrorKind::NoInput, fmt::format("lab {} has no handout.md", number)));
  fmt::print("{}", std::string((std::istreambuf_iterator<char>(in)), {}));
  return 0;
}

// One run of the lab, done: its trace's events. Kept behind a pointer: the
// events' strings point into the Trace, which must never be copied.
struct DoneRun {
  std::string id, mode;
  Trace trace;
  std::string problem;  // why it did not run, or ran badly
};

std::unique_ptr<DoneRun> do_run(const labs::LabRun& r, const fs::path& student, const fs::path& work,
                                const HostInfo& host) {
  auto owned = std::make_unique<DoneRun>();
  DoneRun& done = *owned;
  done.id = r.id;
  done.mode = mode_here(r, host, &done.problem);
  if (done.mode.empty()) return owned;
  fmt::print(stderr, "ringscope lab: run {} ({}{})...\n", r.id, done.mode,
             done.mode != r.mode ? fmt::format(", instead of {}", r.mode) : "");
  SessionRequest req;
  if (!r.program.empty()) {
    BuildRequest b;
    for (const auto& s : r.program) b.sources.push_back(student / s);
    b.output = work / (r.id + ".elf");
    b.name = r.program_name;
    auto built = build_program(b);
    if (!built.ok()) {
      done.problem = built.error().message;
      return owned;
    }
    req.programs = {built.value().path};
    req.append = r.append;
  } else {
    req.target = r.scenario;
    req.params = r.params;
  }
  req.mode = done.mode;
  req.devices = done.mode == "emulation" ? r.devices : "";
  req.irqchip = done.mode == "emulation" ? "" : r.irqchip;
  req.trace_path = work / fmt::format("{}.{}.rtrace", r.id, done.mode);
  req.options.level = r.level == "full" ? TraceLevel::Full : TraceLevel::Exits;
  req.options.limits.wall_ms = 60'000;
  req.echo_console = false;
  if (!r.vmx_profile.empty() && done.mode == "emulation") {
    auto profile = vmx::load_profile(r.vmx_profile);
    if (!profile.ok()) {
      done.problem = profile.error().message;
      return owned;
    }
    req.options.vmx_profile = std::make_shared<const vmx::Profile>(std::move(profile).value());
  }
  auto outcome = run_session(req);
  if (!outcome.ok()) {
    done.problem = outcome.error().message;
    return owned;
  }
  const SessionOutcome& o = outcome.value();
  if (!o.result.ok())
    done.problem = fmt::format("the guest did not finish: {}", o.result.message);
  else if (o.result.end == RunEndReason::GuestExit && o.result.guest_status != r.expect_status)
    done.problem =
        fmt::format("the guest exited with status {}, the lab expects {}", o.result.guest_status, r.expect_status);
  auto trace = read_trace(o.trace_path.string());
  if (!trace.ok()) {
    if (done.problem.empty()) done.problem = trace.error().message;
    return owned;
  }
  done.trace = std::move(trace).value();
  return owned;
}

int do_check(const LabArgs& a) {
  auto found = find_lab(a.number);
  if (!found.ok()) return report_error("lab", found.error());
  const labs::Lab& lab = found.value();
  const fs::path student = fs::absolute(a.dir).lexically_normal();
  const fs::path work = student / fmt::format("lab-{}", lab.number);
  std::error_code ec;
  if (!fs::is_directory(student, ec))
    return report_error("lab", make_error(ErrorKind::NoInput,
                                          fmt::format("{} is not a directory; give --dir the directory with your "
                                                      "sources and answers.txt",
                                                      student.string())));
  fs::create_directories(work, ec);
  if (ec)
    return report_error(
        "lab", make_error(ErrorKind::IoError, fmt::format("cannot create {}: {}", work.string(), ec.message())));
  // With --json the report is one JSON object on stdout (for a course's
  // scripts); the human-readable lines go to stderr instead.
  std::FILE* out = a.json ? stderr : stdout;
  fmt::print(out, "lab {}: {}\n", lab.number, lab.title);

  std::map<std::string, double> answers;
  std::string answers_problem;
  if (!lab.answers.empty()) {
    std::ifstream in(student / "answers.txt");
    if (!in) {
      answers_problem = fmt::format("no answers.txt in {} (the handout lists the questions: {})", student.string(),
                                    (lab.dir / "handout.md").string());
    } else {
      auto parsed = labs::parse_answers(std::string((std::istreambuf_iterator<char>(in)), {}));
      if (!parsed.ok())
        answers_problem = parsed.error().message;
      else
        answers = parsed.value();
    }
    if (!answers_problem.empty()) fmt::print(out, "  ! {}\n", answers_problem);
  }

  HostInfo host = probe_host();
  std::vector<std::unique_ptr<DoneRun>> done;
  labs::RunEvents events;
  for (const auto& r : lab.runs) done.push_back(do_run(r, student, work, host));
  for (const auto& d : done) {
    if (!d->problem.empty()) fmt::print(out, "  ! run {}: {}\n", d->id, d->problem);
    if (!d->trace.events.empty()) events[d->id] = &d->trace.events;
  }

  size_t passed = 0;
  nlohmann::ordered_json report = {{"lab", lab.number}, {"title", lab.title}, {"dir", work.string()}};
  nlohmann::ordered_json problems = nlohmann::ordered_json::array(), checks = nlohmann::ordered_json::array();
  if (!answers_problem.empty()) problems.push_back(answers_problem);
  for (const auto& d : done)
    if (!d->problem.empty()) problems.push_back(fmt::format("run {}: {}", d->id, d->problem));
  for (const auto& c : lab.checks) {
    labs::CheckResult r = labs::evaluate(c, events, answers);
    passed += r.passed;
    fmt::print(out, "  {} {}  {}\n      {}\n", r.passed ? "PASS" : "FAIL", c.id, c.say, r.detail);
    if (!r.passed && !c.hint.empty()) fmt::print(out, "      hint: {}\n", c.hint);
    checks.push_back({{"id", c.id}, {"passed", r.passed}, {"say", c.say}, {"detail", r.detail}});
  }
  fmt::print(out,
             "\n{} of {} checks pass. Traces and your built program are in {}/ (open them with `ringscope view`).\n",
             passed, lab.checks.size(), work.string());
  if (a.json) {
    report["passed"] = passed;
    report["checks_total"] = lab.checks.size();
    report["problems"] = problems;
    report["checks"] = checks;
    fmt::print("{}\n", report.dump());
  }
  return passed == lab.checks.size() ? 0 : 1;
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
      "Exit status of check: 0 every check passes; 1 some do not; 66 no such lab.");
  auto* list = cmd->add_subcommand("list", "The labs, and the modes they run in on this host");
  list->callback([&ctx] { ctx.exit_code = do_list(); });
  auto* show = cmd->add_subcommand("show", "Print a lab's handout");
  show->add_option("number", a->number, "The lab's number")->required();
  show->callback([a, &ctx] { ctx.exit_code = do_show(a->number); });
  auto* check = cmd->add_subcommand("check", "Build your program, run the lab's guests and grade the traces");
  check->add_option("number", a->number, "The lab's number")->required();
  check->add_option("--dir", a->dir, "Your working directory: sources and answers.txt (default: here)");
  check->add_flag("--json", a->json, "The report as one JSON object on stdout (for a course's scripts)");
  check->callback([a, &ctx] { ctx.exit_code = do_check(*a); });
}

}  // namespace ringscope::cli
