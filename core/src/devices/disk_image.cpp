// disk_image.cpp — raw disk images on the host, bounds-checked.
#include "ringscope/devices/disk_image.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {
constexpr uint64_t kMaxImage = 1ull << 40;

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

Result<std::unique_ptr<DiskImage>> DiskImage::open(const std::filesystem::path& path, uint64_t min_bytes) {
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
  return image;
}

Result<std::unique_ptr<DiskImage>> DiskImage::scratch(uint64_t bytes) {
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
  return std::unique_ptr<DiskImage>(new DiskImage(fd, bytes - bytes % kSectorSize, "(scratch)"));
}

DiskImage::~DiskImage() {
  if (fd_ >= 0) ::close(fd_);
}

bool DiskImage::read(uint64_t sector, void* dst, uint64_t count) {
  if (!in_range(sector, count)) return false;
  reads_ += count;
  return full_pread(fd_, dst, count * kSectorSize, sector * kSectorSize);
}

bool DiskImage::write(uint64_t sector, const void* src, uint64_t count) {
  if (read_only_ || !in_range(sector, count)) return false;
  writes_ += count;
  return full_pwrite(fd_, src, count * kSectorSize, sector * kSectorSize);
}

bool DiskImage::flush() { return read_only_ || fdatasync(fd_) == 0; }

}  // namespace ringscope
