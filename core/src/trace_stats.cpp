// trace_stats.cpp — one pass over a trace's events, adding up what the
// `stats` verb, the viewer's compare panel and the lab checkers report.
//
// Phases: a `marker` with phase begin opens a phase, the next `end` with the
// same label on the same vCPU closes it (the innermost one when the same
// label is open twice). Events count towards every phase open on their own
// vCPU, so nested phases both see the exits inside them. A phase still open
// at the end of the trace is reported with closed=false.
//
// StatsBuilder takes the events one at a time (the viewer streams a trace
// through it); compute_stats is a loop around it.
#include "ringscope/trace_stats.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "ringscope/exit_reasons.h"

namespace ringscope {

void DurationStats::add(uint64_t ns) {
  if (count == 0 || ns < min_ns) min_ns = ns;
  if (ns > max_ns) max_ns = ns;
  total_ns += ns;
  ++count;
}

std::vector<uint8_t> phase_rows(const std::vector<PhaseStats>& phases, size_t max_rows) {
  max_rows = std::min<size_t>(max_rows, kNoPhaseRow);
  std::vector<uint8_t> row(phases.size(), kNoPhaseRow);
  std::unordered_map<uint32_t, std::vector<uint64_t>> busy_until;  // per vCPU, per row: the end of its last phase
  for (size_t i = 0; i < phases.size(); ++i) {
    const PhaseStats& p = phases[i];
    auto& rows = busy_until[p.vcpu];
    size_t d = 0;
    for (size_t k = 0; k < rows.size(); ++k)
      if (rows[k] > p.begin_ns) d = k + 1;
    if (d >= max_rows) continue;
    if (d == rows.size()) rows.emplace_back();
    rows[d] = std::max(p.begin_ns, p.end_ns);
    row[i] = static_cast<uint8_t>(d);
  }
  return row;
}

std::optional<WorkLabel> parse_work_label(std::string_view label) {
  // The count and unit follow the last ": " (the unit has no spaces, so no
  // ": " can come after it).
  const size_t colon = label.rfind(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view rest = label.substr(colon + 2);
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  const std::string_view digits = rest.substr(0, space), unit = rest.substr(space + 1);
  if (unit.empty() || unit.find_first_of(" \t\n\r\v\f") != std::string_view::npos) return std::nullopt;
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  WorkLabel w{label.substr(0, colon), 0, unit};
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), w.count);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;  // more than 64 bits
  return w;
}

std::string_view kvm_stat_for_reason(uint16_t reason) {
  // KVM keeps per-vCPU stats for a few exit kinds only (see
  // Documentation/virt/kvm/api.rst and arch/x86/kvm/x86.c). MMIO shows up
  // as an EPT violation on VT-x, which is the reason the VMM records.
  switch (reason) {
    case exit_reason::kExternalInterrupt: return "irq_exits";
    case exit_reason::kInterruptWindow: return "irq_window_exits";
    case exit_reason::kHlt: return "halt_exits";
    case exit_reason::kVmcall: return "hypercalls";
    case exit_reason::kIoInstruction: return "io_exits";
    case exit_reason::kEptViolation: return "mmio_exits";
    default: return {};
  }
}

namespace {

bool is_ring_transition(const Event& e) {
  return (e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn) && e.from_cpl != e.to_cpl;
}

// Adds one event to a phase that is open on its vCPU.
void add_to_phase(PhaseStats& p, const Event& e) {
  ++p.events;
  if (size_t k = static_cast<size_t>(e.kind); k < p.by_kind.size()) ++p.by_kind[k];
  switch (e.kind) {
    case EventKind::VmExit:
      ++p.vm_exits;
      ++p.exits_by_reason[e.reason];
      p.exit_time_ns += e.duration_ns;
      break;
    case EventKind::Trap: ++p.traps; break;
    case EventKind::Hypercall: ++p.hypercalls; break;
    default: break;
  }
  if (is_ring_transition(e)) ++p.ring_transitions;
}

// The running value of every kvm-stats counter, per vCPU.
using StatValues = std::map<std::string, uint64_t, std::less<>>;

// What the phase's vCPU's counters grew by since the phase began.
void close_phase_stats(PhaseStats& p, const StatValues& at_begin, const StatValues& now) {
  for (auto& [name, value] : now) {
    auto it = at_begin.find(name);
    uint64_t before = it == at_begin.end() ? 0 : it->second;
    if (value > before) p.kvm_stats[name] = value - before;
  }
}

// Per-reason accumulator before the kvm-stats correction.
struct ReasonAcc {
  ExitReasonStats s;
  uint64_t kernel_events = 0;
};

// A phase open on some vCPU. Its label is kept here (cut to
// kMaxPhaseLabel) so the end marker can find it even when the phase is not
// listed (TraceStats::phases was full).
struct OpenPhase {
  std::string label;
  size_t index;         // into st.phases, or kNotListed
  StatValues at_begin;  // the vCPU's kvm-stats when it began (listed phases only)
};
constexpr size_t kNotListed = ~size_t{0};

std::string_view cut_label(std::string_view s) { return s.substr(0, kMaxPhaseLabel); }

}  // namespace

// Everything here is bounded (trace_stats.h): the tables are keyed by exit
// reason (16 bits), trap cause and vector, at most kMaxStatCounters counter
// names, at most kMaxOpenPhases open phases, and kMaxPhases listed ones.
struct StatsBuilder::State {
  TraceStats st;
  bool any = false;
  uint64_t last_seq = 0;
  std::map<uint16_t, ReasonAcc> reasons;
  std::map<std::pair<TrapCause, uint8_t>, TrapStats> traps;
  // The phases open on each vCPU, innermost last; a vCPU with none has no entry.
  std::unordered_map<uint32_t, std::vector<OpenPhase>> open;
  size_t open_count = 0;  // phases open on any vCPU: most events need no lookup
  std::unordered_map<uint32_t, StatValues> stat_now;
  size_t stat_count = 0;   // (vCPU, name) pairs in stat_now
  BtStatsBuilder bt;       // the bt mode's counters (bt_stats.h)
  VcpuStatsBuilder lanes;  // per vCPU (vcpu_stats.h)

  void begin_phase(const Event& e);
  void end_phase(const Event& e);
  void add_counter(const Event& e);
};

void StatsBuilder::State::begin_phase(const Event& e) {
  if (open_count >= kMaxOpenPhases) {
    ++st.phases_dropped;
    return;
  }
  OpenPhase o{std::string(cut_label(e.name)), kNotListed, {}};
  if (st.phases.size() < kMaxPhases) {
    PhaseStats p;
    p.label = o.label;
    p.vcpu = e.vcpu;
    p.begin_seq = p.end_seq = e.seq;
    p.begin_ns = p.end_ns = e.time_ns;
    o.index = st.phases.size();
    st.phases.push_back(std::move(p));
    if (auto it = stat_now.find(e.vcpu); it != stat_now.end()) o.at_begin = it->second;
  } else {
    ++st.phases_dropped;
  }
  open[e.vcpu].push_back(std::move(o));
  ++open_count;
}

void StatsBuilder::State::end_phase(const Event& e) {
  auto stack = open.find(e.vcpu);
  if (stack == open.end()) {
    ++st.unmatched_end_markers;
    return;
  }
  auto& v = stack->second;
  const std::string_view label = cut_label(e.name);
  auto it = std::find_if(v.rbegin(), v.rend(), [&](const OpenPhase& o) { return o.label == label; });
  if (it == v.rend()) {
    ++st.unmatched_end_markers;
    return;
  }
  if (it->index != kNotListed) {
    PhaseStats& p = st.phases[it->index];
    p.end_seq = e.seq;
    p.end_ns = e.time_ns;
    p.closed = true;
    static const StatValues kNone;
    auto now = stat_now.find(e.vcpu);
    close_phase_stats(p, it->at_begin, now == stat_now.end() ? kNone : now->second);
  }
  v.erase(std::next(it).base());
  --open_count;
  if (v.empty()) open.erase(stack);
}

void StatsBuilder::State::add_counter(const Event& e) {
  // A running value: keep the largest (latest) one per vCPU.
  auto& values = stat_now[e.vcpu];
  const std::string_view name = e.name.substr(0, kMaxStatName);
  auto it = values.find(name);
  if (it == values.end()) {
    if (stat_count >= kMaxStatCounters) {
      ++st.counters_dropped;
      if (values.empty()) stat_now.erase(e.vcpu);
      return;
    }
    ++stat_count;
    it = values.emplace(std::string(name), 0).first;
  }
  it->second = std::max(it->second, e.value);
}

StatsBuilder::StatsBuilder() : s_(std::make_unique<State>()) {}
StatsBuilder::~StatsBuilder() = default;

void StatsBuilder::add(const Event& e) {
  State& s = *s_;
  TraceStats& st = s.st;
  ++st.events;
  if (!s.any) {
    st.first_ns = st.last_ns = e.time_ns;
    s.any = true;
  }
  s.last_seq = e.seq;
  // Events can arrive slightly out of time order across vCPUs; the span
  // of the trace is the earliest to the latest.
  st.first_ns = std::min(st.first_ns, e.time_ns);
  st.last_ns = std::max(st.last_ns, e.time_ns);
  auto k = static_cast<size_t>(e.kind);
  if (k < st.by_kind.size()) ++st.by_kind[k];
  s.bt.add(e);
  s.lanes.add(e);

  // Phase bookkeeping first, so a marker is not counted inside the phase it opens or closes.
  if (e.kind == EventKind::Marker && e.phase != MarkerPhase::Point) {
    if (e.phase == MarkerPhase::Begin)
      s.begin_phase(e);
    else
      s.end_phase(e);
    return;
  }
  if (s.open_count != 0) {
    if (auto it = s.open.find(e.vcpu); it != s.open.end())
      for (const OpenPhase& o : it->second)
        if (o.index != kNotListed) add_to_phase(st.phases[o.index], e);
  }

  switch (e.kind) {
    case EventKind::VmExit: {
      ++st.vm_exits;
      ReasonAcc& r = s.reasons[e.reason];
      r.s.reason = e.reason;
      ++r.s.count;
      if (e.handled_by == HandledBy::Kernel)
        ++r.kernel_events;
      else if (e.handled_by == HandledBy::Vmm)
        ++r.s.vmm;
      if (e.duration_ns) {
        r.s.duration.add(e.duration_ns);
        st.exit_duration.add(e.duration_ns);
      }
      break;
    }
    case EventKind::Trap:
    case EventKind::TrapReturn: {
      bool ring = is_ring_transition(e);
      if (ring) {
        ++st.ring_transitions;
        (e.to_cpl < e.from_cpl ? st.to_kernel : st.to_user)++;
      }
      if (e.kind == EventKind::Trap) {
        ++st.trap_count;
        uint8_t vector = e.cause == TrapCause::Syscall ? 0 : e.vector;
        TrapStats& t = s.traps[{e.cause, vector}];
        t.cause = e.cause;
        t.vector = vector;
        ++t.count;
        if (ring) ++t.ring_transitions;
      }
      break;
    }
    case EventKind::Counter:
      if (e.source == Source::KvmStats) s.add_counter(e);
      break;
    case EventKind::Hypercall: ++st.hypercalls; break;
    case EventKind::Output: st.output_bytes += e.text.size(); break;
    case EventKind::RunEnd:
      st.end_reason = e.end_reason;
      st.guest_status = e.value;
      st.end_message = std::string(e.text.substr(0, kMaxEndMessage));
      break;
    default: break;
  }
}

TraceStats StatsBuilder::snapshot(const TraceHeader& header, bool complete, std::string warning) const {
  StatsBuilder copy;
  *copy.s_ = *s_;
  return copy.finish(header, complete, std::move(warning));
}

TraceStats StatsBuilder::finish(const TraceHeader& header, bool complete, std::string warning) {
  TraceStats st = std::move(s_->st);
  auto& reasons = s_->reasons;
  auto& traps = s_->traps;
  auto& stat_now = s_->stat_now;
  st.header = header;
  st.complete = complete;
  st.warning = std::move(warning);
  st.bt = s_->bt.finish(st.last_ns);
  st.vcpus = s_->lanes.finish();
  st.vcpu_events_dropped = s_->lanes.dropped();

  // A phase still open runs to the last event.
  static const StatValues kNone;
  for (auto& [vcpu, stack] : s_->open) {
    auto now = stat_now.find(vcpu);
    for (const OpenPhase& o : stack) {
      if (o.index == kNotListed) continue;
      PhaseStats& p = st.phases[o.index];
      p.end_ns = st.last_ns;
      p.end_seq = s_->any ? s_->last_seq : p.begin_seq;
      close_phase_stats(p, o.at_begin, now == stat_now.end() ? kNone : now->second);
    }
  }
  s_->open.clear();
  s_->open_count = 0;
  for (auto& [vcpu, values] : stat_now)
    for (auto& [name, value] : values) st.kvm_stats[name] += value;

  // Exits KVM handled in the kernel: the VMM never saw them, but the stats
  // fd counted them. Make sure every reason with such a stat has a row.
  for (uint16_t reason : {exit_reason::kExternalInterrupt, exit_reason::kInterruptWindow, exit_reason::kHlt,
                          exit_reason::kVmcall, exit_reason::kIoInstruction, exit_reason::kEptViolation}) {
    auto it = st.kvm_stats.find(std::string(kvm_stat_for_reason(reason)));
    if (it == st.kvm_stats.end() || it->second == 0) continue;
    ReasonAcc& r = reasons[reason];
    r.s.reason = reason;
  }
  for (auto& [reason, r] : reasons) {
    uint64_t from_stat = 0;
    if (auto name = kvm_stat_for_reason(reason); !name.empty())
      if (auto it = st.kvm_stats.find(std::string(name)); it != st.kvm_stats.end() && it->second > r.s.vmm)
        from_stat = it->second - r.s.vmm;
    r.s.kernel = std::max(r.kernel_events, from_stat);
    st.exits_vmm += r.s.vmm;
    st.exits_kernel += r.s.kernel;
    st.exits.push_back(r.s);
  }
  if (auto it = st.kvm_stats.find("kernel_exits"); it != st.kvm_stats.end())
    st.kernel_only_exits = it->second;
  else if (auto it2 = st.kvm_stats.find("exits"); it2 != st.kvm_stats.end() && it2->second > st.exits_vmm)
    st.kernel_only_exits = it2->second - st.exits_vmm;

  for (auto& [key, t] : traps) st.traps.push_back(t);
  // Most frequent first; ties by number so the output is stable.
  std::stable_sort(st.exits.begin(), st.exits.end(), [](const ExitReasonStats& a, const ExitReasonStats& b) {
    return a.count + a.kernel > b.count + b.kernel;
  });
  std::stable_sort(st.traps.begin(), st.traps.end(),
                   [](const TrapStats& a, const TrapStats& b) { return a.count > b.count; });
  return st;
}

TraceStats compute_stats(const Trace& trace) {
  StatsBuilder b;
  for (const Event& e : trace.events) b.add(e);
  return b.finish(trace.header, trace.complete, trace.warning);
}

}  // namespace ringscope
