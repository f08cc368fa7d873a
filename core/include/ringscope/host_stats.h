// host_stats.h — what a trace's host counters (host_counters.h) add up to:
// per vCPU thread, the CPU time and run delay over the run and as shares of
// the wall time; for the process, its memory figures. Read by `stats`, the
// viewer and the labs, so they all give the same numbers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "ringscope/acpi_tables.h"
#include "ringscope/event.h"

namespace ringscope {

// One cumulative counter's first and last sample on one lane.
struct HostSpan {
  bool seen = false;
  uint64_t first_ns = 0, last_ns = 0;  // the samples' times
  uint64_t first = 0, last = 0;        // their values
  uint64_t delta() const { return last >= first ? last - first : 0; }
  uint64_t wall_ns() const { return last_ns >= first_ns ? last_ns - first_ns : 0; }
  // The delta as a share of the wall time between the samples (0..1 for
  // CPU time of one thread); 0 without two samples apart in time.
  double rate() const { return wall_ns() ? static_cast<double>(delta()) / static_cast<double>(wall_ns()) : 0.0; }
  void add(uint64_t time_ns, uint64_t value);
};

// A level (bytes): its first, largest and last sample.
struct HostLevel {
  bool seen = false;
  uint64_t first = 0, max = 0, last = 0;
  void add(uint64_t value);
};

struct HostVcpuStats {
  HostSpan cpu;        // host.vcpu_cpu_ns
  HostSpan run_delay;  // host.vcpu_run_delay_ns
};

struct HostStats {
  std::array<HostVcpuStats, kMaxVcpus> vcpus{};  // by lane; lanes past kMaxVcpus are not kept
  HostLevel rss, ram_resident, disk_cached;
  uint64_t samples = 0;  // host counter events seen
  bool any() const { return samples != 0; }
  // Feed every event (others are ignored).
  void add(const Event& e);
};

// The figures as one JSON object (`stats --json`'s "host"): per vCPU thread
// its CPU time and run delay over the run and their shares of the wall time.
std::string host_stats_json(const HostStats& h);

}  // namespace ringscope
