// host_counters.cpp — the host counters' table and how each is read.
#include "ringscope/host_counters.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <string>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

using enum HostCounter;
using U = HostCounterUnit;
using S = HostCounterScope;

constexpr std::array<HostCounterInfo, kHostCounterCount> kTable{{
    {VcpuCpuNs, "host.vcpu_cpu_ns", U::Nanoseconds, S::Vcpu, true, N_("vCPU thread CPU time"),
     N_("CPU time the host scheduler has given this vCPU's thread so far (/proc/self/task/TID/schedstat, field 1). "
        "A busy guest keeps a host CPU; a halted one sleeps and adds nothing.")},
    {VcpuRunDelayNs, "host.vcpu_run_delay_ns", U::Nanoseconds, S::Vcpu, true, N_("vCPU thread run delay"),
     N_("Time this vCPU's thread was ready to run but waited for a host CPU (schedstat, field 2): the host "
        "scheduler running something else while the guest's work stalls.")},
    {RssBytes, "host.rss_bytes", U::Bytes, S::Process, false, N_("VMM resident set"),
     N_("Memory the whole VMM process has resident in host RAM (/proc/self/statm), guest RAM included.")},
    {RamResidentBytes, "host.ram_resident_bytes", U::Bytes, S::Process, false, N_("guest RAM the host allocated"),
     N_("Bytes of the guest's RAM the host has actually given pages to (mincore over the RAM mapping): a guest "
        "costs the host nothing for memory it has never touched.")},
    {DiskCachedBytes, "host.disk_cached_bytes", U::Bytes, S::Process, false, N_("disk image in page cache"),
     N_("Bytes of the guest's disk image that sit in the host's page cache (mincore over a mapping of the image).")},
}};

// Parses the first two unsigned numbers of `text`.
bool two_numbers(std::string_view text, uint64_t& a, uint64_t& b) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto r = std::from_chars(p, end, a);
  if (r.ec != std::errc()) return false;
  p = r.ptr;
  while (p < end && *p == ' ') p++;
  return std::from_chars(p, end, b).ec == std::errc();
}

// Reads a small /proc file into buf; the text read.
std::string_view read_small(const char* path, std::array<char, 128>& buf) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = ::read(fd, buf.data(), buf.size() - 1);
  ::close(fd);
  return n > 0 ? std::string_view(buf.data(), static_cast<size_t>(n)) : std::string_view();
}

}  // namespace

std::span<const HostCounterInfo> host_counters() { return kTable; }
const HostCounterInfo& host_counter(HostCounter id) { return kTable[static_cast<size_t>(id)]; }
std::string_view host_counter_name(HostCounter id) { return host_counter(id).name; }

const HostCounterInfo* find_host_counter(std::string_view name) {
  for (const auto& c : kTable)
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<ThreadSchedStat> read_thread_schedstat(pid_t tid) {
  std::array<char, 64> path{};
  if (tid == 0)
    std::snprintf(path.data(), path.size(), "/proc/thread-self/schedstat");
  else
    std::snprintf(path.data(), path.size(), "/proc/self/task/%d/schedstat", static_cast<int>(tid));
  std::array<char, 128> buf{};
  ThreadSchedStat s;
  if (!two_numbers(read_small(path.data(), buf), s.cpu_ns, s.run_delay_ns)) return std::nullopt;
  return s;
}

std::optional<uint64_t> read_rss_bytes() {
  std::array<char, 128> buf{};
  uint64_t size = 0, resident = 0;
  if (!two_numbers(read_small("/proc/self/statm", buf), size, resident)) return std::nullopt;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::optional<uint64_t> resident_bytes(const void* addr, size_t len, std::vector<unsigned char>& scratch) {
  if (!addr || len == 0) return std::nullopt;
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t pages = (len + page - 1) / page;
  scratch.resize(pages);
  // mincore wants a page-aligned start; every mapping here is one.
  if (mincore(const_cast<void*>(addr), len, scratch.data()) != 0) return std::nullopt;
  uint64_t n = 0;
  for (unsigned char v : scratch) n += v & 1;
  return n * page;
}

}  // namespace ringscope
