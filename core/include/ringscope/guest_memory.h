// guest_memory.h — the guest's physical RAM as the VMM sees it.
//
// Every access a device makes on behalf of a guest goes through here and is
// bounds-checked: a guest-supplied address is hostile until checked, and the
// VMM must never touch memory outside the guest because of what a guest did.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace ringscope {

class GuestMemory {
 public:
  GuestMemory() = default;
  GuestMemory(uint8_t* host, uint64_t size) : host_(host), size_(size) {}

  uint64_t size() const { return size_; }
  uint8_t* host_base() const { return host_; }

  // True if [gpa, gpa+len) lies inside guest RAM (overflow-safe).
  bool contains(uint64_t gpa, uint64_t len) const { return gpa <= size_ && len <= size_ - gpa; }

  // A view of guest RAM, or an empty span if the range is not all inside.
  std::span<uint8_t> slice(uint64_t gpa, uint64_t len) const {
    if (!contains(gpa, len)) return {};
    return {host_ + gpa, static_cast<size_t>(len)};
  }
  bool read(uint64_t gpa, void* out, uint64_t len) const {
    if (!contains(gpa, len)) return false;
    if (len) std::memcpy(out, host_ + gpa, len);  // memcpy with a null pointer is undefined even for 0 bytes
    return true;
  }
  bool write(uint64_t gpa, const void* in, uint64_t len) {
    if (!contains(gpa, len)) return false;
    if (len) std::memcpy(host_ + gpa, in, len);  // an empty module's bytes may be a null pointer
    return true;
  }
  // Reads a NUL-terminated string of at most max_len bytes; false if it runs
  // off guest RAM or has no terminator within max_len.
  bool read_cstring(uint64_t gpa, size_t max_len, std::string& out) const {
    out.clear();
    for (size_t i = 0; i < max_len; i++) {
      if (!contains(gpa + i, 1) || gpa + i < gpa) return false;
      char c = static_cast<char>(host_[gpa + i]);
      if (c == '\0') return true;
      out.push_back(c);
    }
    return false;
  }

 private:
  uint8_t* host_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace ringscope
