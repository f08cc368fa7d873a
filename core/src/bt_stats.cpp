// bt_stats.cpp — adding up a `bt` trace (bt_stats.h).
#include "ringscope/bt_stats.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace ringscope {

namespace {

// Where one vCPU is: its world and since when (from its last world_switch).
struct VcpuWorld {
  BtWorld world = BtWorld::None;
  uint64_t since_ns = 0;
};

struct SiteKey {
  uint64_t rip;
  BtInsn insn;
  bool operator==(const SiteKey&) const = default;
};
struct SiteHash {
  size_t operator()(const SiteKey& k) const {
    return std::hash<uint64_t>{}(k.rip * 64 + static_cast<uint64_t>(k.insn));
  }
};

}  // namespace

struct BtStatsBuilder::State {
  BtStats st;
  std::unordered_map<uint32_t, VcpuWorld> vcpus;
  std::unordered_map<SiteKey, BtCalloutSite, SiteHash> sites;
  std::map<std::tuple<TrapCause, uint8_t, BtWorld>, uint64_t> causes;

  // Time in `w` from `from` to `to` (times may go backwards across vCPUs, never within one).
  void spend(BtWorld w, uint64_t from, uint64_t to) {
    if (to <= from) return;
    if (w == BtWorld::Direct) st.direct_ns += to - from;
    if (w == BtWorld::Translated) st.translated_ns += to - from;
  }
};

BtStatsBuilder::BtStatsBuilder() : s_(std::make_unique<State>()) {}
BtStatsBuilder::~BtStatsBuilder() = default;
BtStatsBuilder::BtStatsBuilder(const BtStatsBuilder& other) : s_(std::make_unique<State>(*other.s_)) {}
BtStatsBuilder& BtStatsBuilder::operator=(const BtStatsBuilder& other) {
  if (this != &other) *s_ = *other.s_;
  return *this;
}

void BtStatsBuilder::add(const Event& e) {
  BtStats& st = s_->st;
  switch (e.kind) {
    case EventKind::BtTranslate:
      ++st.blocks;
      st.block_bytes += e.length;
      st.block_instructions += e.count;
      st.sensitive_found += e.number;
      if (e.number) ++st.blocks_with_callouts;
      st.translate_ns += e.duration_ns;
      st.monitor_ns += e.duration_ns;
      break;
    case EventKind::BtCallout: {
      ++st.callouts;
      st.callout_ns += e.duration_ns;
      st.monitor_ns += e.duration_ns;
      const auto i = static_cast<size_t>(e.insn);
      if (i < st.callouts_by_insn.size()) {
        ++st.callouts_by_insn[i];
        st.callout_ns_by_insn[i] += e.duration_ns;
      }
      auto it = s_->sites.find({e.rip, e.insn});
      if (it == s_->sites.end()) {
        if (s_->sites.size() >= kMaxBtSites) {
          ++st.callouts_unplaced;
          break;
        }
        it = s_->sites.emplace(SiteKey{e.rip, e.insn}, BtCalloutSite{e.rip, e.insn, 0, 0}).first;
      }
      ++it->second.count;
      it->second.time_ns += e.duration_ns;
      break;
    }
    case EventKind::WorldSwitch: {
      ++st.world_switches;
      if (e.to_world == BtWorld::Translated) ++st.to_translated;
      if (e.to_world == BtWorld::Direct) ++st.to_direct;
      st.switch_ns += e.duration_ns;
      st.monitor_ns += e.duration_ns;
      const bool has_vector =
          e.cause == TrapCause::Exception || e.cause == TrapCause::Interrupt || e.cause == TrapCause::SoftInt;
      ++s_->causes[{e.cause, has_vector ? e.vector : uint8_t{0}, e.to_world}];
      VcpuWorld& v = s_->vcpus[e.vcpu];
      s_->spend(v.world, v.since_ns, e.time_ns);
      v.world = e.to_world;
      v.since_ns = e.time_ns;
      break;
    }
    default: break;
  }
}

BtStats BtStatsBuilder::finish(uint64_t end_ns) {
  for (auto& [vcpu, v] : s_->vcpus) s_->spend(v.world, v.since_ns, end_ns);
  BtStats st = std::move(s_->st);
  st.callout_sites = s_->sites.size();
  std::vector<BtCalloutSite> all;
  all.reserve(s_->sites.size());
  for (auto& [key, site] : s_->sites) all.push_back(site);
  // Most callouts first; ties by address, so the list is the same on every run of the same trace.
  auto hotter = [](const BtCalloutSite& a, const BtCalloutSite& b) {
    return a.count != b.count ? a.count > b.count : a.rip != b.rip ? a.rip < b.rip : a.insn < b.insn;
  };
  const size_t n = std::min(all.size(), kBtHotSites);
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), hotter);
  all.resize(n);
  st.hottest = std::move(all);
  for (auto& [key, count] : s_->causes)
    st.causes.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  std::stable_sort(st.causes.begin(), st.causes.end(),
                   [](const BtSwitchCause& a, const BtSwitchCause& b) { return a.count > b.count; });
  *s_ = State{};
  return st;
}

}  // namespace ringscope
