// qemu_crosscheck_test.cpp — every built-in scenario booted under Debian's
// QEMU, a VMM nobody on this project wrote. If the console output or the
// exit status differs from the manifest, the guest images are wrong, not
// our VMM. TCG (pure emulation) is architecturally exact and runs every
// scenario; with /dev/kvm, QEMU + KVM runs those that need no host feature,
// which on a PVM host exercises the kernel's #UD system-call fallback.
//
// QEMU boots the kernel by PVH (-kernel), hands the program over as the one
// boot module (-initrd), and exits with (status << 1) | 1 when the guest
// writes its status to isa-debug-exit at port 0xf4. Like ringscope's own
// machine it has a disk: a raw image on the primary IDE channel (QEMU's
// piix IDE, the same register interface as core/src/devices/ata.cpp), and
// its RTC at ports 0x70/0x71, like core/src/devices/rtc.cpp. A scenario
// meant for several CPUs (scenario.json "vcpus") gets them with -smp: the
// kernel finds them in QEMU's ACPI MADT and starts them with INIT-SIPI-SIPI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ringscope/host.h"
#include "ringscope/scenario.h"
#include "support/qemu.h"

namespace fs = std::filesystem;
using namespace ringscope;
using ringscope::test::find_in_path;
using ringscope::test::kvm_usable;
using ringscope::test::slurp;
using ringscope::test::spawn;

namespace {

constexpr int kTimeoutSeconds = 90;

constexpr uint64_t kDiskBytes = 1 << 20;  // the size ringscope gives a machine's disk by default

struct QemuRun {
  int exit_code = -1;  // QEMU's exit status, or -1 if it did not exit normally
  std::string output;  // the guest's serial console
  std::string log;     // QEMU's own stderr
  std::string disk;    // the disk image's bytes after the run
  double seconds = 0;
};

// smp: QEMU's -smp argument; empty means the scenario's own "vcpus".
QemuRun run_qemu(const Scenario& s, const std::string& accel, std::string smp = {},
                 const std::map<std::string, std::string>& params = {}) {
  if (smp.empty()) smp = std::to_string(s.vcpus);
  std::string tag = smp;
  for (char& c : tag)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  fs::path tmp =
      fs::temp_directory_path() / ("rs-qemu-" + std::to_string(::getpid()) + "-" + s.name + "-" + accel + "-" + tag);
  fs::create_directories(tmp);
  fs::path serial = tmp / "serial.out", log = tmp / "qemu.log", disk = tmp / "disk.img";
  std::ofstream(disk, std::ios::binary).close();  // an empty raw image, then sized: all zeros
  fs::resize_file(disk, kDiskBytes);

  std::string cmdline = build_cmdline(s, params).value();
  std::vector<std::string> args = {find_in_path("timeout"), "--kill-after=5", std::to_string(kTimeoutSeconds),
                                   find_in_path("qemu-system-x86_64"), "-accel", accel, "-kernel", s.kernel.string(),
                                   "-smp", smp, "-append", cmdline, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                                   "-serial", "file:" + serial.string(), "-display", "none", "-nodefaults",
                                   "-no-reboot", "-m", "64",
                                   // format=raw: a probed raw image gets writes to sector 0 refused.
                                   "-drive", "if=ide,index=0,media=disk,format=raw,file=" + disk.string()};
  if (!s.programs.empty()) {
    args.push_back("-initrd");
    args.push_back(s.programs[0].string());
  }
  auto t0 = std::chrono::steady_clock::now();
  int status = spawn(args, log);
  QemuRun r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = slurp(serial);
  r.log = slurp(log);
  r.disk = slurp(disk);
  fs::remove_all(tmp);
  return r;
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> names;
  for (const auto& s : builtin_scenarios()) names.push_back(s.name);
  return names;
}

// What disk-io leaves on the disk: the kernel's pattern (scenarios/kernel/
// tasks.c), 16 sectors by default. Checked in the image after the run, so
// the sectors really went through QEMU's IDE model to the file.
void expect_disk_io_pattern(const std::string& name, const std::string& disk) {
  if (name != "disk-io") return;
  ASSERT_GE(disk.size(), 16u * 512);
  uint64_t bad = 0;
  for (uint64_t i = 0; i < 16 * 512 / 8; i++) {
    uint64_t want = 0x0101010101010101ULL * ((i / 64) + 1) ^ (i * 0x9e3779b97f4a7c15ULL), got = 0;
    std::memcpy(&got, disk.data() + i * 8, 8);
    bad += got != want;
  }
  EXPECT_EQ(bad, 0u) << "words of the disk-io pattern missing from QEMU's disk image";
}

// Host features (scenario.json "requires") QEMU's TCG does not provide,
// with the reason; a scenario that needs one is skipped under TCG.
std::string tcg_lacks(const std::string& feature) {
  if (feature == "vmcall")
    return "QEMU's TCG emulates no VMX (or SVM), so vmcall raises #UD in the guest instead of reaching a "
           "hypervisor; the emulation and KVM (VT-x/AMD-V) runs cover it";
  return {};
}

class QemuCrossCheck : public ::testing::TestWithParam<std::string> {
 protected:
  void check(const std::string& accel) {
    if (find_in_path("qemu-system-x86_64").empty())
      GTEST_SKIP() << "qemu-system-x86_64 is not installed (Debian package qemu-system-x86; "
                      "scripts/setup.sh installs it)";
    if (find_in_path("timeout").empty()) GTEST_SKIP() << "coreutils' timeout is missing";
    auto s = find_builtin_scenario(GetParam());
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_LE(s->programs.size(), 1u) << "QEMU's PVH boot passes a single module (-initrd)";
    ASSERT_TRUE(fs::exists(s->kernel)) << s->kernel << " is not built (target guest_images)";
    for (const auto& p : s->programs) ASSERT_TRUE(fs::exists(p)) << p << " is not built (target guest_images)";
    if (accel == "tcg")
      for (const auto& f : s->requires_features)
        if (std::string why = tcg_lacks(f); !why.empty()) {
          std::printf("[ qemu tcg ] %s: skipped, needs '%s': %s\n", s->name.c_str(), f.c_str(), why.c_str());
          GTEST_SKIP() << "needs host feature '" << f << "': " << why;
        }

    QemuRun r = run_qemu(*s, accel);
    std::printf("[ qemu %s ] %s: %.2f s, exit code %d\n", accel.c_str(), s->name.c_str(), r.seconds, r.exit_code);
    ASSERT_NE(r.exit_code, 124) << "QEMU timed out after " << kTimeoutSeconds << " s; log:\n" << r.log;
    if (s->expected_output) {
      EXPECT_EQ(r.output, *s->expected_output) << "console output differs; QEMU log:\n" << r.log;
    }
    EXPECT_EQ(r.exit_code, ((s->expected_status << 1) | 1) & 0xff)
        << "guest status should be " << s->expected_status << "; console:\n"
        << r.output << "\nQEMU log:\n"
        << r.log;
    expect_disk_io_pattern(s->name, r.disk);
  }
};

TEST_P(QemuCrossCheck, Tcg) { check("tcg"); }

TEST_P(QemuCrossCheck, Kvm) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << ringscope::probe_host().kvm_open_error;
  auto s = find_builtin_scenario(GetParam());
  ASSERT_TRUE(s.ok()) << s.error().message;
  if (!s->requires_features.empty()) {
    GTEST_SKIP() << "needs host feature '" << s->requires_features[0]
                 << "'; which KVM flavours provide it is the VMM's business (ringscope doctor), "
                    "and the TCG run covers the guest";
  }
  check("kvm");
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Builtin, QemuCrossCheck, ::testing::ValuesIn(scenario_names()), param_name);

// The SMP kernel with other numbers of CPUs than the manifests name, under
// TCG (which gives any number on any host).
class QemuSmp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_in_path("qemu-system-x86_64").empty())
      GTEST_SKIP() << "qemu-system-x86_64 is not installed (Debian package qemu-system-x86; "
                      "scripts/setup.sh installs it)";
    if (find_in_path("timeout").empty()) GTEST_SKIP() << "coreutils' timeout is missing";
  }
  Scenario scenario(const std::string& name) {
    auto s = find_builtin_scenario(name);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : Scenario{};
  }
};

// `parallel`'s output does not depend on how many CPUs share its
// processes out: the same with 1, 2 and 4 (and with 4 processes on 2 CPUs
// the timer must preempt them for all to finish in turns).
TEST_F(QemuSmp, ParallelPrintsTheSameOnOneTwoAndFourCpus) {
  Scenario s = scenario("parallel");
  ASSERT_TRUE(s.expected_output.has_value());
  for (int cpus : {1, 2, 4}) {
    SCOPED_TRACE(std::to_string(cpus) + " CPUs");
    QemuRun r = run_qemu(s, "tcg", std::to_string(cpus));
    ASSERT_NE(r.exit_code, 124) << "QEMU timed out; log:\n" << r.log;
    EXPECT_EQ(r.output, *s.expected_output) << r.log;
    EXPECT_EQ(r.exit_code, 1) << "status 0 expected";
  }
}

// smp-hello lists as many CPUs as the machine has, up to the kernel's NCPU
// (8): the ACPI MADT is read, and every CPU in it starts and reports in.
// With maxcpus, QEMU lists the CPUs that could be plugged in later as
// MADT entries without the enabled flag: they are not started.
TEST_F(QemuSmp, SmpHelloCountsEveryCpuQemuGives) {
  Scenario s = scenario("smp-hello");
  for (auto [smp, cpus] : std::vector<std::pair<std::string, int>>{{"1", 1}, {"3", 3}, {"8", 8}, {"2,maxcpus=4", 2}}) {
    SCOPED_TRACE("-smp " + smp);
    QemuRun r = run_qemu(s, "tcg", smp);
    ASSERT_NE(r.exit_code, 124) << "QEMU timed out; log:\n" << r.log;
    EXPECT_EQ(r.exit_code, 1) << r.output << r.log;
    std::string head = std::to_string(cpus) + (cpus == 1 ? " CPU running" : " CPUs running");
    EXPECT_NE(r.output.find(head), std::string::npos) << r.output;
    for (int i = 0; i < cpus; i++)
      EXPECT_NE(r.output.find("cpu" + std::to_string(i) + " reporting in"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("cpu" + std::to_string(cpus) + " reporting in"), std::string::npos) << r.output;
  }
}

// Scenarios written for one CPU print the same on a kernel that started
// a second one: user code then runs with interrupts on and the local
// APIC timer preempts it, the console and the allocator take locks, and
// task=tick's PIT still reaches the boot CPU through the 8259A.
TEST_F(QemuSmp, UniprocessorScenariosPrintTheSameOnTwoCpus) {
  for (const char* name : {"syscalls", "pagefault", "privileged", "tick", "disk-io"}) {
    SCOPED_TRACE(name);
    Scenario s = scenario(name);
    ASSERT_EQ(s.vcpus, 1);
    ASSERT_TRUE(s.expected_output.has_value());
    QemuRun r = run_qemu(s, "tcg", "2");
    ASSERT_NE(r.exit_code, 124) << "QEMU timed out; log:\n" << r.log;
    EXPECT_EQ(r.output, *s.expected_output) << r.log;
    EXPECT_EQ(r.exit_code, ((s.expected_status << 1) | 1) & 0xff) << r.output;
  }
}

}  // namespace
