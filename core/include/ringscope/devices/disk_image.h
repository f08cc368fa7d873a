// disk_image.h — a disk's sectors in a real host file (raw image).
//
// Shared by the legacy ATA disk and virtio-blk. Sectors are always read
// from and written to the file (pread/pwrite), never kept only in memory,
// so a run's writes can be inspected afterwards with `xxd IMAGE`. Every
// request is checked against the image size before the file is touched.
//
// How the host caches the image is the run's disk cache mode (`run
// --disk-cache`), named and meaning what QEMU's `-drive cache=` does:
//   writeback  through the host page cache; a guest flush is fdatasync()
//              (the default, and what every run did before the option);
//   none       O_DIRECT: every request goes to the host's disk, around the
//              page cache, through 4 KiB-aligned bounce buffers; a guest
//              flush is fdatasync();
//   unsafe     through the page cache; a guest flush does nothing.
// host.disk_cached_bytes (host_counters.h) shows the difference: cached_bytes().
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ringscope/result.h"

namespace ringscope {

inline constexpr uint32_t kSectorSize = 512;
// The unit O_DIRECT requests are made in: offset, length and buffer address
// all multiples of it (a page; every block device's logical block divides it).
inline constexpr uint32_t kDirectAlign = 4096;

enum class DiskCache : uint8_t { Writeback, None, Unsafe };

// The cache modes' one table: name (`run --disk-cache`, the trace header's
// disk_cache), whether the page cache is used and whether flushes reach the
// disk, and a line for --help and the docs (N_: translated where shown).
struct DiskCacheInfo {
  DiskCache mode;
  std::string_view name;
  bool host_page_cache;
  bool flush_honoured;
  const char* summary;
};
extern const std::array<DiskCacheInfo, 3> kDiskCacheModes;
const DiskCacheInfo& disk_cache_info(DiskCache mode);
std::string_view disk_cache_name(DiskCache mode);
std::optional<DiskCache> parse_disk_cache(std::string_view name);

// The system calls whose effect the tests observe (a seam; the defaults are
// the real ones). set_direct turns O_DIRECT on for an open descriptor
// (fcntl F_SETFL); datasync is fdatasync.
struct DiskImageIo {
  int (*set_direct)(int fd) = nullptr;
  int (*datasync)(int fd) = nullptr;
};

class DiskImage {
 public:
  // Opens (creating and sizing it if missing or smaller) a raw image file.
  // Never follows a symlink (refused with a clear error). An image without
  // write permission bits, or on a read-only filesystem, is opened
  // read-only even for root, and is not resized: write() then fails.
  // DiskCache::None on a filesystem that refuses O_DIRECT is an
  // Unavailable error saying what to use instead.
  static Result<std::unique_ptr<DiskImage>> open(const std::filesystem::path& path, uint64_t min_bytes,
                                                 DiskCache cache = DiskCache::Writeback, DiskImageIo io = {});
  // An unnamed image in the temporary directory (O_TMPFILE): a real file
  // that vanishes when the run ends. For runs that name no image.
  static Result<std::unique_ptr<DiskImage>> scratch(uint64_t bytes, DiskCache cache = DiskCache::Writeback,
                                                    DiskImageIo io = {});
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  uint64_t sectors() const { return bytes_ / kSectorSize; }
  const std::string& path() const { return path_; }
  DiskCache cache() const { return cache_; }
  // True if sectors [sector, sector+count) exist (overflow-safe).
  bool in_range(uint64_t sector, uint64_t count) const { return sector <= sectors() && count <= sectors() - sector; }
  // Whole sectors; false on a range error or an I/O error.
  bool read(uint64_t sector, void* dst, uint64_t count);
  bool write(uint64_t sector, const void* src, uint64_t count);
  // The guest's flush (ATA FLUSH CACHE, virtio-blk VIRTIO_BLK_T_FLUSH):
  // fdatasync() unless the mode is unsafe. False if the sync failed.
  bool flush();
  bool read_only() const { return read_only_; }
  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }
  uint64_t syncs() const { return syncs_; }  // fdatasync() calls made for the guest's flushes

  // Bytes of the image in the host page cache now: mincore() over a
  // read-only mapping of the file, a window at a time (the pages are never
  // touched, so measuring does not fill the cache). Safe from any thread
  // (the host sampler's). nullopt if the kernel would not say.
  std::optional<uint64_t> cached_bytes() const;
  // Asks the host to drop the image's clean pages from its page cache
  // (dirty ones are synced first): posix_fadvise(POSIX_FADV_DONTNEED),
  // which needs no root, unlike /proc/sys/vm/drop_caches. So the guest's
  // first read of a sector goes to the disk (`run --disk-cache-drop`).
  Status drop_host_cache();

 private:
  DiskImage(int fd, uint64_t bytes, std::string path) : fd_(fd), bytes_(bytes), path_(std::move(path)) {}
  static Result<std::unique_ptr<DiskImage>> finish_open(std::unique_ptr<DiskImage> image, DiskCache cache,
                                                        const DiskImageIo& io);
  bool direct_read(uint64_t off, uint8_t* dst, uint64_t len);
  bool direct_write(uint64_t off, const uint8_t* src, uint64_t len);
  int fd_ = -1;
  uint64_t bytes_ = 0;
  uint64_t file_bytes_ = 0;  // the file's own size (bytes_ rounded down to sectors)
  std::string path_;
  uint64_t reads_ = 0, writes_ = 0, syncs_ = 0;
  bool read_only_ = false;
  DiskCache cache_ = DiskCache::Writeback;
  int (*datasync_)(int) = nullptr;
};

}  // namespace ringscope
