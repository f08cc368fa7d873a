// manifest_test.cpp — the scenario manifest loader (core/src/scenario.cpp):
// every built-in manifest loads, and bad manifests give errors that name
// the file and the field.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ringscope/scenario.h"

namespace fs = std::filesystem;
using namespace ringscope;

namespace {

// A scratch scenario directory, removed at the end of the test.
class TempScenario {
 public:
  TempScenario() {
    dir_ = fs::temp_directory_path() / ("rs-manifest-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
  }
  ~TempScenario() { fs::remove_all(dir_); }
  const fs::path& dir() const { return dir_; }
  fs::path manifest() const { return dir_ / "scenario.json"; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

Error load_error(const std::string& json) {
  TempScenario t;
  t.write("scenario.json", json);
  auto r = load_scenario(t.dir());
  EXPECT_FALSE(r.ok()) << "manifest was accepted: " << json;
  if (r.ok()) return {};
  EXPECT_NE(r.error().message.find(t.manifest().string()), std::string::npos)
      << "error does not name the file: " << r.error().message;
  return r.error();
}

void expect_field_error(const std::string& json, const std::string& field) {
  Error e = load_error(json);
  EXPECT_EQ(e.kind, ErrorKind::BadData) << e.message;
  EXPECT_NE(e.message.find("'" + field + "'"), std::string::npos)
      << "error does not name field '" << field << "': " << e.message;
}

}  // namespace

TEST(Manifest, BuiltinScenariosAllLoad) {
  std::vector<std::string> expected = {
      "balloon",    "compute",          "console-write", "disk-io",  "disk-read", "echo",      "hello",
      "hypercall",  "hypercall-vmcall", "io-burst",      "ipi",      "nanobench", "pagefault", "parallel",
      "privileged", "smp-hello",        "syscall-insn",  "syscalls", "tick"};
  for (const auto& name : expected) {
    auto s = find_builtin_scenario(name);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->name, name);
    EXPECT_FALSE(s->title.empty());
    EXPECT_FALSE(s->description.empty());
    EXPECT_TRUE(s->expected_output.has_value()) << name;
    EXPECT_LE(s->programs.size(), 1u) << name << ": QEMU's PVH boot passes one module only";
    EXPECT_EQ(s->kernel.filename(), "kernel.elf");
    EXPECT_EQ(s->kernel_pv.filename(), "kernel-pv.elf") << name << ": the built-in kernel has a PV build";
    EXPECT_TRUE(fs::exists(s->dir / "README.md")) << name << " has no README.md for students";
  }
  auto all = builtin_scenarios();
  ASSERT_EQ(all.size(), expected.size());
  for (size_t i = 0; i < all.size(); i++) EXPECT_EQ(all[i].name, expected[i]) << "not sorted by name";
}

TEST(Manifest, EveryBuiltinDirectoryLoads) {
  // builtin_scenarios() skips broken manifests; this catches them.
  for (const auto& entry : fs::directory_iterator(scenarios_dir())) {
    if (!fs::exists(entry.path() / "scenario.json")) continue;
    auto s = load_scenario(entry.path());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (s.ok()) {
      EXPECT_EQ(s->name, entry.path().filename().string()) << "a built-in's name must match its directory";
    }
  }
}

TEST(Manifest, BuiltinProgramsResolveToGuestDir) {
  auto s = find_builtin_scenario("syscalls");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->programs.size(), 1u);
  EXPECT_EQ(s->programs[0], (guest_dir() / "syscalls.elf").lexically_normal());
  EXPECT_EQ(s->kernel, (guest_dir() / "kernel.elf").lexically_normal());
  EXPECT_EQ(s->params.at("n"), "16");
}

TEST(Manifest, SyscallInsnRequiresItsFeature) {
  auto s = find_builtin_scenario("syscall-insn");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->requires_features, std::vector<std::string>{"syscall-insn"});
  auto p = find_builtin_scenario("privileged");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->expected_status, 141);
}

TEST(Manifest, UnknownBuiltinListsTheKnownOnes) {
  auto s = find_builtin_scenario("no-such-scenario");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::NoInput);
  EXPECT_NE(s.error().message.find("syscalls"), std::string::npos) << s.error().message;
}

TEST(Manifest, MinimalManifestGetsDefaults) {
  TempScenario t;
  t.write("scenario.json", R"({"name": "mine", "title": "My scenario"})");
  auto s = load_scenario(t.manifest());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->kernel, (guest_dir() / "kernel.elf").lexically_normal());
  EXPECT_TRUE(s->programs.empty());
  EXPECT_EQ(s->expected_status, 0);
  EXPECT_FALSE(s->expected_output.has_value());
  EXPECT_EQ(s->dir, fs::absolute(t.dir()).lexically_normal());
}

TEST(Manifest, ElfPathsAreRelativeToTheScenario) {
  TempScenario t;
  t.write("expected.txt", "hi\n");
  t.write("scenario.json", R"({"name": "mine", "title": "t", "kernel": "k/my-kernel.elf",
      "programs": ["prog.elf", "syscalls"], "expected_output": "expected.txt", "expected_status": 3})");
  auto s = load_scenario(t.dir());
  ASSERT_TRUE(s.ok()) << s.error().message;
  fs::path dir = fs::absolute(t.dir()).lexically_normal();
  EXPECT_EQ(s->kernel, dir / "k" / "my-kernel.elf");
  ASSERT_EQ(s->programs.size(), 2u);
  EXPECT_EQ(s->programs[0], dir / "prog.elf");
  EXPECT_EQ(s->programs[1], (guest_dir() / "syscalls.elf").lexically_normal());
  EXPECT_EQ(s->expected_output.value(), "hi\n");
  EXPECT_EQ(s->expected_status, 3);
}

TEST(Manifest, KernelPvDefaultsOnlyWithTheBuiltinKernel) {
  {
    TempScenario t;  // the built-in kernel: its PV build comes with it
    t.write("scenario.json", R"({"name": "mine", "title": "t", "kernel": "kernel"})");
    auto s = load_scenario(t.dir());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->kernel_pv, (guest_dir() / "kernel-pv.elf").lexically_normal());
  }
  {
    TempScenario t;  // a kernel of its own and no kernel_pv: no PV build, nothing guessed
    t.write("scenario.json", R"({"name": "mine", "title": "t", "kernel": "my-kernel.elf"})");
    auto s = load_scenario(t.dir());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(s->kernel_pv.empty());
  }
  {
    TempScenario t;  // both named: paths relative to the scenario, or built-in names
    t.write("scenario.json",
            R"({"name": "mine", "title": "t", "kernel": "my-kernel.elf", "kernel_pv": "pv/my-kernel-pv.elf"})");
    auto s = load_scenario(t.dir());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->kernel_pv, fs::absolute(t.dir()).lexically_normal() / "pv" / "my-kernel-pv.elf");
  }
}

TEST(Manifest, BadManifestsNameFileAndField) {
  expect_field_error(R"({"name": "x", "title": "t", "kernel_pv": ""})", "kernel_pv");
  expect_field_error(R"({"name": "x", "title": "t", "kernel_pv": 1})", "kernel_pv");
  expect_field_error(R"({"name": "x", "title": "t", "kernel_pv": "../pv"})", "kernel_pv");
  expect_field_error(R"({"title": "no name"})", "name");
  expect_field_error(R"({"name": "Bad Name", "title": "t"})", "name");
  expect_field_error(R"({"name": 5, "title": "t"})", "name");
  expect_field_error(R"({"name": "x"})", "title");
  expect_field_error(R"({"name": "x", "title": "t", "programs": "syscalls"})", "programs");
  expect_field_error(R"({"name": "x", "title": "t", "programs": [3]})", "programs[0]");
  expect_field_error(R"({"name": "x", "title": "t", "programs": ["../evil"]})", "programs[0]");
  expect_field_error(R"({"name": "x", "title": "t", "kernel": ""})", "kernel");
  expect_field_error(R"({"name": "x", "title": "t", "params": [1]})", "params");
  expect_field_error(R"({"name": "x", "title": "t", "params": {"n": [1]}})", "params.n");
  expect_field_error(R"({"name": "x", "title": "t", "params": {"n": "two words"}})", "params.n");
  expect_field_error(R"({"name": "x", "title": "t", "expected_status": 256})", "expected_status");
  expect_field_error(R"({"name": "x", "title": "t", "expected_status": "0"})", "expected_status");
  expect_field_error(R"({"name": "x", "title": "t", "expected_output": "missing.txt"})", "expected_output");
  expect_field_error(R"({"name": "x", "title": "t", "requires": ["warp-drive"]})", "requires[0]");
  expect_field_error(R"({"name": "x", "title": "t", "kernel_args": "a\nb"})", "kernel_args");
  expect_field_error(R"({"name": "x", "title": "t", "vcpus": 0})", "vcpus");
  expect_field_error(R"({"name": "x", "title": "t", "vcpus": 9})", "vcpus");
  expect_field_error(R"({"name": "x", "title": "t", "vcpus": "4"})", "vcpus");
}

TEST(Manifest, VcpusDefaultsToOneAndTheSmpScenariosAskForMore) {
  TempScenario t;
  t.write("scenario.json", R"({"name": "mine", "title": "t"})");
  auto s = load_scenario(t.manifest());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->vcpus, 1);
  t.write("scenario.json", R"({"name": "mine", "title": "t", "vcpus": 8})");
  s = load_scenario(t.manifest());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->vcpus, 8);
  EXPECT_EQ(find_builtin_scenario("smp-hello")->vcpus, 4);
  EXPECT_EQ(find_builtin_scenario("ipi")->vcpus, 2);
  EXPECT_EQ(find_builtin_scenario("parallel")->vcpus, 1) << "its output is the same on any number of CPUs";
}

TEST(Manifest, UnknownFieldIsNamed) {
  Error e = load_error(R"({"name": "x", "title": "t", "expected_stauts": 1})");
  EXPECT_NE(e.message.find("expected_stauts"), std::string::npos) << e.message;
}

TEST(Manifest, InvalidJsonSaysWhere) {
  Error e = load_error("{\"name\": \"x\",\n \"title\": }");
  EXPECT_EQ(e.kind, ErrorKind::BadData);
  EXPECT_NE(e.message.find("byte"), std::string::npos) << e.message;
  Error e2 = load_error("[1, 2]");
  EXPECT_NE(e2.message.find("object"), std::string::npos) << e2.message;
}

TEST(Manifest, MissingManifestIsNoInput) {
  TempScenario t;
  auto s = load_scenario(t.dir());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::NoInput);
  EXPECT_NE(s.error().message.find("scenario.json"), std::string::npos) << s.error().message;
}

TEST(Cmdline, ArgsThenParamsWithOverrides) {
  Scenario s;
  s.name = "io-burst";
  s.kernel_args = "task=io-burst";
  s.params = {{"bytes", "4096"}, {"alpha", "1"}};
  auto line = build_cmdline(s, {});
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "task=io-burst alpha=1 bytes=4096");
  auto over = build_cmdline(s, {{"bytes", "64"}});
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(*over, "task=io-burst alpha=1 bytes=64");

  auto unknown = build_cmdline(s, {{"n", "3"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::Usage);
  EXPECT_NE(unknown.error().message.find("bytes"), std::string::npos) << unknown.error().message;
  auto spaces = build_cmdline(s, {{"bytes", "1 2"}});
  EXPECT_FALSE(spaces.ok());

  Scenario bare;
  bare.params = {{"n", "16"}};
  EXPECT_EQ(build_cmdline(bare, {}).value(), "n=16");
}

TEST(Dirs, EnvironmentOverridesDefaults) {
  ::setenv("RINGSCOPE_GUEST_DIR", "/tmp/some-guest-dir", 1);
  EXPECT_EQ(guest_dir(), fs::path("/tmp/some-guest-dir"));
  ::unsetenv("RINGSCOPE_GUEST_DIR");
  EXPECT_NE(guest_dir(), fs::path("/tmp/some-guest-dir"));
  ::setenv("RINGSCOPE_SCENARIOS_DIR", "/nonexistent-scenarios", 1);
  EXPECT_TRUE(builtin_scenarios().empty());
  ::unsetenv("RINGSCOPE_SCENARIOS_DIR");
  EXPECT_FALSE(builtin_scenarios().empty());
}
