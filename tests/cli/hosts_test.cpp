// hosts_test.cpp — a machine without KVM is first class: with
// RINGSCOPE_NO_KVM=1 every verb behaves as if /dev/kvm were absent, doctor
// says so and what runs, demo runs under emulation and says so in one
// sentence; the resource directories (installed or build tree); the lab
// directories RINGSCOPE_LABS_DIR adds to the built-in ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ringscope/host.h"
#include "ringscope/resources.h"
#include "ringscope/trace.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class Hosts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-hosts-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  // `env` is a prefix of VAR=value words for env(1).
  Outcome run(const std::string& args, const std::string& env = "") {
    std::string cmd = "cd '" + dir_.string() + "' && env " + env + " " + RINGSCOPE_BIN + " " + args +
                      " >out.txt 2>err.txt </dev/null";
    int st = std::system(cmd.c_str());
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(dir_ / "out.txt"), slurp(dir_ / "err.txt")};
  }
  fs::path dir_;
};

constexpr const char* kNoKvm = "RINGSCOPE_NO_KVM=1";

TEST(NoKvmSwitch, ProbeAndOpenBothReportTheSwitch) {
  ASSERT_EQ(setenv(kNoKvmVariable, "1", 1), 0);
  HostInfo h = probe_host();
  auto opened = open_kvm_device();
  ASSERT_EQ(unsetenv(kNoKvmVariable), 0);
  EXPECT_TRUE(h.kvm_switched_off);
  EXPECT_FALSE(h.kvm_openable);
  EXPECT_FALSE(h.kvm_device_exists) << "as if /dev/kvm were absent";
  EXPECT_THAT(h.kvm_open_error, HasSubstr("RINGSCOPE_NO_KVM"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, ErrorKind::Unavailable);
  EXPECT_THAT(opened.error().message, HasSubstr("--mode emulation"));
}

TEST(NoKvmSwitch, ZeroAndEmptyLeaveKvmOn) {
  for (const char* v : {"0", ""}) {
    ASSERT_EQ(setenv(kNoKvmVariable, v, 1), 0);
    EXPECT_FALSE(kvm_switched_off()) << "'" << v << "'";
    EXPECT_FALSE(probe_host().kvm_switched_off);
  }
  ASSERT_EQ(unsetenv(kNoKvmVariable), 0);
}

TEST_F(Hosts, DoctorWithTheSwitchSaysItIsSetAndThatEmulationRuns) {
  Outcome o = run("doctor", kNoKvm);
  EXPECT_EQ(o.rc, 69) << "KVM is not usable" << o.err;
  EXPECT_THAT(o.out, HasSubstr("RINGSCOPE_NO_KVM is set"));
  EXPECT_THAT(o.out, HasSubstr("--mode emulation only"));
  EXPECT_THAT(o.out, HasSubstr("ringscope run hello --mode emulation"));
  EXPECT_THAT(o.out, HasSubstr("docs/hosts.md"));
  // The capability and irqchip probes honour the switch too: nothing is
  // opened, so nothing of KVM's is listed.
  EXPECT_THAT(o.out, Not(HasSubstr("KVM_CAP_")));
  EXPECT_THAT(o.out, Not(HasSubstr("irqchip ")));
  EXPECT_THAT(o.out, Not(HasSubstr("io offload")));
  EXPECT_THAT(o.out, HasSubstr("data "));
}

// With KVM, doctor says whether `--io offload` works here, asked of this
// KVM: available exactly when the capability list shows KVM_CAP_IOEVENTFD,
// KVM_CAP_IRQFD and KVM_CAP_IRQCHIP.
TEST_F(Hosts, DoctorSaysWhetherIoOffloadIsAvailable) {
  if (!probe_host().kvm_openable) GTEST_SKIP() << "needs a usable /dev/kvm (doctor lists no KVM line without one)";
  Outcome o = run("doctor");
  EXPECT_EQ(o.rc, 0) << o.err;
  auto has_cap = [&](const std::string& cap) {
    const size_t at = o.out.find("  " + cap + " ");
    if (at == std::string::npos) return false;
    const std::string line = o.out.substr(at, o.out.find('\n', at) - at);
    return line.find(" no ") == std::string::npos;
  };
  const bool want = has_cap("KVM_CAP_IOEVENTFD") && has_cap("KVM_CAP_IRQFD") && has_cap("KVM_CAP_IRQCHIP");
  EXPECT_THAT(o.out, HasSubstr(want ? "io offload KVM_IOEVENTFD and KVM_IRQFD: available"
                                    : "io offload KVM_IOEVENTFD and KVM_IRQFD: not available"))
      << o.out;
  EXPECT_THAT(o.out, HasSubstr(want ? "--io offload works here" : "--io vcpu"));
}

TEST_F(Hosts, DoctorFromTheBuildTreeSaysItReadsTheBuildTree) {
  Outcome o = run("doctor", kNoKvm);
  EXPECT_THAT(o.out, HasSubstr("the source and build trees")) << o.out;
}

TEST_F(Hosts, RunUnderKvmWithTheSwitchIsUnavailableAndNamesIt) {
  Outcome o = run("run hello --quiet", kNoKvm);
  EXPECT_EQ(o.rc, 69) << o.err;
  EXPECT_THAT(o.err, HasSubstr("RINGSCOPE_NO_KVM"));
  EXPECT_THAT(o.err, HasSubstr("--mode emulation"));
  EXPECT_EQ(run("run hello --mode emulation --quiet", kNoKvm).rc, 0);
}

TEST_F(Hosts, ScenariosWithTheSwitchGiveItAsTheReason) {
  Outcome o = run("scenarios", kNoKvm);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("RINGSCOPE_NO_KVM is set"));
}

TEST_F(Hosts, DemoWithoutKvmRunsUnderEmulationAndSaysSoOnce) {
  Outcome o = run("demo --dir demo", kNoKvm);
  ASSERT_EQ(o.rc, 0) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("so the demo runs under emulation"));
  // One sentence: said once, before the table.
  EXPECT_EQ(o.out.find("so the demo runs under emulation"), o.out.rfind("so the demo runs under emulation"));
  EXPECT_LT(o.out.find("so the demo runs under emulation"), o.out.find("VM exits by reason"));
  for (const char* name : {"hello", "syscalls"}) {
    fs::path t = dir_ / "demo" / (std::string(name) + ".emulation.rtrace");
    ASSERT_TRUE(fs::exists(t)) << t;
    auto trace = read_trace(t.string());
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    EXPECT_EQ(trace.value().header.mode, "emulation");
  }
  EXPECT_THAT(o.out, HasSubstr("demo/syscalls.emulation.rtrace"));
}

TEST_F(Hosts, DemoWithKvmSaysNothingAboutEmulation) {
  if (auto h = probe_host(); !h.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << h.kvm_open_error;
  Outcome o = run("demo --dir demo");
  ASSERT_EQ(o.rc, 0) << o.out << o.err;
  EXPECT_THAT(o.out, Not(HasSubstr("emulation:")));
  EXPECT_TRUE(fs::exists(dir_ / "demo" / "hello.full-virt.rtrace"));
}

// ---- where the data is ---------------------------------------------------------

TEST(Resources, AnExecutableWithShareRingscopeBesideItIsInstalled) {
  fs::path prefix = fs::temp_directory_path() / ("ringscope-prefix-" + std::to_string(getpid()));
  fs::remove_all(prefix);
  fs::create_directories(prefix / "bin");
  fs::create_directories(prefix / "share" / "ringscope" / "scenarios");
  ResourceDirs d = resolve_resource_dirs(prefix / "bin" / "ringscope");
  EXPECT_TRUE(d.installed);
  EXPECT_EQ(d.root, (prefix / "share" / "ringscope").lexically_normal());
  EXPECT_EQ(d.guest, d.root / "guest");
  EXPECT_EQ(d.sdk, d.root / "sdk");
  EXPECT_EQ(d.labs, d.root / "labs");
  fs::remove_all(prefix / "share");
  ResourceDirs b = resolve_resource_dirs(prefix / "bin" / "ringscope");
  EXPECT_FALSE(b.installed) << "no share/ringscope: the build tree";
  EXPECT_TRUE(fs::exists(b.scenarios / "hello" / "scenario.json")) << b.scenarios;
  EXPECT_TRUE(fs::exists(b.sdk / "include" / "ringscope" / "user.h")) << b.sdk;
  fs::remove_all(prefix);
}

// ---- lab directories -------------------------------------------------------------

void write_lab(const fs::path& dir, int number) {
  fs::create_directories(dir);
  std::ofstream(dir / "handout.md") << "# a lab of my own\n";
  std::ofstream(dir / "lab.json") << R"({"number": )" << number << R"(, "title": "My own lab",
    "runs": [{"id": "hello", "scenario": "hello", "mode": "emulation"}],
    "checks": [{"id": "out", "say": "the kernel prints", "hint": "run it",
                "query": {"run": "hello", "kind": "output"}, "expect": {"at_least": 1}}]})";
}

TEST_F(Hosts, LabsDirAddsLabsToTheBuiltInOnes) {
  write_lab(dir_ / "extra-a" / "42-mine", 42);
  write_lab(dir_ / "extra-b" / "43-theirs", 43);
  Outcome o = run("lab list", "RINGSCOPE_LABS_DIR=" + (dir_ / "extra-a").string() + ":" + (dir_ / "extra-b").string());
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("Rings")) << "lab 1, built in, is still listed";
  EXPECT_THAT(o.out, HasSubstr(" 42  My own lab"));
  EXPECT_THAT(o.out, HasSubstr(" 43  My own lab"));
  EXPECT_LT(o.out.find("  1  "), o.out.find(" 42  ")) << "by number";
  Outcome show = run("lab show 42", "RINGSCOPE_LABS_DIR=" + (dir_ / "extra-a").string());
  EXPECT_EQ(show.rc, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("a lab of my own"));
}

TEST_F(Hosts, LabsDirThatDoesNotExistOrRepeatsANumberIsAnError) {
  Outcome missing = run("lab list", "RINGSCOPE_LABS_DIR=" + (dir_ / "nowhere").string());
  EXPECT_EQ(missing.rc, 66) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("nowhere"));
  write_lab(dir_ / "dup" / "01-again", 1);
  Outcome dup = run("lab list", "RINGSCOPE_LABS_DIR=" + (dir_ / "dup").string());
  EXPECT_EQ(dup.rc, 65) << dup.err;
  EXPECT_THAT(dup.err, HasSubstr("both have number 1"));
}

}  // namespace
}  // namespace ringscope
