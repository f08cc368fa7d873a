// host_counters.h — the VM as the host sees it: the counters' one table.
//
// To the host a VM is a process and each vCPU one of its threads, scheduled
// like any other (docs/design.md, "Host counters"). A sampler thread
// (host_sampler.h) reads these on a short period and records them as
// `counter` events (source vmm); the VMM, the CLI, the viewer and the labs
// all take the names from this table, nobody spells them again.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ringscope {

// Whose counter it is: one vCPU thread's (the event's vcpu field is that
// vCPU), or the whole VMM process's (recorded on vCPU 0's lane).
enum class HostCounterScope : uint8_t { Vcpu, Process };
enum class HostCounterUnit : uint8_t { Nanoseconds, Bytes };

enum class HostCounter : uint8_t {
  VcpuCpuNs,         // CPU time the vCPU thread has run (cumulative)
  VcpuRunDelayNs,    // time it was runnable but waited for a host CPU (cumulative)
  RssBytes,          // the VMM process's resident set
  RamResidentBytes,  // guest-RAM bytes the host has actually allocated
  DiskCachedBytes,   // bytes of the disk image in the host page cache
};
inline constexpr size_t kHostCounterCount = 5;

struct HostCounterInfo {
  HostCounter id;
  std::string_view name;  // the counter event's name: "host.vcpu_cpu_ns"
  HostCounterUnit unit;
  HostCounterScope scope;
  bool cumulative;          // a running total (plot its rate) or a level (plot it as it is)
  const char* title;        // short, for a legend (English; tr() translates)
  const char* description;  // one sentence (English; tr() translates)
};

// The table, in HostCounter order.
std::span<const HostCounterInfo> host_counters();
const HostCounterInfo& host_counter(HostCounter id);
std::string_view host_counter_name(HostCounter id);
// The entry with this event name, or null for a counter that is not a host counter.
const HostCounterInfo* find_host_counter(std::string_view name);

// ---- reading them (Linux /proc, mincore) -------------------------------------
// /proc/self/task/TID/schedstat: the thread's CPU time and run delay, in ns
// (tid 0: the calling thread, /proc/thread-self). Nothing if the thread has
// ended or the kernel has no schedstats.
struct ThreadSchedStat {
  uint64_t cpu_ns = 0;
  uint64_t run_delay_ns = 0;
};
std::optional<ThreadSchedStat> read_thread_schedstat(pid_t tid = 0);
// The process's resident set (/proc/self/statm, field 2), in bytes.
std::optional<uint64_t> read_rss_bytes();

// Bytes of [addr, addr+len) the kernel has a page for (mincore). `scratch`
// is reused between calls, so sampling allocates nothing after the first.
std::optional<uint64_t> resident_bytes(const void* addr, size_t len, std::vector<unsigned char>& scratch);

}  // namespace ringscope
