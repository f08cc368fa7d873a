// Every lab under labs/, checked end to end by `ringscope lab check` against
// its reference solution (tests/labs/solutions/NN/: the student's sources
// and answers.txt): all checks pass. A wrong answer fails, without being
// told the right one; a missing answers.txt and a missing source fail with
// a sentence; `lab list` and `lab show` work.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "checker/lab.h"
#include "ringscope/host.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int rc = -1;
  std::string out, err;
};

Outcome ringscope(const std::string& args, const fs::path& dir) {
  std::string cmd = "cd '" + dir.string() + "' && " + RINGSCOPE_BIN + " " + args + " >out.txt 2>err.txt";
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

class LabSolution : public ::testing::TestWithParam<int> {};

// A lab whose runs need KVM and have no emulation fallback cannot run on a
// host without a usable /dev/kvm; there its checks would fail for the host's
// reason, not the lab's.
std::string why_not_here(int n) {
  auto labs = ringscope::labs::load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  if (!labs.ok()) return {};
  ringscope::HostInfo host = ringscope::probe_host();
  for (const auto& l : labs.value())
    if (l.number == n)
      for (const auto& r : l.runs)
        if (r.mode != "emulation" && r.fallback_mode.empty() && !host.kvm_openable)
          return "run " + r.id + " needs a usable /dev/kvm: " + host.kvm_open_error;
  return {};
}

TEST_P(LabSolution, TheReferenceSolutionPassesEveryCheck) {
  const int n = GetParam();
  if (std::string why = why_not_here(n); !why.empty()) GTEST_SKIP() << why;
  const fs::path solution = fs::path(RINGSCOPE_LAB_SOLUTIONS) / (n < 10 ? "0" + std::to_string(n) : std::to_string(n));
  ASSERT_TRUE(fs::is_directory(solution)) << "every lab needs a reference solution in " << solution;
  fs::path dir = fresh_dir("solution-" + std::to_string(n));
  fs::copy(solution, dir, fs::copy_options::recursive);
  Outcome o = ringscope("lab check " + std::to_string(n), dir);
  EXPECT_EQ(o.rc, 0) << o.out << o.err;
  EXPECT_EQ(o.out.find("FAIL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("checks pass"), std::string::npos) << o.out;
  EXPECT_TRUE(fs::is_directory(dir / ("lab-" + std::to_string(n)))) << "the traces are kept for the student";
  if (!HasFailure()) fs::remove_all(dir);
}

std::vector<int> lab_numbers() {
  std::vector<int> out;
  auto labs = ringscope::labs::load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  if (labs.ok())
    for (const auto& l : labs.value()) out.push_back(l.number);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Labs, LabSolution, ::testing::ValuesIn(lab_numbers()));

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
  o = ringscope("lab show 2", dir);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("# Lab 2"), std::string::npos) << o.out.substr(0, 200);
  fs::remove_all(dir);
}

}  // namespace
