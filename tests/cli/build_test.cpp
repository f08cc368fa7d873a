// `ringscope build` and `run --program` end to end: a student's one-file
// program is built with the SDK, runs in ring 3 on the teaching kernel in
// every mode the host has, and its output, exit status and markers come
// back; a missing source, a program that does not compile and a bad name
// each give their exit code and a sentence.
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
  std::string out, err;
};

class Build : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-build-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  Outcome ringscope(const std::string& args) {
    std::string cmd = "cd '" + dir_.string() + "' && " + RINGSCOPE_BIN + " " + args + " >out.txt 2>err.txt";
    int st = std::system(cmd.c_str());
    Outcome o;
    o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    o.out = slurp("out.txt");
    o.err = slurp("err.txt");
    return o;
  }
  std::string slurp(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  fs::path dir_;
};

constexpr const char* kProgram = R"(#include <ringscope/user.h>

int main(int argc, char **argv) {
  long n = getparam(argc, argv, "n", 2);
  marker(MARK_BEGIN, "greetings", (unsigned)n);
  for (long i = 0; i < n; i++)
    printf("hello %ld from ring 3\n", i);
  marker(MARK_END, "greetings", (unsigned)n);
  return n == 3 ? 0 : 5;
}
)";

TEST_F(Build, AProgramBuildsAndRunsInEveryModeTheHostHas) {
  write("greet.c", kProgram);
  Outcome b = ringscope("build greet.c");
  ASSERT_EQ(b.rc, 0) << b.err;
  EXPECT_NE(b.err.find("wrote greet.elf"), std::string::npos) << b.err;
  ASSERT_TRUE(fs::exists(dir_ / "greet.elf"));

  std::vector<std::string> modes = {"emulation"};
  if (ringscope::probe_host().kvm_openable) modes.insert(modes.end(), {"full-virt", "paravirt"});
  for (const auto& mode : modes) {
    Outcome r = ringscope("run --program greet.elf --append n=3 --mode " + mode + " --trace t.rtrace");
    EXPECT_EQ(r.rc, 0) << mode << ": " << r.err;
    EXPECT_NE(r.out.find("hello 2 from ring 3"), std::string::npos) << mode << ": " << r.out;
    // The program's own markers are in the trace, under its name.
    Outcome s = ringscope("show t.rtrace --kind marker");
    EXPECT_NE(s.out.find("greetings"), std::string::npos) << mode << ": " << s.out;
    EXPECT_NE(s.out.find("run greet"), std::string::npos) << mode << ": " << s.out;
  }
  // Its exit status is the run's verdict.
  Outcome r = ringscope("run --program greet.elf --mode emulation --trace t.rtrace");
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("status 5"), std::string::npos) << r.err;
}

TEST_F(Build, BadInputGetsItsExitCodeAndASentence) {
  Outcome o = ringscope("build missing.c");
  EXPECT_EQ(o.rc, 66);
  EXPECT_NE(o.err.find("missing.c: no such file"), std::string::npos) << o.err;

  write("broken.c", "int main(void) { return undefined_function(); }\n");
  o = ringscope("build broken.c");
  EXPECT_EQ(o.rc, 65);
  EXPECT_NE(o.err.find("undefined_function"), std::string::npos) << "the compiler's own message: " << o.err;
  EXPECT_NE(o.err.find("could not build"), std::string::npos) << o.err;

  write("ok.c", kProgram);
  o = ringscope("build ok.c --name 'two words'");
  EXPECT_EQ(o.rc, 64);
  EXPECT_NE(o.err.find("program name"), std::string::npos) << o.err;
  o = ringscope("build ok.c --cc no-such-compiler");
  EXPECT_EQ(o.rc, 69);
  EXPECT_NE(o.err.find("no C compiler"), std::string::npos) << o.err;

  o = ringscope("run --program nothing.elf");
  EXPECT_EQ(o.rc, 66);
  EXPECT_NE(o.err.find("ringscope build"), std::string::npos) << o.err;
  o = ringscope("run hello --program ok.elf");
  EXPECT_EQ(o.rc, 64);
}

}  // namespace
