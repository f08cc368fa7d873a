// fuzz_util.h — what the fuzz targets share: a sink that touches every
// byte an event points at (so ASan sees a dangling string view the moment
// it is emitted), a reader that takes fields off the front of the input,
// and a scratch directory for the parsers that only read from files.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "ringscope/event.h"

namespace ringscope::fuzz {

// Discards events, after reading all they refer to.
class TouchingSink final : public EventSink {
 public:
  void emit(Event& e) override {
    e.seq = events_++;
    for (std::string_view s : {e.device, e.reg, e.name, e.text})
      for (char c : s) sum_ += static_cast<uint8_t>(c);
    if (e.regs) sum_ += e.regs->rip;
  }
  uint64_t events() const { return events_; }

 private:
  uint64_t events_ = 0;
  uint64_t sum_ = 0;
};

// Takes little-endian fields off the front of the input; past the end
// every field reads as zero, so any input is a valid (if dull) program.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  T take() {
    T v{};
    size_t n = sizeof v < size_ - pos_ ? sizeof v : size_ - pos_;
    std::memcpy(&v, data_ + pos_, n);
    pos_ += n;
    return v;
  }
  bool empty() const { return pos_ == size_; }
  const uint8_t* rest() const { return data_ + pos_; }
  size_t rest_size() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A private directory, made once per process and removed at exit. The
// manifest and lab loaders read files (they take a path), so each input is
// written there first; /dev/shm keeps that off the disk where it exists.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl =
        std::filesystem::exists("/dev/shm") ? "/dev/shm/ringscope-fuzz-XXXXXX" : "/tmp/ringscope-fuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

// Replaces `name` in the scratch directory with the input's bytes.
inline void write_scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  std::filesystem::path p = scratch_dir() / name;
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) abort();
    data += n;
    size -= static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace ringscope::fuzz
