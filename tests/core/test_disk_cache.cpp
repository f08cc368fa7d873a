// test_disk_cache.cpp — the disk image's host cache modes (`run
// --disk-cache`): what each does with the page cache and with the guest's
// flushes, O_DIRECT's bounce buffers and read-modify-write, a filesystem
// that refuses O_DIRECT, and the page-cache measurement (mincore) that
// tells writeback from none.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "ringscope/devices/disk_image.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;

// A fresh image path in the test's temporary directory, removed after.
struct TempImage {
  fs::path path;
  explicit TempImage(const std::string& name) {
    path = fs::path(::testing::TempDir()) / ("ringscope-disk-cache-" + std::to_string(getpid()) + "-" + name);
    fs::remove(path);
  }
  ~TempImage() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

std::vector<uint8_t> pattern(uint64_t sectors, uint8_t seed) {
  std::vector<uint8_t> v(sectors * kSectorSize);
  for (size_t i = 0; i < v.size(); i++) v[i] = static_cast<uint8_t>(seed + i * 7 + i / kSectorSize);
  return v;
}

std::vector<uint8_t> file_bytes(const fs::path& p) {
  std::vector<uint8_t> v(fs::file_size(p));
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(pread(fd, v.data(), v.size(), 0), static_cast<ssize_t>(v.size()));
  ::close(fd);
  return v;
}

// Opens `path` in `mode`, or skips the test when the filesystem refuses O_DIRECT.
std::unique_ptr<DiskImage> open_or_skip(const fs::path& path, uint64_t bytes, DiskCache mode, DiskImageIo io = {}) {
  auto image = DiskImage::open(path, bytes, mode, io);
  if (!image.ok()) {
    EXPECT_EQ(image.error().kind, ErrorKind::Unavailable) << image.error().message;
    return nullptr;
  }
  return std::move(image).value();
}

TEST(DiskCache, OneTableOfNames) {
  for (const auto& m : kDiskCacheModes) {
    EXPECT_EQ(parse_disk_cache(m.name), m.mode);
    EXPECT_EQ(disk_cache_name(m.mode), m.name);
  }
  EXPECT_EQ(disk_cache_name(DiskCache::Writeback), "writeback");
  EXPECT_EQ(disk_cache_name(DiskCache::None), "none");
  EXPECT_EQ(disk_cache_name(DiskCache::Unsafe), "unsafe");
  EXPECT_FALSE(parse_disk_cache("directsync"));
  EXPECT_FALSE(disk_cache_info(DiskCache::None).host_page_cache);
  EXPECT_FALSE(disk_cache_info(DiskCache::Unsafe).flush_honoured);
}

// Sectors that share a 4 KiB block with others, a request across a block
// boundary, and the last sector of an image whose size is not a multiple
// of 4 KiB: each mode must put exactly these bytes at exactly these places.
TEST(DiskCache, EveryModeReadsBackWhatItWroteAndLeavesTheFileItsSize) {
  constexpr uint64_t kSectors = 37;  // 18944 bytes: the last block is partial
  for (const auto& m : kDiskCacheModes) {
    SCOPED_TRACE(std::string(m.name));
    TempImage img(std::string(m.name));
    auto disk = open_or_skip(img.path, kSectors * kSectorSize, m.mode);
    if (!disk) continue;
    ASSERT_EQ(disk->cache(), m.mode);
    ASSERT_EQ(disk->sectors(), kSectors);
    std::vector<uint8_t> expect(kSectors * kSectorSize, 0);
    struct Req {
      uint64_t sector, count;
    } reqs[] = {{1, 3}, {7, 2}, {0, 1}, {16, 8}, {36, 1}, {30, 6}};
    uint8_t seed = 1;
    for (const Req& r : reqs) {
      auto data = pattern(r.count, seed++);
      ASSERT_TRUE(disk->write(r.sector, data.data(), r.count));
      std::memcpy(expect.data() + r.sector * kSectorSize, data.data(), data.size());
    }
    ASSERT_TRUE(disk->flush());
    std::vector<uint8_t> back(kSectors * kSectorSize);
    ASSERT_TRUE(disk->read(0, back.data(), kSectors));
    EXPECT_EQ(back, expect);
    std::vector<uint8_t> two(2 * kSectorSize);  // unaligned, across a block boundary
    ASSERT_TRUE(disk->read(7, two.data(), 2));
    EXPECT_EQ(0, std::memcmp(two.data(), expect.data() + 7 * kSectorSize, two.size()));
    EXPECT_FALSE(disk->read(36, two.data(), 2));  // past the end
    disk.reset();
    EXPECT_EQ(fs::file_size(img.path), kSectors * kSectorSize);
    EXPECT_EQ(file_bytes(img.path), expect);
  }
}

int g_syncs = 0;
int counting_datasync(int fd) {
  g_syncs++;
  return fdatasync(fd);
}

TEST(DiskCache, FlushSyncsUnlessUnsafe) {
  for (const auto& m : kDiskCacheModes) {
    SCOPED_TRACE(std::string(m.name));
    TempImage img(std::string(m.name));
    g_syncs = 0;
    auto disk = open_or_skip(img.path, 8 * kSectorSize, m.mode, DiskImageIo{nullptr, counting_datasync});
    if (!disk) continue;
    auto data = pattern(1, 9);
    ASSERT_TRUE(disk->write(2, data.data(), 1));
    ASSERT_TRUE(disk->flush());
    ASSERT_TRUE(disk->flush());
    const int want = m.flush_honoured ? 2 : 0;
    EXPECT_EQ(g_syncs, want);
    EXPECT_EQ(disk->syncs(), static_cast<uint64_t>(want));
  }
}

int refuse_direct(int) {
  errno = EINVAL;
  return -1;
}

TEST(DiskCache, AFilesystemThatRefusesODirectIsAClearError) {
  TempImage img("refused");
  auto disk = DiskImage::open(img.path, 8 * kSectorSize, DiskCache::None, DiskImageIo{refuse_direct, nullptr});
  ASSERT_FALSE(disk.ok());
  EXPECT_EQ(disk.error().kind, ErrorKind::Unavailable);
  const std::string& msg = disk.error().message;
  EXPECT_NE(msg.find("O_DIRECT"), std::string::npos) << msg;
  EXPECT_NE(msg.find(img.path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("--disk-cache writeback"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Invalid argument"), std::string::npos) << msg;
  // The same for the scratch image; the other modes never ask for O_DIRECT.
  EXPECT_FALSE(DiskImage::scratch(8 * kSectorSize, DiskCache::None, DiskImageIo{refuse_direct, nullptr}).ok());
  EXPECT_TRUE(DiskImage::scratch(8 * kSectorSize, DiskCache::Writeback, DiskImageIo{refuse_direct, nullptr}).ok());
}

// A real tmpfs, where there is one: before Linux 6.6 it refuses O_DIRECT
// (the clear error), since then it takes it (and the image works).
TEST(DiskCache, TmpfsEitherWorksOrSaysWhatToDo) {
  struct statfs sfs;
  if (statfs("/dev/shm", &sfs) != 0 || sfs.f_type != 0x01021994 /* TMPFS_MAGIC */)
    GTEST_SKIP() << "no tmpfs at /dev/shm";
  fs::path p = fs::path("/dev/shm") / ("ringscope-disk-cache-" + std::to_string(getpid()));
  auto disk = DiskImage::open(p, 8 * kSectorSize, DiskCache::None);
  if (disk.ok()) {
    auto data = pattern(3, 5);
    std::vector<uint8_t> back(data.size());
    EXPECT_TRUE(disk.value()->write(3, data.data(), 3));
    EXPECT_TRUE(disk.value()->read(3, back.data(), 3));
    EXPECT_EQ(back, data);
  } else {
    EXPECT_EQ(disk.error().kind, ErrorKind::Unavailable);
    EXPECT_NE(disk.error().message.find("--disk-cache writeback"), std::string::npos) << disk.error().message;
  }
  std::error_code ec;
  fs::remove(p, ec);
}

// host.disk_cached_bytes' measurement: after the image's pages are dropped,
// reading it all through O_DIRECT leaves the page cache (nearly) empty;
// reading it through writeback fills it.
TEST(DiskCache, CachedBytesTellWritebackFromNone) {
  constexpr uint64_t kBytes = 1ull << 20;
  TempImage img("counter");
  {
    auto disk = DiskImage::open(img.path, kBytes, DiskCache::Writeback).value();
    auto data = pattern(kBytes / kSectorSize, 3);  // real blocks, not a hole
    ASSERT_TRUE(disk->write(0, data.data(), kBytes / kSectorSize));
    ASSERT_TRUE(disk->drop_host_cache().ok());
    auto after_drop = disk->cached_bytes();
    ASSERT_TRUE(after_drop);
    if (*after_drop > kBytes / 2) GTEST_SKIP() << "this filesystem keeps files in memory (tmpfs?): nothing to drop";
  }
  std::vector<uint8_t> buf(kBytes);
  {
    auto direct = open_or_skip(img.path, kBytes, DiskCache::None);
    if (!direct) GTEST_SKIP() << "the temporary directory's filesystem refuses O_DIRECT";
    ASSERT_TRUE(direct->read(0, buf.data(), kBytes / kSectorSize));
    ASSERT_TRUE(direct->read(0, buf.data(), kBytes / kSectorSize));
    auto cached = direct->cached_bytes();
    ASSERT_TRUE(cached);
    EXPECT_LT(*cached, kBytes / 8) << "O_DIRECT reads filled the page cache";
  }
  auto wb = DiskImage::open(img.path, kBytes, DiskCache::Writeback).value();
  ASSERT_TRUE(wb->read(0, buf.data(), kBytes / kSectorSize));
  auto cached = wb->cached_bytes();
  ASSERT_TRUE(cached);
  EXPECT_GT(*cached, kBytes * 7 / 8) << "writeback reads did not fill the page cache";
  EXPECT_LE(*cached, kBytes);
  ASSERT_TRUE(wb->drop_host_cache().ok());
  EXPECT_LT(*wb->cached_bytes(), kBytes / 8);
}

}  // namespace
}  // namespace ringscope
