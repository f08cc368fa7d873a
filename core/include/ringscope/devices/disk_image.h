// disk_image.h — a disk's sectors in a real host file (raw image).
//
// Shared by the legacy ATA disk and virtio-blk. Sectors are always read
// from and written to the file (pread/pwrite), never kept only in memory,
// so a run's writes can be inspected afterwards with `xxd IMAGE`. Every
// request is checked against the image size before the file is touched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ringscope/result.h"

namespace ringscope {

inline constexpr uint32_t kSectorSize = 512;

class DiskImage {
 public:
  // Opens (creating and sizing it if missing or smaller) a raw image file.
  // Never follows a symlink (refused with a clear error). An image without
  // write permission bits, or on a read-only filesystem, is opened
  // read-only even for root, and is not resized: write() then fails.
  static Result<std::unique_ptr<DiskImage>> open(const std::filesystem::path& path, uint64_t min_bytes);
  // An unnamed image in the temporary directory (O_TMPFILE): a real file
  // that vanishes when the run ends. For runs that name no image.
  static Result<std::unique_ptr<DiskImage>> scratch(uint64_t bytes);
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  uint64_t sectors() const { return bytes_ / kSectorSize; }
  const std::string& path() const { return path_; }
  // True if sectors [sector, sector+count) exist (overflow-safe).
  bool in_range(uint64_t sector, uint64_t count) const { return sector <= sectors() && count <= sectors() - sector; }
  // Whole sectors; false on a range error or an I/O error.
  bool read(uint64_t sector, void* dst, uint64_t count);
  bool write(uint64_t sector, const void* src, uint64_t count);
  bool flush();
  bool read_only() const { return read_only_; }
  int fd() const { return fd_; }  // for the host sampler's mincore (host_sampler.h)
  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }

 private:
  DiskImage(int fd, uint64_t bytes, std::string path) : fd_(fd), bytes_(bytes), path_(std::move(path)) {}
  int fd_ = -1;
  uint64_t bytes_ = 0;
  std::string path_;
  uint64_t reads_ = 0, writes_ = 0;
  bool read_only_ = false;
};

}  // namespace ringscope
