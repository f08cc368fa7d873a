// host_stats.cpp — adding up a trace's host counters (host_stats.h).
#include "ringscope/host_stats.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ringscope/host_counters.h"

namespace ringscope {

void HostSpan::add(uint64_t time_ns, uint64_t value) {
  if (!seen) {
    seen = true;
    first_ns = time_ns;
    first = value;
  }
  last_ns = std::max(last_ns, time_ns);
  last = std::max(last, value);  // cumulative: the latest is the largest
}

void HostLevel::add(uint64_t value) {
  if (!seen) first = value;
  seen = true;
  max = std::max(max, value);
  last = value;
}

void HostStats::add(const Event& e) {
  if (e.kind != EventKind::Counter || e.source != Source::Vmm) return;
  const HostCounterInfo* c = find_host_counter(e.name);
  if (!c) return;
  samples++;
  switch (c->id) {
    case HostCounter::VcpuCpuNs:
      if (e.vcpu < vcpus.size()) vcpus[e.vcpu].cpu.add(e.time_ns, e.value);
      break;
    case HostCounter::VcpuRunDelayNs:
      if (e.vcpu < vcpus.size()) vcpus[e.vcpu].run_delay.add(e.time_ns, e.value);
      break;
    case HostCounter::RssBytes: rss.add(e.value); break;
    case HostCounter::RamResidentBytes: ram_resident.add(e.value); break;
    case HostCounter::DiskCachedBytes: disk_cached.add(e.value); break;
  }
}

std::string host_stats_json(const HostStats& h) {
  using nlohmann::json;
  json vcpus = json::array();
  for (size_t v = 0; v < h.vcpus.size(); v++) {
    const HostVcpuStats& t = h.vcpus[v];
    if (!t.cpu.seen) continue;
    vcpus.push_back({{"vcpu", v},
                     {"cpu_ns", t.cpu.delta()},
                     {"cpu_share", t.cpu.rate()},
                     {"run_delay_ns", t.run_delay.delta()},
                     {"run_delay_share", t.run_delay.rate()},
                     {"wall_ns", t.cpu.wall_ns()}});
  }
  json j = {{"vcpus", vcpus}};
  auto level = [](const HostLevel& l) { return json{{"first", l.first}, {"max", l.max}, {"last", l.last}}; };
  if (h.rss.seen) j["rss_bytes"] = level(h.rss);
  if (h.ram_resident.seen) j["ram_resident_bytes"] = level(h.ram_resident);
  if (h.disk_cached.seen) j["disk_cached_bytes"] = level(h.disk_cached);
  return j.dump();
}

}  // namespace ringscope
