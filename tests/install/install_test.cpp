// install_test.cpp — ringscope installed with `cmake --install` into a
// temporary prefix finds its scenarios, guest kernels, SDK and labs there,
// not in the build tree: the installed copy runs in a mount namespace where
// the source and build trees are covered by empty tmpfs mounts, with a
// scrubbed environment (no RINGSCOPE_* variable but the KVM switch), and
// still runs `hello` (under emulation where KVM is not usable) and grades
// lab 1 against its reference solution.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ringscope/host.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int rc = -1;
  std::string out;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Outcome shell(const std::string& cmd, const fs::path& log) {
  int st = std::system((cmd + " >" + quote(log.string()) + " 2>&1 </dev/null").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(log)};
}

bool under(const fs::path& p, const fs::path& dir) {
  auto rel = fs::weakly_canonical(p).lexically_relative(fs::weakly_canonical(dir));
  return !rel.empty() && *rel.begin() != "..";
}

class Installed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_ = fs::temp_directory_path() / ("ringscope-install-" + std::to_string(getpid()));
    fs::remove_all(prefix_);
    Outcome o = shell(std::string(RINGSCOPE_CMAKE) + " --install " + quote(RINGSCOPE_BINARY_DIR) + " --prefix " +
                          quote(prefix_.string()),
                      fs::temp_directory_path() / ("ringscope-install-" + std::to_string(getpid()) + ".log"));
    install_rc_ = o.rc;
    install_log_ = o.out;
  }
  static void TearDownTestSuite() { fs::remove_all(prefix_); }

  void SetUp() override {
    ASSERT_EQ(install_rc_, 0) << install_log_;
    if (under(prefix_, RINGSCOPE_SOURCE_DIR) || under(prefix_, RINGSCOPE_BINARY_DIR))
      GTEST_SKIP() << "the temporary directory " << prefix_ << " is inside the trees this test hides";
    work_ = prefix_ / "work";
    fs::create_directories(work_);
  }

  // Runs the installed ringscope with `args` in work_, in a new mount
  // namespace where the source and build trees are empty, with only PATH
  // (and the KVM switch, if set) in its environment.
  Outcome installed(const std::string& args) {
    std::string hide = "mount -t tmpfs none " + quote(RINGSCOPE_SOURCE_DIR);
    if (!under(RINGSCOPE_BINARY_DIR, RINGSCOPE_SOURCE_DIR))
      hide += " && mount -t tmpfs none " + quote(RINGSCOPE_BINARY_DIR);
    std::string env = "env -i PATH=/usr/bin:/bin";
    if (ringscope::kvm_switched_off()) env += " RINGSCOPE_NO_KVM=1";
    std::string inner = hide + " && test ! -e " + quote(std::string(RINGSCOPE_BINARY_DIR) + "/CMakeCache.txt") +
                        " && cd " + quote(work_.string()) + " && exec " + env + " " +
                        quote((prefix_ / "bin" / "ringscope").string()) + " " + args;
    std::string unshare = geteuid() == 0 ? "unshare --mount" : "unshare --user --map-root-user --mount";
    return shell(unshare + " sh -c " + quote(inner), work_ / "log.txt");
  }

  static inline fs::path prefix_;
  static inline int install_rc_ = -1;
  static inline std::string install_log_;
  fs::path work_;
};

TEST_F(Installed, PutsEveryResourceUnderThePrefix) {
  const fs::path share = prefix_ / "share" / "ringscope";
  for (const fs::path& p :
       {prefix_ / "bin" / "ringscope", share / "guest" / "kernel.elf", share / "guest" / "kernel-pv.elf",
        share / "guest" / "syscalls.elf", share / "scenarios" / "hello" / "scenario.json",
        share / "sdk" / "include" / "ringscope" / "user.h", share / "sdk" / "user.ld", share / "sdk" / "start.S",
        share / "labs" / "01-rings" / "lab.json", share / "labs" / "01-rings" / "handout.md",
        share / "labs" / "01-rings" / "handout.ko.md", prefix_ / "share" / "doc" / "ringscope" / "README.ko.md",
        prefix_ / "share" / "doc" / "ringscope" / "docs" / "hosts.md",
        prefix_ / "share" / "doc" / "ringscope" / "docs" / "ko" / "glossary.md",
        prefix_ / "share" / "locale" / "ko" / "LC_MESSAGES" / "ringscope.mo"})
    EXPECT_TRUE(fs::exists(p)) << p;
  EXPECT_FALSE(fs::exists(share / "scenarios" / "kernel")) << "the kernel's source is not data";
  EXPECT_FALSE(fs::exists(share / "labs" / "checker")) << "the checker is compiled in";
}

TEST_F(Installed, RunsHelloWithTheBuildTreeHidden) {
  // Whether this namespace can hide anything at all (root, or user namespaces).
  Outcome probe = shell("unshare --mount true || unshare --user --map-root-user --mount true", work_ / "probe.txt");
  if (probe.rc != 0) GTEST_SKIP() << "cannot make a mount namespace here to hide the build tree: " << probe.out;
  ringscope::HostInfo host = ringscope::probe_host();
  std::string mode = host.kvm_openable ? "" : " --mode emulation";
  Outcome doctor = installed("doctor");
  EXPECT_NE(doctor.out.find((prefix_ / "share" / "ringscope").string() + " (installed"), std::string::npos)
      << doctor.out;
  Outcome o = installed("run hello --trace hello.rtrace" + mode);
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("Hello"), std::string::npos) << o.out;
  EXPECT_TRUE(fs::exists(work_ / "hello.rtrace"));
}

// The Korean catalogue comes from the prefix too (docs/i18n.md).
TEST_F(Installed, SpeaksKoreanWithTheBuildTreeHidden) {
  Outcome probe = shell("unshare --mount true || unshare --user --map-root-user --mount true", work_ / "probe.txt");
  if (probe.rc != 0) GTEST_SKIP() << "cannot make a mount namespace here to hide the build tree: " << probe.out;
  Outcome o = installed("--lang ko --help");
  EXPECT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("사용법"), std::string::npos) << o.out;  // "Usage", from share/locale
}

TEST_F(Installed, GradesLab1WithTheBuildTreeHidden) {
  Outcome probe = shell("unshare --mount true || unshare --user --map-root-user --mount true", work_ / "probe.txt");
  if (probe.rc != 0) GTEST_SKIP() << "cannot make a mount namespace here to hide the build tree: " << probe.out;
  fs::path student = work_ / "student";
  fs::create_directories(student);
  for (const auto& e : fs::directory_iterator(RINGSCOPE_LAB1_SOLUTION))
    fs::copy(e.path(), student / e.path().filename());
  Outcome o = installed("lab check 1 --dir student");
  EXPECT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("PASS"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("FAIL"), std::string::npos) << o.out;
}

}  // namespace
