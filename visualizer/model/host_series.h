// host_series.h — a trace's host counters (ringscope/host_counters.h) as
// time series the timeline plots: per vCPU lane the thread's CPU time and
// run delay, for the process its memory figures. No ImGui here.
//
// Cumulative counters are drawn as rates, and a rate is only ever a
// difference of two samples over the wall time between them: rate_between()
// reads the running total at each end of an interval (linear between the
// two samples around it) and divides. So a pixel column shows the true
// share of that column's time, however many samples fall in it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ringscope/event.h"

namespace ringscope::viewer {

struct HostSample {
  uint64_t time_ns = 0;
  uint64_t value = 0;
};

// One counter's samples in time order (a sample earlier than the last is
// dropped: a cumulative counter never goes back).
class HostSeries {
 public:
  void add(uint64_t time_ns, uint64_t value);
  std::span<const HostSample> samples() const { return samples_; }
  bool empty() const { return samples_.empty(); }
  // The running total at t, linear between the samples around it; nothing
  // outside [first sample, last sample].
  std::optional<double> value_at(uint64_t t) const;
  // (value_at(b) - value_at(a)) / (b - a), with [a, b] cut to the samples'
  // span; nothing if less than a nanosecond of it is covered. For a thread's
  // CPU time this is the share of one host CPU it had (0..1).
  std::optional<double> rate_between(uint64_t a, uint64_t b) const;
  // The sample at or before t (a level's value then), or nothing before the first.
  std::optional<uint64_t> level_at(uint64_t t) const;
  uint64_t max_value() const { return max_; }

 private:
  std::vector<HostSample> samples_;
  uint64_t max_ = 0;
};

struct HostLaneSeries {
  HostSeries cpu, run_delay;  // host.vcpu_cpu_ns, host.vcpu_run_delay_ns
};

// Every host counter of one trace.
class HostTracks {
 public:
  void add(const Event& e);  // every event; only host counters are kept
  // The lane's series, or null when the trace has none for that vCPU.
  const HostLaneSeries* lane(uint32_t vcpu) const;
  const HostSeries& rss() const { return rss_; }
  const HostSeries& ram_resident() const { return ram_; }
  const HostSeries& disk_cached() const { return disk_; }
  bool any_process() const { return !rss_.empty() || !ram_.empty() || !disk_.empty(); }

 private:
  std::vector<HostLaneSeries> lanes_;
  HostSeries rss_, ram_, disk_;
};

}  // namespace ringscope::viewer
