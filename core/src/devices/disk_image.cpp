// disk_image.cpp — raw disk images on the host, bounds-checked.
#include "ringscope/devices/disk_image.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ringscope/i18n.h"

namespace ringscope {

const std::array<DiskCacheInfo, 3> kDiskCacheModes = {{
    {DiskCache::Writeback, "writeback", true, true,
     N_("the host page cache holds the image; a guest flush is fdatasync (the default)")},
    {DiskCache::None, "none", false, true,
     N_("O_DIRECT: every request goes to the host disk, around its page cache; a guest flush is fdatasync")},
    {DiskCache::Unsafe, "unsafe", true, false,
     N_("the host page cache holds the image; guest flushes are ignored (fast, loses data if the host "
        "crashes)")},
}};

const DiskCacheInfo& disk_cache_info(DiskCache mode) {
  for (const auto& m : kDiskCacheModes)
    if (m.mode == mode) return m;
  return kDiskCacheModes[0];
}

std::string_view disk_cache_name(DiskCache mode) { return disk_cache_info(mode).name; }

std::optional<DiskCache> parse_disk_cache(std::string_view name) {
  for (const auto& m : kDiskCacheModes)
    if (m.name == name) return m.mode;
  return std::nullopt;
}

namespace {
constexpr uint64_t kMaxImage = 1ull << 40;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMincoreWindow = 64ull << 20;  // mapped at a time by cached_bytes()

int real_set_direct(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_DIRECT);
}
int real_datasync(int fd) { return fdatasync(fd); }

// A bounce buffer O_DIRECT accepts: kDirectAlign-aligned address and length.
struct AlignedBuffer {
  explicit AlignedBuffer(uint64_t len) {
    if (posix_memalign(&p, kDirectAlign, len) != 0) p = nullptr;
  }
  ~AlignedBuffer() { std::free(p); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  uint8_t* data() const { return static_cast<uint8_t*>(p); }
  void* p = nullptr;
};

bool full_pread(int fd, void* buf, uint64_t len, uint64_t off) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len) {
    ssize_t n = pread(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {  // a hole past EOF reads as zeros
      std::memset(p, 0, len);
      return true;
    }
    p += n, len -= n, off += n;
  }
  return true;
}

// O_DIRECT reads: a short read is the end of the file (the next offset
// would not be aligned); the rest reads as zeros.
bool direct_pread(int fd, uint8_t* p, uint64_t len, uint64_t off) {
  while (len) {
    ssize_t n = pread(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0 || n % kDirectAlign != 0) {
      std::memset(p + n, 0, len - n);
      return true;
    }
    p += n, len -= n, off += n;
  }
  return true;
}

bool full_pwrite(int fd, const void* buf, uint64_t len, uint64_t off) {
  auto* p = static_cast<const uint8_t*>(buf);
  while (len) {
    ssize_t n = pwrite(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, len -= n, off += n;
  }
  return true;
}
}  // namespace

// Is the image meant to be read-only? Root may write through any mode
// bits, so they are checked here rather than left to open(): an image with
// no write bit, or on a filesystem mounted read-only, is opened O_RDONLY
// and the guest's writes fail as a write-protected disk's do.
static bool read_only_image(const std::filesystem::path& path, const struct stat& st) {
  if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) return true;
  struct statvfs fs;
  if (statvfs(path.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY)) return true;
  return access(path.c_str(), W_OK) != 0;  // not root: the permission bits decide
}

Result<std::unique_ptr<DiskImage>> DiskImage::open(const std::filesystem::path& path, uint64_t min_bytes,
                                                   DiskCache cache, DiskImageIo io) {
  // Never through a symlink: an image path is a file the user names, and a
  // link planted there could point the guest's writes at any host file.
  struct stat lst;
  bool exists = lstat(path.c_str(), &lst) == 0;
  if (exists && S_ISLNK(lst.st_mode))
    return make_error(ErrorKind::BadData, trf("disk image {} is a symbolic link; give the path of the image "
                                              "file itself",
                                              path.string()));
  if (exists && !S_ISREG(lst.st_mode))
    return make_error(ErrorKind::BadData, trf("disk image {} is not a regular file (a FIFO, device or "
                                              "directory); give a raw image file",
                                              path.string()));
  bool read_only = exists && read_only_image(path, lst);
  int flags = (read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0 && errno == ELOOP)
    return make_error(ErrorKind::BadData, trf("disk image {} is a symbolic link; give the path of the image "
                                              "file itself",
                                              path.string()));
  if (fd < 0)
    return make_error(ErrorKind::NoInput, trf("cannot open disk image {}: {}", path.string(), strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::BadData, trf("disk image {} is not a regular file", path.string()));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < min_bytes && !read_only) {
    if (ftruncate(fd, static_cast<off_t>(min_bytes)) != 0) {
      ::close(fd);
      return make_error(ErrorKind::IoError, trf("cannot size disk image {}: {}", path.string(), strerror(errno)));
    }
    size = min_bytes;
  }
  if (size > kMaxImage) {
    ::close(fd);
    return make_error(ErrorKind::BadData, trf("disk image {} is larger than 1 TiB", path.string()));
  }
  auto image = std::unique_ptr<DiskImage>(new DiskImage(fd, size - size % kSectorSize, path.string()));
  image->read_only_ = read_only;
  image->file_bytes_ = size;
  return finish_open(std::move(image), cache, io);
}

Result<std::unique_ptr<DiskImage>> DiskImage::scratch(uint64_t bytes, DiskCache cache, DiskImageIo io) {
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // Filesystems without O_TMPFILE: a named file, unlinked at once.
    std::string templ = (dir / "ringscope-disk-XXXXXX").string();
    fd = mkostemp(templ.data(), O_CLOEXEC);
    if (fd >= 0) unlink(templ.c_str());
  }
  if (fd < 0)
    return make_error(ErrorKind::IoError,
                      trf("cannot create a scratch disk image in {}: {}", dir.string(), strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return make_error(ErrorKind::IoError, trf("cannot size a scratch disk image: {}", strerror(errno)));
  }
  auto image = std::unique_ptr<DiskImage>(new DiskImage(fd, bytes - bytes % kSectorSize, "(scratch)"));
  image->file_bytes_ = bytes;
  return finish_open(std::move(image), cache, io);
}

// The cache mode, once the file is open. For none: O_DIRECT on the open
// descriptor, then one aligned read to prove the filesystem really takes it
// (some accept the flag and refuse the I/O). A refusal is the user's to fix.
Result<std::unique_ptr<DiskImage>> DiskImage::finish_open(std::unique_ptr<DiskImage> image, DiskCache cache,
                                                          const DiskImageIo& io) {
  image->cache_ = cache;
  image->datasync_ = io.datasync ? io.datasync : real_datasync;
  if (cache != DiskCache::None) return image;
  int (*set_direct)(int) = io.set_direct ? io.set_direct : real_set_direct;
  bool refused = set_direct(image->fd_) != 0;
  int err = errno;
  if (!refused && image->bytes_ > 0) {
    AlignedBuffer probe(kDirectAlign);
    if (!probe.data()) return make_error(ErrorKind::Internal, tr("out of memory for a disk bounce buffer"));
    refused = pread(image->fd_, probe.data(), kDirectAlign, 0) < 0;
    err = errno;
  }
  if (refused)
    return make_error(ErrorKind::Unavailable,
                      trf("--disk-cache none opens the disk image with O_DIRECT, and the filesystem holding {} "
                          "refuses it ({}; tmpfs before Linux 6.6 does). Put the image on a disk filesystem "
                          "such as ext4 or xfs (--disk PATH, or TMPDIR for the scratch image), or use "
                          "--disk-cache writeback or unsafe",
                          image->path_, strerror(err)));
  return image;
}

DiskImage::~DiskImage() {
  if (fd_ >= 0) ::close(fd_);
}

bool DiskImage::read(uint64_t sector, void* dst, uint64_t count) {
  if (!in_range(sector, count)) return false;
  reads_ += count;
  if (cache_ == DiskCache::None)
    return direct_read(sector * kSectorSize, static_cast<uint8_t*>(dst), count * kSectorSize);
  return full_pread(fd_, dst, count * kSectorSize, sector * kSectorSize);
}

bool DiskImage::write(uint64_t sector, const void* src, uint64_t count) {
  if (read_only_ || !in_range(sector, count)) return false;
  writes_ += count;
  if (cache_ == DiskCache::None)
    return direct_write(sector * kSectorSize, static_cast<const uint8_t*>(src), count * kSectorSize);
  return full_pwrite(fd_, src, count * kSectorSize, sector * kSectorSize);
}

// O_DIRECT: the request widened to whole 4 KiB blocks, through a bounce
// buffer. A block past the end of the file reads short; the rest is zeros.
bool DiskImage::direct_read(uint64_t off, uint8_t* dst, uint64_t len) {
  const uint64_t start = off / kDirectAlign * kDirectAlign;
  const uint64_t end = (off + len + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
  AlignedBuffer bounce(end - start);
  if (!bounce.data() || !direct_pread(fd_, bounce.data(), end - start, start)) return false;
  std::memcpy(dst, bounce.data() + (off - start), len);
  return true;
}

// Sectors that do not fill their 4 KiB blocks are a read-modify-write: the
// first and last blocks are read into the bounce buffer before the sectors
// are copied over them. A last block that runs past the file's end makes
// the file longer; it is cut back to its own size.
bool DiskImage::direct_write(uint64_t off, const uint8_t* src, uint64_t len) {
  const uint64_t start = off / kDirectAlign * kDirectAlign;
  const uint64_t end = (off + len + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
  AlignedBuffer bounce(end - start);
  if (!bounce.data()) return false;
  if (off != start && !direct_pread(fd_, bounce.data(), kDirectAlign, start)) return false;
  if ((off + len) % kDirectAlign != 0 && (end - kDirectAlign != start || off == start) &&
      !direct_pread(fd_, bounce.data() + (end - start - kDirectAlign), kDirectAlign, end - kDirectAlign))
    return false;
  std::memcpy(bounce.data() + (off - start), src, len);
  if (!full_pwrite(fd_, bounce.data(), end - start, start)) return false;
  return end <= file_bytes_ || ftruncate(fd_, static_cast<off_t>(file_bytes_)) == 0;
}

bool DiskImage::flush() {
  if (read_only_ || cache_ == DiskCache::Unsafe) return true;
  syncs_++;
  return datasync_(fd_) == 0;
}

std::optional<uint64_t> DiskImage::cached_bytes() const {
  uint64_t cached = 0;
  std::vector<unsigned char> vec(kMincoreWindow / kPage);
  for (uint64_t at = 0; at < file_bytes_; at += kMincoreWindow) {
    const uint64_t len = std::min(kMincoreWindow, file_bytes_ - at);
    void* map = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(at));
    if (map == MAP_FAILED) return std::nullopt;
    const uint64_t pages = (len + kPage - 1) / kPage;
    int rc = mincore(map, len, vec.data());
    munmap(map, len);
    if (rc != 0) return std::nullopt;
    for (uint64_t i = 0; i < pages; i++)
      if (vec[i] & 1) cached += std::min(kPage, len - i * kPage);
  }
  return cached;
}

Status DiskImage::drop_host_cache() {
  if (!read_only_ && datasync_(fd_) != 0)
    return make_error(ErrorKind::IoError, trf("cannot sync disk image {}: {}", path_, strerror(errno)));
  int rc = posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
  if (rc != 0)
    return make_error(ErrorKind::IoError,
                      trf("cannot drop disk image {} from the host page cache: {}", path_, strerror(rc)));
  return ok_status();
}

}  // namespace ringscope
