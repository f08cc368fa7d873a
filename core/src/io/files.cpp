// files.cpp — capped, regular-file-only reads and symlink-safe output files.
#include "ringscope/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

const char* file_type_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<std::vector<uint8_t>> read_regular_file(const std::filesystem::path& path, uint64_t cap, std::string_view what) {
  // O_NONBLOCK: opening a FIFO with no writer must not block; the fstat below
  // refuses it before any read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return make_error(ErrorKind::NoInput,
                      trf("cannot open {} {}: {}; check the path", what, path.string(), std::strerror(errno)));
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ErrorKind::NoInput, trf("cannot read {} {}: {}", what, path.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorKind::BadData,
                      trf("{} {} is {}; give a regular file", what, path.string(), file_type_name(st.st_mode)));
  if (static_cast<uint64_t>(st.st_size) > cap)
    return make_error(ErrorKind::BadData,
                      trf("{} {} is {} bytes; the limit is {} bytes", what, path.string(), st.st_size, cap));
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  // Read until EOF (a file may have grown) but never past the cap.
  for (;;) {
    if (got == bytes.size()) {
      if (bytes.size() >= cap + 1) break;
      bytes.resize(std::min<uint64_t>(cap + 1, std::max<uint64_t>(bytes.size() * 2, 4096)));
    }
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorKind::NoInput, trf("cannot read {} {}: {}", what, path.string(), std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > cap)
    return make_error(ErrorKind::BadData, trf("{} {} is larger than the limit of {} bytes", what, path.string(), cap));
  bytes.resize(got);
  return bytes;
}

Result<std::string> read_regular_text(const std::filesystem::path& path, uint64_t cap, std::string_view what) {
  TRY_ASSIGN(auto bytes, read_regular_file(path, cap, what));
  return std::string(bytes.begin(), bytes.end());
}

Result<int> create_output_file(const std::filesystem::path& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) {
    if (errno == ELOOP)
      return make_error(ErrorKind::IoError,
                        trf("{} {} is a symbolic link; ringscope does not write through links, remove it or "
                            "choose another path",
                            what, path.string()));
    return make_error(ErrorKind::IoError, trf("cannot create {} {}: {}", what, path.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::IoError,
                      trf("{} {} exists and is not a regular file; choose another path", what, path.string()));
  }
  if (::ftruncate(fd, 0) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(ErrorKind::IoError, trf("cannot truncate {} {}: {}", what, path.string(), std::strerror(e)));
  }
  // Writes are blocking from here on.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace ringscope
