// disk_cache_test.cpp — `ringscope run --disk-cache` end to end: the
// disk-read scenario under each host cache mode (KVM paravirt, or the same
// PV guest under emulation where /dev/kvm is unusable), its output, the
// image's bytes untouched by reading, the mode in the trace header, and a
// bad mode refused with a sentence.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ringscope/host.h"
#include "ringscope/scenario.h"
#include "ringscope/trace.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;

struct Cli {
  int rc = -1;
  std::string out, err;
};

Cli run_cli(const std::vector<std::string>& args, const fs::path& dir) {
  std::string cmd = std::string(RINGSCOPE_BIN);
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >'" + (dir / "stdout.txt").string() + "' 2>'" + (dir / "stderr.txt").string() + "'";
  Cli c;
  int st = std::system(cmd.c_str());
  c.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream out(dir / "stdout.txt"), err(dir / "stderr.txt");
  c.out.assign(std::istreambuf_iterator<char>(out), {});
  c.err.assign(std::istreambuf_iterator<char>(err), {});
  return c;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

struct DiskCacheRun : ::testing::Test {
  fs::path dir;
  std::vector<std::string> mode_args;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ringscope-disk-cache-cli-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const char* env = std::getenv("RINGSCOPE_NO_KVM");
    const bool kvm = probe_host().kvm_openable && !(env && std::string(env) == "1");
    mode_args = kvm ? std::vector<std::string>{"--mode", "paravirt"}
                    : std::vector<std::string>{"--mode", "emulation", "--devices", "virtio"};
  }
  void TearDown() override { fs::remove_all(dir); }
  std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a = {"run", "disk-read"};
    a.insert(a.end(), mode_args.begin(), mode_args.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

TEST_F(DiskCacheRun, EachModeReadsTheSameAndTheHeaderSaysWhichRan) {
  auto img = dir / "disk.img";
  {
    std::ofstream f(img, std::ios::binary);
    for (int i = 0; i < 64 * 1024; i++) f.put(static_cast<char>(i * 131 + i / 512));
  }
  const std::string before = slurp(img);
  auto s = find_builtin_scenario("disk-read");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->expected_output.has_value());
  for (const char* mode : {"writeback", "none", "unsafe"}) {
    SCOPED_TRACE(mode);
    auto trace = dir / (std::string(mode) + ".rtrace");
    Cli c = run_cli(
        args({"--disk", img.string(), "--disk-cache", mode, "--disk-cache-drop", "--trace", trace.string()}), dir);
    if (c.rc == 69 && std::string(mode) == "none") {
      EXPECT_NE(c.err.find("O_DIRECT"), std::string::npos) << c.err;
      continue;  // this temporary directory's filesystem refuses O_DIRECT: said clearly
    }
    ASSERT_EQ(c.rc, 0) << c.err;
    EXPECT_EQ(c.out, *s->expected_output);
    EXPECT_NE(c.err.find("0 sectors written, 128 read"), std::string::npos) << c.err;
    TraceHeader h;
    ReadSummary sum;
    uint64_t phases = 0, cached = 0;
    bool sampled = false;
    ASSERT_TRUE(for_each_event(
                    trace.string(), {},
                    [&](const Event& e) {
                      if (e.kind == EventKind::Marker && e.name.starts_with("disk-read: ")) phases++;
                      if (e.kind == EventKind::Counter && e.name == "host.disk_cached_bytes") {
                        sampled = true;
                        cached = e.value;  // the last sample: the run's end
                      }
                      return true;
                    },
                    &h, &sum)
                    .ok());
    EXPECT_EQ(h.disk_cache, mode);
    EXPECT_EQ(phases, 4u) << "first and second read, begin and end";
    EXPECT_EQ(slurp(img), before) << "reading changed the image";
    // The host page cache after the guest read 32 KiB twice: filled under
    // writeback and unsafe, (nearly) empty under none, whose pages were
    // dropped before the run and whose reads go around the cache.
    ASSERT_TRUE(sampled) << "no host.disk_cached_bytes counter in the trace";
    if (std::string(mode) == "none")
      EXPECT_LT(cached, 8192u);
    else
      EXPECT_GE(cached, 32768u);
  }
  // The guest's own cache: the second read never reaches the disk.
  Cli c = run_cli(args({"--disk", img.string(), "--param", "cache=1", "--trace", (dir / "g.rtrace").string()}), dir);
  ASSERT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.out.find("second read: 64 sectors from the guest's cache, 0 from the disk; both reads match"),
            std::string::npos)
      << c.out;
  EXPECT_NE(c.err.find("0 sectors written, 64 read"), std::string::npos) << c.err;
}

TEST_F(DiskCacheRun, ABadModeIsRefusedWithTheChoices) {
  Cli c = run_cli(args({"--disk-cache", "directsync", "--trace", (dir / "t.rtrace").string()}), dir);
  EXPECT_EQ(c.rc, 64) << c.err;
  EXPECT_NE(c.err.find("writeback, none or unsafe"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace ringscope
