// `ringscope compare` end to end: the built binary runs a small scenario in
// every mode this host supports and the JSON has the promised structure and
// sane values; a bad mode is a usage error; a mode the scenario cannot run
// is skipped with its reason.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ringscope/host.h"
#include "table_numbers.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int rc = -1;
  std::string out;
};

Outcome run(const std::string& args) {
  Outcome o;
  std::string cmd = std::string(RINGSCOPE_BIN) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  int status = pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

class Compare : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-compare-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  const json* mode(const json& j, const std::string& name) {
    for (const auto& m : j["modes"])
      if (m["mode"] == name) return &m;
    return nullptr;
  }
  fs::path dir_;
};

TEST_F(Compare, HelloInEveryModeGivesTheJsonScriptsExpect) {
  Outcome o = run("compare hello --repeat 2 --json --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  EXPECT_EQ(j["scenario"], "hello");
  EXPECT_EQ(j["repeat"], 2);
  ASSERT_EQ(j["modes"].size(), 5u) << "every mode is listed, run or skipped";
  ringscope::HostInfo host = ringscope::probe_host();
  const json* emu = mode(j, "emulation");
  ASSERT_TRUE(emu);
  ASSERT_EQ((*emu)["status"], "ok") << emu->dump();
  EXPECT_EQ((*emu)["exits_source"], "vmx-model");
  EXPECT_EQ((*emu)["vmx_profile"], "kvm-default");
  EXPECT_GT((*emu)["instructions"].get<double>(), 1000);
  EXPECT_EQ((*emu)["runs"].size(), 2u);
  // bt (docs/bt.md): hello is all kernel code, translated, so nothing exits.
  const json* bt = mode(j, "bt");
  ASSERT_TRUE(bt);
  EXPECT_EQ((*bt)["status"], host.kvm_openable ? "ok" : "skipped") << bt->dump();
  for (const char* name : {"full-virt", "paravirt", "emulation", "hvm-pv"}) {
    const json* m = mode(j, name);
    ASSERT_TRUE(m) << name;
    if ((*m)["status"] == "skipped") {
      EXPECT_FALSE(host.kvm_openable && std::string(name) != "paravirt" && std::string(name) != "hvm-pv")
          << name << " skipped: " << m->dump();
      EXPECT_FALSE((*m)["reason"].get<std::string>().empty());
      continue;
    }
    EXPECT_EQ((*m)["status"], "ok") << m->dump();
    const json& wall = (*m)["wall_ns"];
    EXPECT_GT(wall["median"].get<double>(), 0) << name;
    EXPECT_LE(wall["min"].get<double>(), wall["median"].get<double>());
    EXPECT_GE(wall["max"].get<double>(), wall["median"].get<double>());
    EXPECT_GT((*m)["exits"]["total"].get<double>(), 0) << name;
    EXPECT_GE((*m)["exits"]["by_reason"].value("io_instruction", 0.0), 1.0) << name << ": hello prints by port I/O";
    for (const auto& r : (*m)["runs"]) {
      EXPECT_TRUE(r["ok"].get<bool>());
      EXPECT_TRUE(fs::exists(r["trace"].get<std::string>())) << r["trace"];
    }
    EXPECT_TRUE(fs::exists(dir_ / (std::string("hello.") + name + ".1.rtrace")));
    EXPECT_TRUE(fs::exists(dir_ / (std::string("hello.") + name + ".2.rtrace")));
  }
  const json* fv = mode(j, "full-virt");
  if (fv && (*fv)["status"] == "ok") {
    EXPECT_EQ((*fv)["exits_source"], "kvm");
    EXPECT_TRUE((*fv)["instructions"].is_null()) << "KVM does not count instructions at level exits";
    // The model's user-space exits are the real ones (the cross-check test
    // proves it exit by exit); here the table must say so too.
    EXPECT_EQ((*fv)["exits"]["by_reason"]["io_instruction"], (*emu)["exits"]["by_reason"]["io_instruction"]);
    EXPECT_TRUE(j["ratios"]["emulation_over_full_virt_time"].is_number());
    EXPECT_GT(j["ratios"]["emulation_over_full_virt_time"].get<double>(), 0);
  }
}

TEST_F(Compare, PerOperationFiguresComeFromTheWorkPhase) {
  Outcome o = run("compare syscalls --param n=4 --repeat 1 --modes emulation --json --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  ASSERT_TRUE(j["work_phase"].is_object()) << o.out;
  EXPECT_EQ(j["work_phase"]["ops"], 4);
  EXPECT_EQ(j["work_phase"]["unit"], "writes");
  const json* emu = mode(j, "emulation");
  ASSERT_TRUE(emu);
  EXPECT_GT((*emu)["per_op_ns"]["median"].get<double>(), 0);
  EXPECT_GT((*emu)["exits"]["in_work_phase"].get<double>(), 0);
  EXPECT_GT(j["ratios"]["exits_per_op"]["emulation"].get<double>(), 2.0) << "each write prints several bytes";
  EXPECT_EQ(j["modes"].size(), 1u);
}

// nanobench: one phase per row of Adams & Agesen's table, each with time and
// counts per operation, read from the trace's events; then the paper's
// pattern row by row. Counts only: an in is one exit under full-virt (real)
// and under emulation (the VT-x model), a system call or a #DE none.
TEST_F(Compare, NanobenchGivesEachRowOfThePaperPerOperation) {
  bool kvm = ringscope::probe_host().kvm_openable;
  std::string modes = kvm ? "full-virt,emulation" : "emulation";
  Outcome o = run("compare nanobench --param n=20 --repeat 1 --json --modes " + modes + " --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  const std::vector<std::string> rows = {"syscall", "in", "cr8wr", "call/ret", "pgfault", "divzero", "ptemod"};
  for (const std::string name : {"emulation", "full-virt"}) {
    const json* m = mode(j, name);
    if (!m) continue;
    SCOPED_TRACE(name);
    ASSERT_EQ((*m)["phases"].size(), rows.size()) << o.out;
    std::map<std::string, json> by_row;
    for (size_t i = 0; i < rows.size(); i++) {
      const json& p = (*m)["phases"][i];
      EXPECT_EQ(p["row"], rows[i]) << "in the paper's order";
      EXPECT_EQ(p["ops"], 20);
      EXPECT_GT(p["per_op_ns"]["median"].get<double>(), 0);
      by_row[rows[i]] = p;
    }
    EXPECT_EQ(by_row["in"]["exits_per_op"].get<double>(), 1.0) << "one I/O exit per in, the marker's own left out";
    EXPECT_EQ(by_row["syscall"]["exits_per_op"].get<double>(), 0.0) << "the guest's own system call";
    EXPECT_EQ(by_row["divzero"]["exits_per_op"].get<double>(), 0.0) << "#DE is the guest's";
    EXPECT_EQ(by_row["call/ret"]["exits_per_op"].get<double>(), 0.0);
  }
  EXPECT_EQ(mode(j, "full-virt") != nullptr, kvm);

  Outcome text = run("compare nanobench --param n=20 --repeat 1 --modes emulation --dir " + dir_.string());
  ASSERT_EQ(text.rc, 0) << text.out;
  EXPECT_NE(text.out.find("per operation, phase by phase"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("in: 20 reads"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("syscall: in the paper hardware assist (VT-x) is faster"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("in: in the paper binary translation is faster"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("e+"), std::string::npos) << "fixed point, never an exponent";
}

// disk-io: exits and time per KiB moved (N sectors written, N read back),
// and the paravirt path's cut against full-virt, the issue's measure.
TEST_F(Compare, DiskIoGivesExitsAndTimePerKiBForEachKvmMode) {
  if (auto h = ringscope::probe_host(); !h.kvm_openable)
    GTEST_SKIP() << "needs /dev/kvm for full-virt and paravirt: " << h.kvm_open_error;
  Outcome o = run("compare disk-io --repeat 1 --modes full-virt,paravirt --json --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  ASSERT_TRUE(j["work_phase"].is_object()) << o.out;
  EXPECT_EQ(j["work_phase"]["unit"], "sectors");
  EXPECT_EQ(j["work_phase"]["ops"], 32) << "16 sectors written and 16 read back";
  const json& r = j["ratios"];
  double fv = r["exits_per_kib"]["full-virt"].get<double>(), pv = r["exits_per_kib"]["paravirt"].get<double>();
  EXPECT_GT(fv, 100.0) << "ATA PIO: a port access per 4 bytes";
  EXPECT_LT(pv, 5.0) << "virtio-blk: one notify per 16-sector request";
  EXPECT_NEAR(r["paravirt_over_full_virt_exits_per_kib"].get<double>(), pv / fv, 1e-9);
  EXPECT_GT(r["time_per_kib_us"]["full-virt"].get<double>(), 0);
  EXPECT_GT(r["time_per_kib_us"]["paravirt"].get<double>(), 0);
  EXPECT_TRUE(r["paravirt_over_full_virt_time_per_kib"].is_number());
}

// The table's figures read like a paper's: fixed point, digits by magnitude,
// thousands grouped, a unit where there is one, never an exponent.
TEST(CompareTableNumbers, FixedPointWithUnitsAndNoExponent) {
  using namespace ringscope::cli;
  EXPECT_EQ(count_text(25130), "25,130");
  EXPECT_EQ(count_text(25130.4), "25,130");
  EXPECT_EQ(count_text(0), "0");
  EXPECT_EQ(fixed_figure(1234567.0), "1,234,567");
  EXPECT_EQ(fixed_figure(28.94), "28.9");
  EXPECT_EQ(fixed_figure(1.0625), "1.06");
  EXPECT_EQ(fixed_figure(0.0412345), "0.0412");
  EXPECT_EQ(fixed_figure(-3.5), "-3.50");
  EXPECT_EQ(fixed_figure(-0.0001, 2), "0.00") << "no -0";
  EXPECT_EQ(duration_text(6.553e6), "6.55 ms");
  EXPECT_EQ(duration_text(906190), "906 µs");
  EXPECT_EQ(duration_text(412), "412 ns");
  EXPECT_EQ(duration_text(1.2e9), "1.20 s");
  EXPECT_EQ(duration_spread_text(35.51e6, 35.08e6, 36.32e6), "35.5 ms (35.1-36.3)");
  EXPECT_EQ(duration_spread_text(906190, 889067, 1139597), "906 µs (889-1,140)");
  EXPECT_EQ(duration_spread_text(2e6, 2e6, 2e6), "2.00 ms") << "no spread when there is none";
  EXPECT_EQ(ratio_text(65532.2), "65,532×");
  EXPECT_EQ(ratio_text(0.07), "0.0700×");
  for (double v : {0.0, 1e-12, 3e-7, 0.5, 9.999, 99.99, 2.513e4, 6.55e4, 1e12, 1e30, -7e9})
    for (const std::string& t :
         {fixed_figure(v), count_text(v), duration_text(v), ratio_text(v), duration_spread_text(v, v / 2, v * 2)}) {
      EXPECT_EQ(t.find("e+"), std::string::npos) << v << " -> " << t;
      EXPECT_EQ(t.find("e-"), std::string::npos) << v << " -> " << t;
    }
  for (double ns : {1.0, 5e3, 7e6, 3e9})
    EXPECT_NE(duration_text(ns).find_first_of("nµms"), std::string::npos) << "a unit: " << duration_text(ns);
  EXPECT_EQ(fixed_figure(std::numeric_limits<double>::infinity()), "-");
  EXPECT_EQ(fixed_figure(std::nan("")), "-");
}

// hello has no work phase and (under emulation, level exits) no traps: the
// text table leaves such rows out, says which, and shows no exponent.
TEST_F(Compare, TheTableLeavesOutAllZeroRowsAndPrintsFixedPoint) {
  Outcome o = run("compare hello --repeat 1 --modes emulation --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_EQ(o.out.find("e+"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" ms"), std::string::npos) << "times carry their unit\n" << o.out;
  EXPECT_NE(o.out.find("left out (0 or - in every mode):"), std::string::npos) << o.out;
  std::istringstream lines(o.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.find("left out") == 0) continue;
    // A table row: a label, then one cell per mode; none shows only 0 or "-".
    size_t cell = line.find_last_of(' ');
    if (cell == std::string::npos || line.size() < 36) continue;
    std::string last = line.substr(cell + 1);
    EXPECT_FALSE(last == "0" || last == "-" || last == "0/0") << "an all-zero row: " << line;
  }
}

TEST_F(Compare, TheKvmColumnsSayNotApplicableWhereTheTraceLevelIsBlind) {
  if (auto h = ringscope::probe_host(); !h.kvm_openable)
    GTEST_SKIP() << "needs /dev/kvm for a full-virt column: " << h.kvm_open_error;
  Outcome o = run("compare hello --repeat 1 --modes full-virt,emulation --dir " + dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("n/a *"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("* n/a: this trace level cannot see it"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("e+"), std::string::npos) << o.out;
  // The note on an inverted result: only on PVM, only when emulation was faster.
  const std::string key = "emulation / full-virt time (wall time): ";
  size_t at = o.out.find(key);
  ASSERT_NE(at, std::string::npos) << o.out;
  double ratio = std::stod(o.out.substr(at + key.size()));
  bool inverted = ringscope::probe_host().flavour == ringscope::KvmFlavour::Pvm && ratio < 1;
  EXPECT_EQ(o.out.find("emulation is faster here: this host's KVM is PVM") != std::string::npos, inverted) << o.out;
}

TEST_F(Compare, AnUnknownModeIsAUsageError) {
  EXPECT_EQ(run("compare hello --modes full-virt,warp-drive --dir " + dir_.string()).rc, 64);
  EXPECT_EQ(run("compare hello --repeat 0 --dir " + dir_.string()).rc, 64);
  EXPECT_EQ(run("compare no-such-scenario --dir " + dir_.string()).rc, 66);
}

TEST_F(Compare, AModeTheScenarioCannotRunIsSkippedWithTheReason) {
  // A scenario with a kernel of its own and no PV build: paravirt cannot run it.
  fs::create_directories(dir_ / "own");
  std::ofstream(dir_ / "own" / "scenario.json")
      << R"({"name": "own-kernel", "title": "t", "description": "d", "kernel": ")" << RINGSCOPE_GUEST_KERNEL
      << R"(", "kernel_args": "task=hello", "expected_status": 0})";
  Outcome o = run("compare " + (dir_ / "own").string() + " --modes paravirt,emulation --repeat 1 --json --dir " +
                  (dir_ / "traces").string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  const json* pv = mode(j, "paravirt");
  ASSERT_TRUE(pv);
  EXPECT_EQ((*pv)["status"], "skipped");
  // The first reason that applies: without a usable /dev/kvm (or with
  // RINGSCOPE_NO_KVM set) paravirt is refused for that before its kernel.
  const char* why = ringscope::probe_host().kvm_openable ? "no PV kernel" : "needs /dev/kvm";
  EXPECT_NE((*pv)["reason"].get<std::string>().find(why), std::string::npos) << (*pv)["reason"];
  EXPECT_EQ((*mode(j, "emulation"))["status"], "ok");
  Outcome text =
      run("compare " + (dir_ / "own").string() + " --modes paravirt --repeat 1 --dir " + (dir_ / "traces").string());
  EXPECT_EQ(text.rc, 69) << "no mode could run it";
  EXPECT_NE(text.out.find("paravirt: skipped"), std::string::npos) << text.out;
}

}  // namespace

namespace ringscope {
namespace {

TEST_F(Compare, LevelFullCountsTheSameRingTransitionsUnderKvmAndEmulation) {
  if (auto h = probe_host(); !h.kvm_openable)
    GTEST_SKIP() << "needs /dev/kvm for the full-virt run: " << h.kvm_open_error;
  Outcome o = run("compare syscalls --param n=3 --repeat 1 --level full --modes full-virt,emulation --json --dir " +
                  dir_.string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  const json* kvm = mode(j, "full-virt");
  const json* emu = mode(j, "emulation");
  ASSERT_TRUE(kvm && emu);
  EXPECT_GT((*kvm)["ring_transitions"].get<double>(), 0) << "single-stepping sees the system calls";
  EXPECT_EQ((*kvm)["ring_transitions"], (*emu)["ring_transitions"]);
  EXPECT_EQ((*kvm)["traps"], (*emu)["traps"]);
  EXPECT_EQ(run("compare hello --level fast").rc, 64);
}

// A phase label is the guest's data: a count too large for 64 bits is no
// work phase, and compare says so instead of failing on it.
TEST_F(Compare, APhaseCountTooLargeForSixtyFourBitsIsNotAWorkPhase) {
  fs::create_directories(dir_ / "big");
  std::ofstream(dir_ / "big" / "big.c") << "#include \"ringscope/user.h\"\n"
                                           "#define L \"big: 99999999999999999999999 ops\"\n"
                                           "int main(void) {\n"
                                           "  marker(MARK_BEGIN, L, 1);\n"
                                           "  marker(MARK_END, L, 1);\n"
                                           "  return 0;\n"
                                           "}\n";
  Outcome b = run("build " + (dir_ / "big" / "big.c").string() + " -o " + (dir_ / "big" / "big.elf").string());
  ASSERT_EQ(b.rc, 0) << b.out;
  std::ofstream(dir_ / "big" / "scenario.json")
      << R"({"name": "big", "title": "t", "description": "d", "programs": ["big.elf"], "expected_status": 0})";
  Outcome o = run("compare " + (dir_ / "big").string() + " --modes emulation --repeat 1 --json --dir " +
                  (dir_ / "traces").string());
  ASSERT_EQ(o.rc, 0) << o.out;
  json j = json::parse(o.out);
  EXPECT_TRUE(j["work_phase"].is_null()) << o.out;
  EXPECT_TRUE((*mode(j, "emulation"))["phases"].empty()) << o.out;
}

}  // namespace
}  // namespace ringscope
