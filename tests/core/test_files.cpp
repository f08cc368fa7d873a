// test_files.cpp — capped regular-file reads and symlink-safe output files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ringscope/files.h"
#include "ringscope/scenario.h"
#include "ringscope/vmx/profile.h"

namespace fs = std::filesystem;
using namespace ringscope;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/ringscope-files-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(Files, ReadsARegularFileWhole) {
  TempDir d;
  std::ofstream(d.path / "a.txt") << "hello\n";
  auto text = read_regular_text(d.path / "a.txt", 100, "manifest");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(text.value(), "hello\n");
}

TEST(Files, RefusesAFileOverTheCapNamingTheLimit) {
  TempDir d;
  std::ofstream(d.path / "big") << std::string(101, 'x');
  auto r = read_regular_file(d.path / "big", 100, "lab.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadData);
  EXPECT_NE(r.error().message.find("lab.json"), std::string::npos);
  EXPECT_NE(r.error().message.find("100"), std::string::npos);
}

TEST(Files, RefusesADeviceWithoutReadingIt) {
  auto r = read_regular_file("/dev/zero", 1 << 20, "handout");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadData);
  EXPECT_NE(r.error().message.find("character device"), std::string::npos) << r.error().message;
}

TEST(Files, RefusesAFifoWithoutHanging) {
  TempDir d;
  ASSERT_EQ(mkfifo((d.path / "fifo").c_str(), 0600), 0);
  auto r = read_regular_file(d.path / "fifo", 1 << 20, "answers");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("FIFO"), std::string::npos) << r.error().message;
}

TEST(Files, MissingFileIsNoInput) {
  auto r = read_regular_file("/nonexistent/ringscope/x", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::NoInput);
}

TEST(Files, OutputRefusesAPlantedSymlinkAndLeavesItsTargetAlone) {
  TempDir d;
  std::ofstream(d.path / "victim") << "keep me";
  fs::create_symlink(d.path / "victim", d.path / "trace.rtrace");
  auto r = create_output_file(d.path / "trace.rtrace", "trace");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::IoError);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
  std::ifstream in(d.path / "victim");
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "keep me");
}

TEST(Files, OutputTruncatesAnExistingRegularFile) {
  TempDir d;
  std::ofstream(d.path / "out") << "old contents";
  auto r = create_output_file(d.path / "out");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(::write(r.value(), "new", 3), 3);
  ::close(r.value());
  EXPECT_EQ(fs::file_size(d.path / "out"), 3u);
}

// The readers of scenario manifests and VMX profiles go through the capped
// reader: a device or FIFO in their place is a clear error, not a hang.
TEST(Files, AScenarioManifestThatIsAFifoIsRefused) {
  TempDir d;
  ASSERT_EQ(mkfifo((d.path / "scenario.json").c_str(), 0600), 0);
  auto s = load_scenario(d.path / "scenario.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("FIFO"), std::string::npos) << s.error().message;
}

TEST(Files, AVmxProfileThatIsADeviceIsRefused) {
  auto p = vmx::load_profile("/dev/zero");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("character device"), std::string::npos) << p.error().message;
}
