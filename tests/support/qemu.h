// qemu.h — running Debian's QEMU (and other host tools) from tests: a VMM
// nobody on this project wrote, as the reference the guests are checked
// against. Used by tests/scenarios (the built-in scenarios, the PVH
// layouts).
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ringscope/host.h"

namespace ringscope::test {

// The full path of an executable on PATH, or "" if there is none.
inline std::string find_in_path(const std::string& exe) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');) {
    std::filesystem::path p = std::filesystem::path(dir) / exe;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

// Runs argv (argv[0] a full path) with stdout and stderr to `log_path` and
// stdin from /dev/null; returns the wait status.
inline int spawn(const std::vector<std::string>& args, const std::filesystem::path& log_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// probe_host() honours RINGSCOPE_NO_KVM: with it set QEMU runs under TCG only.
inline bool kvm_usable() { return ringscope::probe_host().kvm_openable; }

// One device access as a guest made it, in a form both QEMU's trace and
// ringscope's can be brought to: writes split into bytes (QEMU splits a
// dword OUT to an unclaimed 1-byte port region into four), reads whole.
struct DeviceAccess {
  bool mmio = false;
  bool write = false;
  uint64_t addr = 0;
  uint64_t value = 0;  // writes only
  uint8_t size = 1;
  bool operator==(const DeviceAccess&) const = default;
};

inline std::string to_string(const DeviceAccess& a) {
  std::ostringstream s;
  s << (a.mmio ? "mmio " : "pio ") << (a.write ? "write " : "read ") << std::hex << "0x" << a.addr;
  if (a.write)
    s << " = 0x" << a.value;
  else
    s << " size " << std::dec << int(a.size);
  return s.str();
}

inline void add_access(std::vector<DeviceAccess>& out, bool mmio, bool write, uint64_t addr, uint64_t value,
                       uint8_t size) {
  if (!write) {
    out.push_back({mmio, false, addr, 0, size});
    return;
  }
  for (uint8_t i = 0; i < size && i < 8; i++) out.push_back({mmio, true, addr + i, (value >> (8 * i)) & 0xff, 1});
}

// The device accesses in a QEMU `-trace memory_region_ops_*` log that
// follow the firmware's last fw_cfg access (the PVH option ROM loads the
// kernel through fw_cfg, then jumps to it): the guest's own. Port regions
// are told from MMIO by address (below 64 KiB: ports).
inline std::vector<DeviceAccess> qemu_guest_accesses(const std::string& log) {
  std::vector<DeviceAccess> all;
  size_t after_fwcfg = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    bool write = line.starts_with("memory_region_ops_write ");
    bool read = line.starts_with("memory_region_ops_read ");
    if (!write && !read) continue;
    auto field = [&](const std::string& key) -> uint64_t {
      size_t at = line.find(" " + key + " ");
      return at == std::string::npos ? 0 : std::strtoull(line.c_str() + at + key.size() + 2, nullptr, 0);
    };
    uint64_t addr = field("addr"), value = field("value"), size = field("size");
    if (line.find("name 'fwcfg") != std::string::npos) {
      all.clear();
      after_fwcfg = 1;
      continue;
    }
    add_access(all, addr >= 0x10000, write, addr, value, static_cast<uint8_t>(size));
  }
  if (!after_fwcfg) all.clear();
  return all;
}

}  // namespace ringscope::test
