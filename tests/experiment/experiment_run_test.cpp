// experiment_run_test.cpp — `ringscope experiment` end to end: a tiny
// experiment (two sizes, two modes, one repeat) whose CSV, JSON, chart and
// report exist and agree; an interrupted one resumed; bad specs refused.
// Where /dev/kvm is not usable the two modes are emulation with legacy and
// with virtio devices, so the test runs on every host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "chart.h"
#include "png_pixels.h"
#include "ringscope/host.h"
#include "spec.h"

namespace ringscope::experiment {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Out {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Out ringscope(const std::string& args, const fs::path& dir, const std::string& env = "") {
  fs::path o = dir / "stdout.txt", e = dir / "stderr.txt";
  int rc = std::system((env + RINGSCOPE_BIN + " " + args + " >" + o.string() + " 2>" + e.string()).c_str());
  return Out{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(o), slurp(e)};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(l);
  return v;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> v;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) v.push_back(cell);
  if (!line.empty() && line.back() == ',') v.emplace_back();
  return v;
}

class ExperimentRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rs-experiment-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    kvm_ = probe_host().kvm_openable;
    // Legacy devices against virtio, in KVM where it is usable, else in software.
    modes_ = kvm_ ? std::vector<std::string>{"full-virt", "paravirt"}
                  : std::vector<std::string>{"emulation", "emulation:virtio"};
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_spec(const std::vector<uint64_t>& values, const std::string& name = "tiny") {
    json j = {
        {"name", name},
        {"workloads",
         {{{"id", "console"},
           {"scenario", "console-write"},
           {"param", "bytes"},
           {"values", values},
           {"kib_per_unit", 1.0 / 1024}}}},
        {"modes", modes_},
        {"repeat", 1},
        {"measures",
         {{{"id", "exits_per_kib"},
           {"label", "VM exits per KiB"},
           {"query", {{"kind", "vm_exit"}, {"between", "{phase}"}}},
           {"per", "kib"},
           {"log_y", true}},
          {{"id", "marker_value"}, {"query", {{"kind", "marker"}, {"name", "{phase}"}, {"measure", "last_value"}}}}}},
        {"fit", {"exits_per_kib"}}};
    fs::path p = dir_ / (name + ".json");
    std::ofstream(p) << j.dump(2);
    return p;
  }

  fs::path dir_;
  bool kvm_ = false;
  std::vector<std::string> modes_;
};

TEST_F(ExperimentRun, CsvJsonChartAndReportExistAndAgree) {
  fs::path spec = write_spec({64, 256}), out = dir_ / "out";
  Out r = ringscope("experiment " + spec.string() + " --out " + out.string(), dir_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"results.csv", "results.json", "report.md", "runs.jsonl", "spec.json",
                        "console-exits_per_kib.png", "console-marker_value.png"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f << " missing";

  // CSV: one row per run and measure.
  auto csv = lines(slurp(out / "results.csv"));
  ASSERT_EQ(csv.size(), 1u + 2 * 2 * 2) << "header + 2 sizes x 2 modes x 1 repeat x 2 measures";
  EXPECT_EQ(csv[0], "experiment,workload,scenario,param,param_value,mode,repeat,measure,value,raw,ok,problem");
  std::map<std::tuple<std::string, uint64_t, std::string>, double> from_csv;
  for (size_t i = 1; i < csv.size(); i++) {
    auto c = split(csv[i]);
    ASSERT_EQ(c.size(), 12u) << csv[i];
    EXPECT_EQ(c[10], "true") << csv[i];
    ASSERT_FALSE(c[8].empty()) << "no value: " << csv[i];
    from_csv[{c[5], std::stoull(c[4]), c[7]}] = std::stod(c[8]);
  }
  // JSON: the same runs, and medians equal to the single run's value.
  json j = json::parse(slurp(out / "results.json"));
  EXPECT_EQ(j["experiment"], "tiny");
  EXPECT_FALSE(j["host"]["kvm_flavour"].get<std::string>().empty());
  EXPECT_NE(j["command"].get<std::string>().find("experiment " + spec.string()), std::string::npos);
  ASSERT_EQ(j["runs"].size(), 4u);
  for (const auto& run : j["runs"])
    for (const char* m : {"exits_per_kib", "marker_value"}) {
      double v = run["measures"][m]["value"].get<double>();
      auto key = std::make_tuple(run["mode"].get<std::string>(), run["value"].get<uint64_t>(), std::string(m));
      ASSERT_TRUE(from_csv.count(key)) << run.dump();
      EXPECT_NEAR(from_csv[key], v, std::abs(v) * 1e-5) << run.dump();
    }
  for (const auto& med : j["medians"]) {
    auto key = std::make_tuple(med["mode"].get<std::string>(), med["param_value"].get<uint64_t>(),
                               med["measure"].get<std::string>());
    EXPECT_NEAR(from_csv[key], med["median"].get<double>(), 1e-3) << med.dump();
  }
  // What the runs measured is true: each run's own phase was measured (its
  // marker carries the byte count), and the legacy UART takes many exits per KiB where virtio takes few.
  auto at = [&](const std::string& mode, uint64_t x, const std::string& measure) {
    return from_csv[std::make_tuple(mode, x, measure)];
  };
  for (uint64_t x : {64, 256})
    for (const auto& m : modes_) EXPECT_EQ(at(m, x, "marker_value"), double(x)) << m << " " << x;
  EXPECT_GE(at(modes_[0], 256, "exits_per_kib"), 1024) << "two port accesses per byte";
  EXPECT_LT(at(modes_[1], 256, "exits_per_kib") * 10, at(modes_[0], 256, "exits_per_kib"));

  // The report: the chart, the modes, the medians as the CSV has them, how to reproduce.
  std::string report = slurp(out / "report.md");
  EXPECT_NE(report.find("](console-exits_per_kib.png)"), std::string::npos);
  EXPECT_NE(report.find("experiment " + spec.string() + " --out " + out.string()), std::string::npos);
  EXPECT_NE(report.find("KVM flavour"), std::string::npos);
  EXPECT_NE(report.find("- at bytes = 256: " + modes_[1] + " is "), std::string::npos) << "the modes side by side";
  for (const auto& m : modes_) {
    EXPECT_NE(report.find(m), std::string::npos);
    char cell[64];
    std::snprintf(cell, sizeof(cell), " %.4g |", at(m, 256, "exits_per_kib"));
    EXPECT_NE(report.find(cell), std::string::npos) << "no median cell '" << cell << "' in\n" << report;
  }

  // The chart: axes, and one line per mode.
  test::Image img;
  ASSERT_TRUE(test::read_png((out / "console-exits_per_kib.png").string(), img));
  EXPECT_GT(img.longest_run(kAxisColour, true), img.width / 2);
  EXPECT_GT(img.longest_run(kAxisColour, false), img.height / 2);
  for (size_t i = 0; i < modes_.size(); i++) {
    int n = 0;
    for (int y = 0; y < img.height; y++)
      for (int x = 0; x < img.width - 180; x++) n += img.is(x, y, series_colour(i), 30);
    EXPECT_GT(n, 200) << modes_[i] << "'s line is not in the chart";
  }
}

// The cloud experiment's four ways, tiny: one size, one run each, on KVM.
TEST_F(ExperimentRun, CloudsFourWaysRunAndTheOffloadedOneLeavesTheVcpuThreadLess) {
  if (!kvm_) GTEST_SKIP() << "the cloud experiment's hvm-pv and offload ways need KVM";
  auto spec = load_spec("cloud");
  ASSERT_TRUE(spec.ok());
  json j = json::parse(spec->source);
  j["name"] = "cloud-tiny";
  j["repeat"] = 1;
  j["workloads"] = json::array({j["workloads"][1]});  // disk
  j["workloads"][0]["values"] = {16};
  fs::path p = dir_ / "cloud.json", out = dir_ / "out";
  std::ofstream(p) << j.dump(2);
  Out r = ringscope("experiment " + p.string() + " --out " + out.string(), dir_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::map<std::pair<std::string, std::string>, double> v;
  for (const auto& l : lines(slurp(out / "results.csv"))) {
    auto c = split(l);
    if (c.size() == 12 && c[0] == "cloud-tiny") v[{c[5], c[7]}] = std::stod(c[8]);
  }
  ASSERT_EQ(v.size(), 4u * 4u) << "4 modes x 4 measures";
  auto at = [&](const std::string& mode, const std::string& measure) { return v[std::make_pair(mode, measure)]; };
  EXPECT_EQ(at("hvm-pv", "exits_per_kib"), at("paravirt", "exits_per_kib")) << "HVM with PV drivers caught up";
  EXPECT_GT(at("full-virt", "exits_per_kib"), 10 * at("hvm-pv", "exits_per_kib"));
  EXPECT_EQ(at("hvm-pv", "device_thread_per_kib"), 0);
  if (at("hvm-pv+offload", "device_thread_per_kib") > 0) {  // 0: KVM refused the doorbells here
    EXPECT_LT(at("hvm-pv+offload", "vcpu_exits_per_kib"), at("hvm-pv", "vcpu_exits_per_kib"));
  }
}

TEST_F(ExperimentRun, AnInterruptedExperimentKeepsItsRunsAndResumes) {
  fs::path spec = write_spec({64, 128, 256, 512}), out = dir_ / "out";
  const fs::path runs = out / "runs.jsonl";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    execl(RINGSCOPE_BIN, RINGSCOPE_BIN, "experiment", spec.c_str(), "--out", out.c_str(), nullptr);
    _exit(127);
  }
  // Interrupt it once two runs are recorded (or let it finish, on a fast host).
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && !exited; i++) {
    if (fs::exists(runs) && lines(slurp(runs)).size() >= 2) break;
    exited = waitpid(pid, &status, WNOHANG) == pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    kill(pid, SIGINT);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
  }
  auto kept = lines(slurp(runs));
  ASSERT_GE(kept.size(), 2u);
  for (const auto& l : kept) EXPECT_TRUE(json::accept(l)) << "a torn record: " << l;

  Out again = ringscope("experiment " + spec.string() + " --out " + out.string(), dir_);
  EXPECT_EQ(again.code, 64) << "an experiment's directory is not overwritten without --resume";
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;

  Out resumed = ringscope("experiment " + spec.string() + " --out " + out.string() + " --resume", dir_);
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  auto all = lines(slurp(runs));
  EXPECT_EQ(all.size(), 8u) << "4 sizes x 2 modes, each run once";
  std::set<std::string> keys;
  for (const auto& l : all) {
    json r = json::parse(l);
    keys.insert(r["mode"].get<std::string>() + "/" + std::to_string(r["value"].get<uint64_t>()));
  }
  EXPECT_EQ(keys.size(), 8u) << "no run twice, none missing";
  EXPECT_EQ(lines(slurp(out / "results.csv")).size(), 1u + 8 * 2);
  EXPECT_TRUE(fs::is_regular_file(out / "report.md"));

  // Resuming with another spec is refused.
  fs::path other = write_spec({64, 1024}, "tiny");
  Out changed = ringscope("experiment " + other.string() + " --out " + out.string() + " --resume", dir_);
  EXPECT_EQ(changed.code, 64) << changed.err;
  EXPECT_NE(changed.err.find("spec differs"), std::string::npos) << changed.err;
}

TEST_F(ExperimentRun, WithoutKvmTheFallbackModesRunOrTheReasonIsGiven) {
  json j = {{"name", "fb"},
            {"workloads", {{{"id", "console"}, {"scenario", "console-write"}, {"param", "bytes"}, {"values", {64}}}}},
            {"modes", {"full-virt", "paravirt"}},
            {"fallback_modes", {{"full-virt", "emulation"}, {"paravirt", "emulation:virtio"}}},
            {"repeat", 1},
            {"measures", {{{"id", "exits"}, {"query", {{"kind", "vm_exit"}, {"between", "{phase}"}}}}}}};
  fs::path p = dir_ / "fb.json", out = dir_ / "fb";
  std::ofstream(p) << j.dump();
  // As a host without KVM sees it, whatever this host has.
  Out r = ringscope("experiment " + p.string() + " --out " + out.string(), dir_, "RINGSCOPE_NO_KVM=1 ");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("emulation ran instead"), std::string::npos) << r.err;
  std::set<std::string> modes;
  for (const auto& l : lines(slurp(out / "runs.jsonl"))) modes.insert(json::parse(l)["mode"].get<std::string>());
  EXPECT_EQ(modes, (std::set<std::string>{"emulation", "emulation:virtio"}));
  EXPECT_NE(slurp(out / "report.md").find("ran instead, since full-virt needs /dev/kvm"), std::string::npos);

  j.erase("fallback_modes");
  std::ofstream(p) << j.dump();
  Out none = ringscope("experiment " + p.string() + " --out " + (dir_ / "none").string(), dir_, "RINGSCOPE_NO_KVM=1 ");
  EXPECT_EQ(none.code, 69) << "no mode of the spec can run";
  EXPECT_NE(none.err.find("needs /dev/kvm"), std::string::npos) << none.err;
}

TEST_F(ExperimentRun, ABadSpecIsRefusedWithTheKeyNamed) {
  fs::path p = dir_ / "bad.json";
  std::ofstream(p) << R"({"name": "bad", "workloads": [{"scenario": "console-write", "param": "bytes",
    "values": [64]}], "modes": ["full-virt"], "measures": [{"id": "x", "query": {"kind": "vm_exit", "betwen": "y"}}]})";
  Out r = ringscope("experiment " + p.string() + " --out " + (dir_ / "o").string(), dir_);
  EXPECT_EQ(r.code, 65);
  EXPECT_NE(r.err.find("spec.measures[0].query"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("betwen"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "o" / "runs.jsonl"));

  Out none = ringscope("experiment no-such-experiment", dir_);
  EXPECT_EQ(none.code, 66) << none.err;
  Out list = ringscope("experiment --list", dir_);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("pv-io"), std::string::npos);
  EXPECT_NE(list.out.find("emulation-vs-kvm"), std::string::npos);
}

// Efficiency end to end: the compute program as a host process (its host
// build, made by CMake from the same source) and as a guest, one size, one
// repeat. The efficiency in every file is native time / guest time of that
// pair, and the host process did the same work (the same result printed).
TEST_F(ExperimentRun, EfficiencyIsNativeTimeOverGuestTimeOfTheSamePair) {
  const std::string guest = kvm_ ? "full-virt" : "emulation";
  json j = {{"name", "eff"},
            {"workloads", {{{"id", "compute"}, {"scenario", "compute"}, {"param", "n"}, {"values", {20000}}}}},
            {"modes", {"native", guest}},
            {"baseline", "native"},
            {"repeat", 1},
            {"measures",
             {{{"id", "ns_per_unit"}, {"query", {{"measure", "span_ns"}, {"between", "{phase}"}}}, {"per", "unit"}},
              {{"id", "efficiency_pct"}, {"relative_to", "ns_per_unit"}, {"scale", 100}}}}};
  fs::path spec = dir_ / "eff.json", out = dir_ / "out";
  std::ofstream(spec) << j.dump(2);
  Out r = ringscope("experiment " + spec.string() + " --out " + out.string(), dir_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  std::map<std::pair<std::string, std::string>, double> v;  // (mode, measure) -> value
  auto csv = lines(slurp(out / "results.csv"));
  ASSERT_EQ(csv.size(), 1u + 2 * 2) << "2 modes x 2 measures";
  for (size_t i = 1; i < csv.size(); i++) {
    auto c = split(csv[i]);
    ASSERT_EQ(c.size(), 12u) << csv[i];
    ASSERT_FALSE(c[8].empty()) << "no value: " << csv[i];
    v[{c[5], c[7]}] = std::stod(c[8]);
  }
  double native = v.at({"native", "ns_per_unit"}), in_guest = v.at({guest, "ns_per_unit"});
  ASSERT_GT(native, 0);
  ASSERT_GT(in_guest, 0);
  EXPECT_NEAR(v.at({guest, "efficiency_pct"}), native / in_guest * 100, native / in_guest * 1e-3);
  EXPECT_DOUBLE_EQ(v.at({"native", "efficiency_pct"}), 100) << "the baseline against itself";

  json res = json::parse(slurp(out / "results.json"));
  for (const auto& run : res["runs"]) {
    if (run["mode"] != guest) continue;
    double csv_value = v.at({guest, "efficiency_pct"});  // the CSV keeps 6 significant digits
    EXPECT_NEAR(run["measures"]["efficiency_pct"]["value"].get<double>(), csv_value, csv_value * 1e-5);
  }
  EXPECT_TRUE(res["host"].contains("cpu_is_virtual"));
  EXPECT_TRUE(res["host"].contains("load_average_start"));

  std::string report = slurp(out / "report.md");
  EXPECT_NE(report.find("## Efficiency"), std::string::npos) << report;
  EXPECT_NE(report.find("80 %"), std::string::npos) << "the seed's line";
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.3g %%", v.at({guest, "efficiency_pct"}));
  EXPECT_NE(report.find(pct), std::string::npos) << "the efficiency table holds " << pct << "\n" << report;

  // The host process did the guest program's work: the same 64-bit LCG.
  uint64_t x = 1;
  for (int i = 0; i < 20000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  char expect[96];
  std::snprintf(expect, sizeof(expect), "compute: 20000 iterations, x = %llx", static_cast<unsigned long long>(x));
  std::string console = slurp(out / "traces" / "compute.20000.native.1.rtrace.console.txt");
  EXPECT_NE(console.find(expect), std::string::npos) << console;
  EXPECT_TRUE(fs::is_regular_file(out / "compute-efficiency_pct.png"));
}

// nanobench's measures are compare's phase figures: per operation, an `in`
// is one VM exit under KVM and under the VT-x model, none under binary
// translation (a callout instead); a system call is no exit under the VT-x
// model. The rows share one run of the scenario per mode.
TEST_F(ExperimentRun, NanobenchRowsCountExitsAndCalloutsPerOperation) {
  std::vector<std::string> modes = {"emulation"};
  if (kvm_) modes.insert(modes.end(), {"full-virt", "bt"});
  auto row = [](const char* id, const char* phase) {
    return json{{"id", id}, {"scenario", "nanobench"}, {"param", "n"}, {"values", {20}}, {"phase", phase}};
  };
  json j = {{"name", "nb"},
            {"workloads", {row("in", "in: {n} reads"), row("syscall", "syscall: {n} calls")}},
            {"modes", modes},
            {"repeat", 1},
            {"measures",
             {{{"id", "exits_per_op"}, {"phase_figure", "all_exits"}, {"per", "unit"}},
              {{"id", "vmm_exits_per_op"}, {"phase_figure", "exits"}, {"per", "unit"}},
              {{"id", "callouts_per_op"}, {"phase_figure", "callouts"}, {"per", "unit"}},
              {{"id", "ns_per_op"}, {"phase_figure", "ns"}, {"per", "unit"}}}}};
  fs::path spec = dir_ / "nb.json", out = dir_ / "out";
  std::ofstream(spec) << j.dump(2);
  Out r = ringscope("experiment " + spec.string() + " --out " + out.string(), dir_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json res = json::parse(slurp(out / "results.json"));
  std::map<std::pair<std::string, std::string>, json> runs;  // (workload, mode)
  std::map<std::string, std::set<std::string>> traces;       // mode -> trace files
  for (const auto& run : res["runs"]) {
    runs[std::make_pair(run["workload"].get<std::string>(), run["mode"].get<std::string>())] = run["measures"];
    traces[run["mode"]].insert(run["trace"].get<std::string>());
  }
  auto at = [&](const char* workload, const std::string& mode, const char* measure) {
    return runs[std::make_pair(std::string(workload), mode)][measure]["value"].get<double>();
  };
  bool bt_ran = runs.count(std::make_pair(std::string("in"), std::string("bt"))) > 0;
  EXPECT_TRUE(!kvm_ || bt_ran || r.err.find("bt") != std::string::npos) << "bt ran, or the reason is given";
  for (const auto& m : modes) {
    if (m == "bt" && !bt_ran) continue;
    ASSERT_TRUE(runs.count(std::make_pair(std::string("in"), m))) << m;
    EXPECT_EQ(traces[m].size(), 1u) << m << ": both rows measured from one run";
    EXPECT_GT(at("in", m, "ns_per_op"), 0) << m;
  }
  EXPECT_DOUBLE_EQ(at("in", "emulation", "exits_per_op"), 1.0) << "VT-x: every in exits";
  EXPECT_DOUBLE_EQ(at("syscall", "emulation", "exits_per_op"), 0.0) << "VT-x: a system call stays in the guest";
  if (kvm_) {
    // One exit per in reaches the VMM; KVM's own (a host interrupt) may add a few.
    EXPECT_GE(at("in", "full-virt", "vmm_exits_per_op"), 1.0);
    EXPECT_LT(at("in", "full-virt", "vmm_exits_per_op"), 1.5);
  }
  if (bt_ran) {
    EXPECT_DOUBLE_EQ(at("in", "bt", "vmm_exits_per_op"), 0.0) << "bt: no exit for in";
    EXPECT_GE(at("in", "bt", "callouts_per_op"), 1.0) << "bt: a callout instead";
  }
}

}  // namespace
}  // namespace ringscope::experiment
