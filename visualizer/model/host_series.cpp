// host_series.cpp — host counters as time series (host_series.h).
#include "model/host_series.h"

#include <algorithm>

#include "ringscope/host_counters.h"

namespace ringscope::viewer {

namespace {
constexpr uint32_t kMaxLanes = 4096;  // as the model's tracks: a hostile file allocates no more
}  // namespace

void HostSeries::add(uint64_t time_ns, uint64_t value) {
  if (!samples_.empty() && time_ns < samples_.back().time_ns) return;
  if (!samples_.empty() && time_ns == samples_.back().time_ns) {
    samples_.back().value = value;  // two samples at one time: the later counts
  } else {
    samples_.push_back({time_ns, value});
  }
  max_ = std::max(max_, value);
}

std::optional<double> HostSeries::value_at(uint64_t t) const {
  if (samples_.empty() || t < samples_.front().time_ns || t > samples_.back().time_ns) return std::nullopt;
  auto it = std::lower_bound(samples_.begin(), samples_.end(), t,
                             [](const HostSample& s, uint64_t x) { return s.time_ns < x; });
  if (it->time_ns == t) return static_cast<double>(it->value);
  const HostSample& hi = *it;
  const HostSample& lo = *(it - 1);
  const double f = static_cast<double>(t - lo.time_ns) / static_cast<double>(hi.time_ns - lo.time_ns);
  return static_cast<double>(lo.value) + f * (static_cast<double>(hi.value) - static_cast<double>(lo.value));
}

std::optional<double> HostSeries::rate_between(uint64_t a, uint64_t b) const {
  if (samples_.size() < 2 || b <= a) return std::nullopt;
  a = std::max(a, samples_.front().time_ns);
  b = std::min(b, samples_.back().time_ns);
  if (b <= a) return std::nullopt;
  auto va = value_at(a), vb = value_at(b);
  if (!va || !vb) return std::nullopt;
  return std::max(0.0, (*vb - *va) / static_cast<double>(b - a));
}

std::optional<uint64_t> HostSeries::level_at(uint64_t t) const {
  auto it = std::upper_bound(samples_.begin(), samples_.end(), t,
                             [](uint64_t x, const HostSample& s) { return x < s.time_ns; });
  if (it == samples_.begin()) return std::nullopt;
  return (it - 1)->value;
}

void HostTracks::add(const Event& e) {
  if (e.kind != EventKind::Counter || e.source != Source::Vmm) return;
  const HostCounterInfo* c = find_host_counter(e.name);
  if (!c) return;
  if (c->scope == HostCounterScope::Vcpu) {
    if (e.vcpu >= kMaxLanes) return;
    if (e.vcpu >= lanes_.size()) lanes_.resize(e.vcpu + 1);
    HostLaneSeries& l = lanes_[e.vcpu];
    (c->id == HostCounter::VcpuCpuNs ? l.cpu : l.run_delay).add(e.time_ns, e.value);
    return;
  }
  switch (c->id) {
    case HostCounter::RssBytes: rss_.add(e.time_ns, e.value); break;
    case HostCounter::RamResidentBytes: ram_.add(e.time_ns, e.value); break;
    case HostCounter::DiskCachedBytes: disk_.add(e.time_ns, e.value); break;
    default: break;
  }
}

const HostLaneSeries* HostTracks::lane(uint32_t vcpu) const {
  if (vcpu >= lanes_.size()) return nullptr;
  const HostLaneSeries& l = lanes_[vcpu];
  return l.cpu.empty() && l.run_delay.empty() ? nullptr : &l;
}

}  // namespace ringscope::viewer
