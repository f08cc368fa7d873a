// phase_figures.cpp — the work phases of a trace (phase_figures.h).
#include "ringscope/phase_figures.h"

#include <array>
#include <charconv>
#include <regex>

#include "ringscope/devices/probe.h"
#include "ringscope/event.h"

namespace ringscope {

namespace {

// How many events of kind `k` the phase holds.
uint64_t kind_count(const PhaseStats& p, EventKind k) {
  auto i = static_cast<size_t>(k);
  return i < p.by_kind.size() ? p.by_kind[i] : 0;
}

// N from a label's "<N>", or nullopt when it does not fit (a guest's label is data).
std::optional<uint64_t> parse_count(const std::string& digits) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

void MarkerExitTracker::add(const Event& e) {
  if (e.kind == EventKind::Counter) return;  // statistics sampled at an exit sit between it and its marker
  const char*& last = last_[e.vcpu];
  if (e.kind == EventKind::Marker && e.phase == MarkerPhase::End && last && closing_.size() < kMaxPhases)
    closing_[e.seq] = last == std::string_view("exit");
  bool probe_out = e.port == kProbeBase && e.direction == Direction::Out;
  last = !probe_out                       ? nullptr
         : e.kind == EventKind::VmExit    ? "exit"
         : e.kind == EventKind::BtCallout ? "callout"
                                          : nullptr;
}

std::vector<PhaseFigures> phase_figures(const TraceStats& st, const MarkerExitTracker& markers) {
  static const std::regex re(R"(^(.*): (\d+) (\S+)$)");
  std::vector<PhaseFigures> out;
  for (const PhaseStats& p : st.phases) {
    std::smatch m;
    if (!p.closed || !std::regex_match(p.label, m, re)) continue;
    PhaseFigures f;
    f.label = p.label;
    f.row = m[1].str();
    std::optional<uint64_t> ops = parse_count(m[2].str());
    if (!ops || *ops == 0) continue;
    f.ops = *ops;
    f.unit = m[3].str();
    f.ns = p.duration_ns();
    f.exits = p.vm_exits;
    f.callouts = kind_count(p, EventKind::BtCallout);
    f.world_switches = kind_count(p, EventKind::WorldSwitch);
    if (auto it = markers.closing().find(p.end_seq); it != markers.closing().end()) {
      uint64_t& own = it->second ? f.exits : f.callouts;  // the closing marker's own
      own -= own > 0;
    }
    // The KVM backend's kernel_exits statistic counts the exits KVM handled
    // itself; without it, KVM's `exits` counts them with the VMM's.
    auto stat = [&](const char* name) {
      auto it = p.kvm_stats.find(name);
      return it == p.kvm_stats.end() ? std::optional<uint64_t>() : it->second;
    };
    if (auto k = stat("kernel_exits"))
      f.kernel_exits = *k;
    else if (auto all = stat("exits"); all && *all > p.vm_exits)
      f.kernel_exits = *all - p.vm_exits;
    f.emulated = stat("insn_emulation").value_or(0);
    out.push_back(std::move(f));
  }
  return out;
}

std::optional<double> phase_figure(const PhaseFigures& f, std::string_view name) {
  if (name == "ns") return double(f.ns);
  if (name == "exits") return double(f.exits);
  if (name == "kernel_exits") return double(f.kernel_exits);
  if (name == "all_exits") return double(f.exits + f.kernel_exits);
  if (name == "kvm_emulated") return double(f.emulated);
  if (name == "callouts") return double(f.callouts);
  if (name == "world_switches") return double(f.world_switches);
  return std::nullopt;
}

std::span<const std::string_view> phase_figure_names() {
  static constexpr std::array<std::string_view, 7> kNames = {"ns",           "exits",    "kernel_exits",  "all_exits",
                                                             "kvm_emulated", "callouts", "world_switches"};
  return kNames;
}

}  // namespace ringscope
