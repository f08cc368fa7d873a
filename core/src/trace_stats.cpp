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
#include <unordered_map>

#include "ringscope/exit_reasons.h"

namespace ringscope {

void DurationStats::add(uint64_t ns) {
  if (count == 0 || ns < min_ns) min_ns = ns;
  if (ns > max_ns) max_ns = ns;
  total_ns += ns;
  ++count;
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

}  // namespace

struct StatsBuilder::State {
  TraceStats st;
  bool any = false;
  uint64_t last_seq = 0;
  std::map<uint16_t, ReasonAcc> reasons;
  std::map<std::pair<TrapCause, uint8_t>, TrapStats> traps;
  // Indices into st.phases of the phases open on each vCPU, innermost last.
  std::unordered_map<uint32_t, std::vector<size_t>> open;
  size_t open_count = 0;  // phases open on any vCPU: most events need no lookup
  std::unordered_map<uint32_t, StatValues> stat_now;
  std::vector<StatValues> stat_at_begin;  // per phase
};

StatsBuilder::StatsBuilder() : s_(std::make_unique<State>()) {}
StatsBuilder::~StatsBuilder() = default;

void StatsBuilder::add(const Event& e) {
  TraceStats& st = s_->st;
  auto& reasons = s_->reasons;
  auto& traps = s_->traps;
  auto& open = s_->open;
  auto& stat_now = s_->stat_now;
  auto& stat_at_begin = s_->stat_at_begin;
  ++st.events;
  if (!s_->any) {
    st.first_ns = st.last_ns = e.time_ns;
    s_->any = true;
  }
  s_->last_seq = e.seq;
  // Events can arrive slightly out of time order across vCPUs; the span
  // of the trace is the earliest to the latest.
  st.first_ns = std::min(st.first_ns, e.time_ns);
  st.last_ns = std::max(st.last_ns, e.time_ns);
  auto k = static_cast<size_t>(e.kind);
  if (k < st.by_kind.size()) ++st.by_kind[k];

  // Phase bookkeeping first, so a marker is not counted inside the phase it opens or closes.
  if (e.kind == EventKind::Marker && e.phase != MarkerPhase::Point) {
    auto& stack = open[e.vcpu];
    if (e.phase == MarkerPhase::Begin) {
      PhaseStats p;
      p.label = std::string(e.name);
      p.vcpu = e.vcpu;
      p.begin_seq = p.end_seq = e.seq;
      p.begin_ns = p.end_ns = e.time_ns;
      stack.push_back(st.phases.size());
      ++s_->open_count;
      st.phases.push_back(std::move(p));
      stat_at_begin.push_back(stat_now[e.vcpu]);
    } else {
      auto it = std::find_if(stack.rbegin(), stack.rend(), [&](size_t i) { return st.phases[i].label == e.name; });
      if (it == stack.rend()) {
        ++st.unmatched_end_markers;
      } else {
        PhaseStats& p = st.phases[*it];
        p.end_seq = e.seq;
        p.end_ns = e.time_ns;
        p.closed = true;
        close_phase_stats(p, stat_at_begin[*it], stat_now[e.vcpu]);
        stack.erase(std::next(it).base());
        --s_->open_count;
      }
    }
    return;
  }
  if (s_->open_count != 0) {
    if (auto it = open.find(e.vcpu); it != open.end())
      for (size_t i : it->second) add_to_phase(st.phases[i], e);
  }

  switch (e.kind) {
    case EventKind::VmExit: {
      ++st.vm_exits;
      ReasonAcc& r = reasons[e.reason];
      r.s.reason = e.reason;
      ++r.s.count;
      if (e.handled_by == HandledBy::Kernel) ++r.kernel_events;
      else if (e.handled_by == HandledBy::Vmm) ++r.s.vmm;
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
        TrapStats& t = traps[{e.cause, vector}];
        t.cause = e.cause;
        t.vector = vector;
        ++t.count;
        if (ring) ++t.ring_transitions;
      }
      break;
    }
    case EventKind::Counter:
      // A running value: keep the largest (latest) one per vCPU.
      if (e.source == Source::KvmStats) {
        uint64_t& v = stat_now[e.vcpu][std::string(e.name)];
        v = std::max(v, e.value);
      }
      break;
    case EventKind::Hypercall: ++st.hypercalls; break;
    case EventKind::Output: st.output_bytes += e.text.size(); break;
    case EventKind::RunEnd:
      st.end_reason = e.end_reason;
      st.guest_status = e.value;
      st.end_message = std::string(e.text);
      break;
    default: break;
  }
}

TraceStats StatsBuilder::finish(const TraceHeader& header, bool complete, std::string warning) {
  TraceStats st = std::move(s_->st);
  auto& reasons = s_->reasons;
  auto& traps = s_->traps;
  auto& stat_now = s_->stat_now;
  auto& stat_at_begin = s_->stat_at_begin;
  st.header = header;
  st.complete = complete;
  st.warning = std::move(warning);

  // A phase still open runs to the last event.
  for (size_t i = 0; i < st.phases.size(); ++i) {
    PhaseStats& p = st.phases[i];
    if (p.closed) continue;
    p.end_ns = st.last_ns;
    p.end_seq = s_->any ? s_->last_seq : p.begin_seq;
    close_phase_stats(p, stat_at_begin[i], stat_now[p.vcpu]);
  }
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
