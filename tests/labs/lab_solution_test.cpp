// Every lab under labs/, checked end to end by `ringscope lab check` against
// its reference solution (tests/labs/solutions/NN/: the student's sources
// and answers.txt): all checks pass where the lab runs, and where it cannot
// (it needs KVM and /dev/kvm is unusable) it says so with exit 69. The same
// again with RINGSCOPE_NO_KVM=1: labs with an emulation fallback pass there,
// the others exit 69 with the reason, never FAIL. A wrong answer fails,
// without being told the right one; a missing answers.txt and a missing
// source fail with a sentence; `lab list`, `lab show` (in the reader's
// language) and `lab validate` work; the marker phases each scenario's
// manifest declares are the ones it emits.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "checker/lab.h"
#include "ringscope/host.h"
#include "ringscope/scenario.h"
#include "ringscope/trace.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int rc = -1;
  std::string out, err;
};

Outcome ringscope(const std::string& args, const fs::path& dir, const std::string& env = "") {
  std::string cmd = "cd '" + dir.string() + "' && " + env + (env.empty() ? "" : " ") + RINGSCOPE_BIN + " " + args +
                    " >out.txt 2>err.txt";
  int st = std::system(cmd.c_str());
  Outcome o;
  o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  auto slurp = [&](const char* f) {
    std::ifstream in(dir / f);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  o.out = slurp("out.txt");
  o.err = slurp("err.txt");
  return o;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("ringscope-lab-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

fs::path solution_of(int n) {
  return fs::path(RINGSCOPE_LAB_SOLUTIONS) / (n < 10 ? "0" + std::to_string(n) : std::to_string(n));
}

constexpr const char* kNoKvm = "RINGSCOPE_NO_KVM=1";
// An English reader, whatever the environment the tests run in.
constexpr const char* kEnglish = "env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8";

// Why lab n cannot run on this host (or with KVM hidden): a run that needs
// KVM, has no emulation fallback, and /dev/kvm does not open. Empty if it can.
std::string why_not_here(int n, bool kvm_hidden) {
  auto labs = ringscope::labs::load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  if (!labs.ok()) return {};
  ringscope::HostInfo host = ringscope::probe_host();
  const char* env = std::getenv("RINGSCOPE_NO_KVM");
  const bool usable = host.kvm_openable && !kvm_hidden && !(env && std::string(env) == "1");
  const std::string why = kvm_hidden ? "RINGSCOPE_NO_KVM=1 hides /dev/kvm" : "/dev/kvm: " + host.kvm_open_error;
  for (const auto& l : labs.value())
    if (l.number == n)
      for (const auto& r : l.runs)
        if (mode_needs_kvm(r.mode) && !r.fallback_mode && !usable)
          return "run " + r.id + " needs a usable /dev/kvm (" + why + ")";
  return {};
}

// Checks the reference solution of lab n; where the lab cannot run, checks
// that it says so (exit 69, the reason, no FAIL) and returns the reason.
std::string check_solution(int n, bool kvm_hidden) {
  const fs::path solution = solution_of(n);
  EXPECT_TRUE(fs::is_directory(solution)) << "every lab needs a reference solution in " << solution;
  fs::path dir = fresh_dir("solution-" + std::to_string(n) + (kvm_hidden ? "-nokvm" : ""));
  fs::copy(solution, dir, fs::copy_options::recursive);
  const std::string env = kvm_hidden ? kNoKvm : "";
  Outcome o = ringscope("lab check " + std::to_string(n), dir, env);
  std::string why = why_not_here(n, kvm_hidden);
  // A run in a mode this build has no backend for (bt, until its backend is
  // built): no machine helps, so the lab says so, like a host without KVM.
  const bool unbuilt = o.out.find("which this build of ringscope does not have") != std::string::npos;
  if (unbuilt) why = "a run's mode is not in this build: " + o.out;
  if (!why.empty()) {
    EXPECT_EQ(o.rc, 69) << "a lab this host cannot run exits 69 (EX_UNAVAILABLE)\n" << o.out << o.err;
    EXPECT_NE(o.out.find("cannot run on this host: "), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("FAIL"), std::string::npos) << "not a failing student: " << o.out;
    EXPECT_FALSE(fs::exists(dir / ("lab-" + std::to_string(n)))) << "nothing ran";
    Outcome j = ringscope("lab check " + std::to_string(n) + " --json", dir, env);
    EXPECT_EQ(j.rc, 69);
    auto report = nlohmann::json::parse(j.out, nullptr, false);
    EXPECT_FALSE(report.is_discarded()) << j.out;
    if (!report.is_discarded()) {
      EXPECT_EQ(report.value("status", ""), "unavailable") << j.out;
      EXPECT_NE(report.value("reason", "").find(unbuilt ? "this build" : "KVM"), std::string::npos) << j.out;
    }
  } else {
    EXPECT_EQ(o.rc, 0) << o.out << o.err;
    EXPECT_EQ(o.out.find("FAIL"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("checks pass"), std::string::npos) << o.out;
    EXPECT_TRUE(fs::is_directory(dir / ("lab-" + std::to_string(n)))) << "the traces are kept for the student";
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
  return why;
}

class LabSolution : public ::testing::TestWithParam<int> {};

TEST_P(LabSolution, TheReferenceSolutionPassesEveryCheck) {
  if (std::string why = check_solution(GetParam(), false); !why.empty())
    GTEST_SKIP() << "lab " << GetParam() << " cannot run on this host (checked that it says so, exit 69): " << why;
}

// As a student without KVM: the labs with a fallback run in emulation and
// pass; the others say they cannot run here, with exit 69.
TEST_P(LabSolution, WithKvmHiddenItPassesInEmulationOrSaysItCannotRun) { check_solution(GetParam(), true); }

std::vector<int> lab_numbers() {
  std::vector<int> out;
  auto labs = ringscope::labs::load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  if (labs.ok())
    for (const auto& l : labs.value()) out.push_back(l.number);
  return out;
}

// Named by the lab's number (Labs/LabSolution.X/lab7), not its position.
INSTANTIATE_TEST_SUITE_P(Labs, LabSolution, ::testing::ValuesIn(lab_numbers()),
                         [](const ::testing::TestParamInfo<int>& info) { return "lab" + std::to_string(info.param); });

// Tolerances need the answer the lab is about: lab 2's "a little over 2
// exits per byte" (the end marker's exit), not 2. Feedback shows a port the
// way the student wrote it, in hex.
TEST(LabCheck, TheRoundedAnswerDoesNotPassAndPortsAreShownInHex) {
  fs::path dir = fresh_dir("rounded");
  fs::copy(fs::path(RINGSCOPE_LAB_SOLUTIONS) / "02", dir, fs::copy_options::recursive);
  std::ofstream(dir / "answers.txt") << "exits_per_byte: 2\nstatus_port: 0x3f8\nexit_reason: 30\n";
  Outcome o = ringscope("lab check 2", dir);
  if (o.rc == 69) GTEST_SKIP() << "lab 2 cannot run on this host: " << o.out;
  EXPECT_EQ(o.rc, 1) << o.out;
  EXPECT_NE(o.out.find("FAIL per-byte"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("your answer status_port: 0x3f8 is not"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("1016"), std::string::npos) << "ports in hex: " << o.out;
  EXPECT_NE(o.out.find("PASS reason"), std::string::npos) << o.out;
  fs::remove_all(dir);
}

// A student's program that crashes inside the phase: the crash is reported
// as such, and the right answer about the system calls it made before still
// passes (lab 1's vector is the system calls', not the #PF's).
TEST(LabCheck, ACrashIsReportedAndTheSystemCallsBeforeItStillCount) {
  fs::path dir = fresh_dir("crash");
  fs::copy(fs::path(RINGSCOPE_LAB_SOLUTIONS) / "01", dir, fs::copy_options::recursive);
  std::ofstream(dir / "lab1.c") << "#include <ringscope/user.h>\n"
                                   "int main(int argc, char **argv) {\n"
                                   "  marker(MARK_BEGIN, \"lab1: getpid\", 5);\n"
                                   "  for (int i = 0; i < 5; i++)\n"
                                   "    getpid();\n"
                                   "  *(volatile int *)(unsigned long)argc = 1;  /* page 0 is not mapped */\n"
                                   "  marker(MARK_END, \"lab1: getpid\", 5);\n"
                                   "  return 0;\n"
                                   "}\n";
  Outcome o = ringscope("lab check 1", dir);
  EXPECT_EQ(o.rc, 1) << o.out;
  EXPECT_NE(o.out.find("your program crashed: the kernel killed it for #PF"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("PASS vector"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("FAIL phase"), std::string::npos) << "the missing end marker still fails: " << o.out;
  fs::remove_all(dir);
}

TEST(LabCheck, AWrongAnswerFailsWithoutTheRightOne) {
  fs::path dir = fresh_dir("wrong");
  fs::copy(fs::path(RINGSCOPE_LAB_SOLUTIONS) / "01", dir, fs::copy_options::recursive);
  std::ofstream(dir / "answers.txt") << "vector: 6\ntransitions_per_call: 2\nexits_in_phase: 1\n";
  Outcome o = ringscope("lab check 1", dir);
  EXPECT_EQ(o.rc, 1) << o.out;
  EXPECT_NE(o.out.find("FAIL vector"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("your answer vector: 6"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("measured 64"), std::string::npos) << "the right vector must not be printed: " << o.out;
  EXPECT_NE(o.out.find("PASS transitions"), std::string::npos) << "the other checks still run: " << o.out;
  fs::remove_all(dir);
}

// --json: one object a course's script can read; the text goes to stderr.
TEST(LabCheck, JsonReportForScripts) {
  fs::path dir = fresh_dir("json");
  fs::copy(fs::path(RINGSCOPE_LAB_SOLUTIONS) / "01", dir, fs::copy_options::recursive);
  std::ofstream(dir / "answers.txt") << "vector: 6\ntransitions_per_call: 2\nexits_in_phase: 1\n";
  Outcome o = ringscope("lab check 1 --json", dir);
  EXPECT_EQ(o.rc, 1);
  auto j = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << o.out;
  EXPECT_EQ(j["lab"], 1);
  EXPECT_EQ(j["checks_total"], 5);
  EXPECT_EQ(j["passed"], 4);
  bool vector_failed = false;
  for (const auto& c : j["checks"])
    if (c["id"] == "vector") vector_failed = !c["passed"].get<bool>();
  EXPECT_TRUE(vector_failed);
  EXPECT_NE(o.err.find("FAIL vector"), std::string::npos) << "the text report still goes to stderr";
  fs::remove_all(dir);
}

TEST(LabCheck, MissingWorkIsReportedNotCrashedOn) {
  fs::path dir = fresh_dir("missing");
  Outcome o = ringscope("lab check 1", dir);  // no lab1.c, no answers.txt
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.out.find("no answers.txt"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("lab1.c: no such file"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("FAIL"), std::string::npos) << o.out;
  o = ringscope("lab check 99", dir);
  EXPECT_EQ(o.rc, 66);
  EXPECT_NE(o.err.find("there is no lab 99"), std::string::npos) << o.err;
  o = ringscope("lab check 1 --dir no-such-dir", dir);
  EXPECT_EQ(o.rc, 66);
  EXPECT_NE(o.err.find("not a directory"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir / "no-such-dir")) << "a mistyped --dir is not created";
  fs::remove_all(dir);
}

TEST(LabCheck, ListAndShow) {
  fs::path dir = fresh_dir("list");
  Outcome o = ringscope("lab list", dir);
  EXPECT_EQ(o.rc, 0) << o.err;
  for (int n : lab_numbers()) EXPECT_NE(o.out.find(std::to_string(n) + "  "), std::string::npos) << o.out;
  o = ringscope("lab show 2", dir, kEnglish);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("# Lab 2"), std::string::npos) << o.out.substr(0, 200);
  fs::remove_all(dir);
}

// `lab show N` prints handout.ko.md, byte for byte, to a reader whose
// --lang, or else LANG, LC_MESSAGES or LANGUAGE, is Korean, and handout.md
// to anyone else.
TEST(LabCheck, ShowPrintsTheHandoutInTheReadersLanguage) {
  fs::path dir = fresh_dir("lang");
  auto slurp = [](const fs::path& f) {
    std::ifstream in(f);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  auto labs = ringscope::labs::load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  ASSERT_TRUE(labs.ok()) << labs.error().message;
  for (const auto& l : labs.value()) {
    const std::string n = std::to_string(l.number);
    const std::string ko = slurp(l.dir / "handout.ko.md"), en = slurp(l.dir / "handout.md");
    ASSERT_FALSE(ko.empty()) << l.dir;
    for (const char* env : {"env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=ko_KR.UTF-8",
                            "env -u LANGUAGE -u LC_ALL LANG=C LC_MESSAGES=ko_KR.UTF-8",
                            "env -u LC_ALL -u LC_MESSAGES LANG=en_US.UTF-8 LANGUAGE=ko"}) {
      Outcome o = ringscope("lab show " + n, dir, env);
      EXPECT_EQ(o.rc, 0) << env << ": " << o.err;
      EXPECT_EQ(o.out, ko) << "lab " << n << " under " << env;
    }
    Outcome o = ringscope("lab show " + n, dir, kEnglish);
    EXPECT_EQ(o.out, en) << "lab " << n << " in English";
    o = ringscope("lab show " + n + " --lang ko", dir, kEnglish);
    EXPECT_EQ(o.out, ko) << "lab " << n << ": --lang ko outranks the environment";
    o = ringscope("--lang en lab show " + n, dir, "env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=ko_KR.UTF-8");
    EXPECT_EQ(o.out, en) << "lab " << n << ": --lang en outranks the environment";
  }
  Outcome o = ringscope("lab list", dir, "env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=ko_KR.UTF-8");
  EXPECT_NE(o.out.find("handout.ko.md"), std::string::npos) << "lab list names the Korean handouts: " << o.out;

  // An instructor's lab with handout.md alone: a Korean reader gets it, and a note saying so.
  fs::path lab = dir / "labs" / "92-mine";
  fs::create_directories(lab);
  std::string json = slurp(fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "01-rings" / "lab.json");
  json.replace(json.find("\"number\": 1"), 11, "\"number\": 92");
  std::ofstream(lab / "lab.json") << json;
  std::ofstream(lab / "handout.md") << "# my own lab\n";
  o = ringscope(
      "lab show 92", dir,
      "env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=ko_KR.UTF-8 RINGSCOPE_LABS_DIR='" + (dir / "labs").string() + "'");
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out, "# my own lab\n");
  EXPECT_NE(o.err.find("handout.ko.md"), std::string::npos) << "the note names what is missing: " << o.err;
  fs::remove_all(dir);
}

// One malformed line in answers.txt is named; the other answers still count.
TEST(LabCheck, AMalformedAnswersLineIsNamedAndTheRestCount) {
  fs::path dir = fresh_dir("badline");
  fs::copy(solution_of(1), dir, fs::copy_options::recursive);
  std::ofstream(dir / "answers.txt") << "vector: 0x40\ntransitions_per_call 2\nexits_in_phase: 1\nvector: 64\n";
  Outcome o = ringscope("lab check 1", dir);
  EXPECT_EQ(o.rc, 1) << o.out;
  EXPECT_NE(o.out.find("answers.txt line 2: \"transitions_per_call 2\" has no colon"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("answers.txt line 4: \"vector\" was already answered on line 1"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("PASS exits"), std::string::npos) << "a good line still counts: " << o.out;
  EXPECT_NE(o.out.find("FAIL vector"), std::string::npos) << "a key given twice counts neither time: " << o.out;
  fs::remove_all(dir);
}

// A handout that is /dev/zero or a FIFO is a clear error, not bad_alloc or a
// hang; `lab validate` reports it too (65), and a sound lab validates (0).
TEST(LabCheck, ShowAndValidateRefuseDevicesAndFifos) {
  fs::path dir = fresh_dir("devices");
  fs::path lab = dir / "labs" / "91-odd";
  fs::create_directories(lab);
  std::string json;
  {
    std::ifstream in(fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "01-rings" / "lab.json");
    json = std::string((std::istreambuf_iterator<char>(in)), {});
  }
  json.replace(json.find("\"number\": 1"), 11, "\"number\": 91");
  std::ofstream(lab / "lab.json") << json;
  fs::create_symlink("/dev/zero", lab / "handout.md");
  const std::string env = "RINGSCOPE_LABS_DIR='" + (dir / "labs").string() + "'";
  Outcome o = ringscope("lab show 91", dir, env);
  EXPECT_EQ(o.rc, 65) << o.out << o.err;
  EXPECT_NE(o.err.find("handout"), std::string::npos) << o.err;
  fs::remove(lab / "handout.md");
  ASSERT_EQ(mkfifo((lab / "handout.md").c_str(), 0600), 0);
  o = ringscope("lab show 91", dir, "timeout 20 env " + env);
  EXPECT_EQ(o.rc, 65) << "a FIFO is refused, not waited on: " << o.err;
  o = ringscope("lab validate " + lab.string(), dir);
  EXPECT_EQ(o.rc, 65) << o.out << o.err;
  EXPECT_NE(o.out.find("handout"), std::string::npos) << o.out;
  o = ringscope("lab validate " + (fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "04-irqchip").string() + " --answers " +
                    (solution_of(4) / "answers.txt").string(),
                dir);
  EXPECT_EQ(o.rc, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("is valid"), std::string::npos) << o.out;
  std::ofstream(dir / "answers.txt") << "vmm_io_exits: 13\nvmm_io_exits: 13\n";
  o = ringscope(
      "lab validate " + (fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "04-irqchip").string() + " --answers answers.txt", dir);
  EXPECT_EQ(o.rc, 65) << o.out;
  EXPECT_NE(o.out.find("line 2"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("no answer \"kernel_exits\""), std::string::npos) << o.out;
  fs::remove_all(dir);
}

// The marker phases a scenario's manifest declares (what a lab's `between`
// is checked against when it loads) are exactly the phases a real run of it
// opens, with its default params. Run in emulation: the same guest code
// emits the same markers in every mode.
TEST(ScenarioMarkers, TheDeclaredPhasesAreTheOnesARunEmits) {
  fs::path dir = fresh_dir("markers");
  for (const auto& s : ringscope::builtin_scenarios()) {
    SCOPED_TRACE(s.name);
    const fs::path trace = dir / (s.name + ".rtrace");
    Outcome o =
        ringscope("run " + s.name + " --mode emulation --quiet --trace '" + trace.string() + "' </dev/null", dir);
    if (o.rc != 0) {
      ADD_FAILURE() << "the run failed: " << o.out << o.err;
      continue;
    }
    std::set<std::string> seen, declared;
    auto st = ringscope::for_each_event(trace.string(), {}, [&](const ringscope::Event& e) {
      if (e.kind == ringscope::EventKind::Marker && e.phase == ringscope::MarkerPhase::Begin) seen.emplace(e.name);
      return true;
    });
    if (!st.ok()) {
      ADD_FAILURE() << st.error().message;
      continue;
    }
    ringscope::labs::LabRun run;
    run.scenario = s.name;
    auto labels = ringscope::labs::run_phase_labels(run);
    if (!labels.ok()) {
      ADD_FAILURE() << labels.error().message;
      continue;
    }
    declared.insert(labels.value().begin(), labels.value().end());
    EXPECT_EQ(seen, declared) << "scenarios/" << s.name << "/scenario.json \"markers\" must list the phases it opens";
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
