// trace_model.cpp — loading a trace into the viewer's model and deriving the
// per-vCPU tracks once, so frames only ever binary-search.
#include "model/trace_model.h"

#include <algorithm>
#include <filesystem>

namespace ringscope::viewer {

MarkRow mark_row_for(EventKind k, bool& shown) {
  const TimelineRow row = kind_spec(k).row;  // the schema's row for the kind
  shown = row != TimelineRow::None;
  return shown ? static_cast<MarkRow>(row) : MarkRow::Exits;
}

// Loading: every event goes through add() once, in file order, straight
// from the reader's stream (for_each_event): the model never holds a full
// Event for more than the one being added.
struct TraceModel::Loader {
  TraceModel& m;
  StatsBuilder stats;
  uint64_t prev = 0;
  bool first = true;

  explicit Loader(TraceModel& model) : m(model) {}
  void add(const Event& original) {
    stats.add(original);
    if (first) {
      m.first_event_ns_ = original.time_ns;
      first = false;
    }
    // The time index needs sorted times. vCPU threads can record a few ns
    // out of order; show such an event at its predecessor's time and count it.
    const Event* e = &original;
    Event moved;
    if (original.time_ns < prev) {
      moved = original;
      moved.time_ns = prev;
      e = &moved;
      ++m.reordered_;
    }
    prev = e->time_ns;
    m.store_.append(*e);
    m.index_event(m.store_.size() - 1, *e);
  }
  void finish(const TraceHeader& header, bool complete, std::string warning) {
    m.stats_ = stats.finish(header, complete, warning);
    m.header_ = header;
    m.complete_ = complete;
    m.warning_ = std::move(warning);
    m.origin_ns_ = header.start_mono_ns;
    if (m.size() != 0 && (m.origin_ns_ == 0 || m.first_event_ns_ < m.origin_ns_)) m.origin_ns_ = m.first_event_ns_;
    m.store_.shrink_to_fit();
    stack_phases(m.stats_.phases, m.tracks_);
    for (auto& tr : m.tracks_) {
      // A visit still open at the end lasts until the last event.
      if (!tr.ring3.empty() && tr.ring3.back().end_ns == UINT64_MAX)
        tr.ring3.back().end_ns = std::max(tr.ring3.back().begin_ns, m.last_ns());
      tr.ring3.shrink_to_fit();
      tr.cpl.shrink_to_fit();
      tr.root.shrink_to_fit();
      for (auto& l : tr.marks) l.shrink_to_fit();
    }
  }
};

Result<std::unique_ptr<TraceModel>> TraceModel::open(const std::string& path) {
  std::unique_ptr<TraceModel> m(new TraceModel());
  m->name_ = std::filesystem::path(path).filename().string();
  Loader loader(*m);
  TraceHeader header;
  ReadSummary summary;
  auto read = for_each_event(
      path, ReadOptions{},
      [&](const Event& e) {
        loader.add(e);
        return true;
      },
      &header, &summary);
  if (!read) return read.error();
  loader.finish(header, summary.complete, std::move(summary.warning));
  return m;
}

std::unique_ptr<TraceModel> TraceModel::from_trace(Trace&& trace, std::string name) {
  std::unique_ptr<TraceModel> m(new TraceModel());
  m->name_ = std::move(name);
  Loader loader(*m);
  m->store_.compact_array().reserve(trace.events.size());
  for (const Event& e : trace.events) loader.add(e);
  const TraceHeader header = trace.header;
  const bool complete = trace.complete;
  std::string warning = std::move(trace.warning);
  trace = Trace{};  // free the decoded events before shrinking
  loader.finish(header, complete, std::move(warning));
  return m;
}

namespace {
// Records a CPL change. A trap's own "from" and "to" collapse into one
// change; a visit of zero length between two events (iretq to ring 3 and a
// fault on the very first user instruction) is kept, so the band still
// shows that the CPU went there (as a one-pixel mixed mark).
void push_cpl(VcpuTrack& tr, uint64_t t, uint32_t idx, uint8_t cpl) {
  if (!tr.cpl.empty() && tr.cpl.back().cpl == cpl) return;
  if (!tr.cpl.empty() && tr.cpl.back().time_ns == t && tr.cpl.back().event == idx) {
    if (tr.cpl.back().cpl == 3 && !tr.ring3.empty() && tr.ring3.back().event == idx) tr.ring3.pop_back();
    tr.cpl.back() = {t, idx, cpl};
    if (tr.cpl.size() >= 2 && tr.cpl[tr.cpl.size() - 2].cpl == cpl) {
      tr.cpl.pop_back();
      if (cpl == 3 && !tr.ring3.empty()) {
        tr.ring3.back().end_ns = UINT64_MAX;  // the earlier visit goes on
        return;
      }
    }
    if (cpl == 3) tr.ring3.push_back({t, UINT64_MAX, idx, 0});
    return;
  }
  // Leaving ring 3 ends the open visit; entering it opens one (its end is
  // set when it is left, or at the end of the trace).
  if (!tr.cpl.empty() && tr.cpl.back().cpl == 3 && !tr.ring3.empty()) tr.ring3.back().end_ns = t;
  tr.cpl.push_back({t, idx, cpl});
  if (cpl == 3) tr.ring3.push_back({t, UINT64_MAX, idx, 0});
}
}  // namespace

void stack_phases(const std::vector<PhaseStats>& phases, std::vector<VcpuTrack>& tracks) {
  for (auto& tr : tracks) tr.phase_rows.clear();
  for (size_t i = 0; i < phases.size(); ++i) {
    const PhaseStats& p = phases[i];
    if (p.vcpu >= tracks.size()) continue;
    auto& rows = tracks[p.vcpu].phase_rows;
    const uint64_t end = std::max(p.begin_ns, p.end_ns);
    // One row above the highest row still busy when p begins, so a nested
    // phase always lies on a deeper row than every phase it is inside (the
    // rows above the highest busy one are free). A phase that begins exactly
    // where another ends may share its row.
    size_t d = 0;
    for (size_t k = 0; k < rows.size(); ++k)
      if (rows[k].back().end_ns > p.begin_ns) d = k + 1;
    if (d >= kMaxPhaseRows) continue;  // deeper than any lesson needs: not drawn (bounds a hostile file)
    if (d == rows.size()) rows.emplace_back();
    rows[d].push_back({p.begin_ns, end, static_cast<uint32_t>(i)});
  }
}

void TraceModel::index_event(size_t i, const Event& e) {
  const auto idx = static_cast<uint32_t>(i);
  if (e.vcpu >= tracks_.size()) {
    // vCPU numbers are small and dense in practice; cap to keep a hostile
    // file from allocating billions of tracks.
    if (e.vcpu > 4095) return;
    const size_t old = tracks_.size();
    tracks_.resize(e.vcpu + 1);
    for (size_t v = old; v < tracks_.size(); ++v) tracks_[v].vcpu = static_cast<uint32_t>(v);
  }
  VcpuTrack& tr = tracks_[e.vcpu];
  ++tr.events;
  const CompactEvent& c = store_.compact(i);
  if (c.flags & kCplKnown) {
    push_cpl(tr, e.time_ns, idx, static_cast<uint8_t>(c.flags & kCplMask));
    push_cpl(tr, e.time_ns, idx, c.to_cpl);
  }
  if (c.flags & kRingChange) transitions_.push_back(idx);
  if (e.kind == EventKind::Step && e.cpl == 3 && !tr.ring3.empty() && tr.ring3.back().end_ns == UINT64_MAX)
    ++tr.ring3.back().steps;
  if (e.kind == EventKind::Counter && e.name == "unstepped_runs") unstepped_runs_ = std::max(unstepped_runs_, e.value);
  if (e.kind == EventKind::VmExit) {
    uint64_t end = e.time_ns + e.duration_ns;
    if (!tr.root.empty() && tr.root.back().end_ns > e.time_ns)
      tr.root.back().end_ns = e.time_ns;  // keep spans disjoint
    tr.root.push_back({e.time_ns, end, idx});
  }
  if (e.kind == EventKind::ModeChange) mode_changes_.push_back(idx);
  bool shown = false;
  const MarkRow row = mark_row_for(e.kind, shown);
  if (shown) tr.marks[static_cast<int>(row)].push_back(idx);
}

size_t TraceModel::lower_bound(uint64_t t) const {
  const auto& a = store_.compact_array();
  return static_cast<size_t>(
      std::partition_point(a.begin(), a.end(), [&](const CompactEvent& c) { return c.time_ns < t; }) - a.begin());
}

size_t TraceModel::upper_bound(uint64_t t) const {
  const auto& a = store_.compact_array();
  return static_cast<size_t>(
      std::partition_point(a.begin(), a.end(), [&](const CompactEvent& c) { return c.time_ns <= t; }) - a.begin());
}

const VcpuTrack* TraceModel::track(uint32_t vcpu) const { return vcpu < tracks_.size() ? &tracks_[vcpu] : nullptr; }

int TraceModel::cpl_at(uint32_t vcpu, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr || tr->cpl.empty()) return -1;
  auto it = std::partition_point(tr->cpl.begin(), tr->cpl.end(), [&](const CplChange& c) { return c.time_ns <= t; });
  return it == tr->cpl.begin() ? -1 : (it - 1)->cpl;
}

std::optional<uint32_t> TraceModel::root_at(uint32_t vcpu, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr) return std::nullopt;
  auto it = std::partition_point(tr->root.begin(), tr->root.end(), [&](const RootSpan& s) { return s.begin_ns <= t; });
  if (it == tr->root.begin()) return std::nullopt;
  --it;
  if (t < it->end_ns) return it->event;
  return std::nullopt;
}

const Ring3Visit* TraceModel::ring3_at(uint32_t vcpu, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr) return nullptr;
  auto it = std::partition_point(tr->ring3.begin(), tr->ring3.end(), [&](const Ring3Visit& v) { return v.end_ns < t; });
  if (it == tr->ring3.end() || it->begin_ns > t) return nullptr;
  return &*it;
}

size_t TraceModel::next_of(size_t from, EventKind k) const {
  for (size_t i = from + 1; i < size(); ++i)
    if (kind(i) == k) return i;
  return size();
}

size_t TraceModel::prev_of(size_t from, EventKind k) const {
  for (size_t i = std::min(from, size()); i-- > 0;)
    if (kind(i) == k) return i;
  return size();
}

size_t TraceModel::next_transition(size_t from) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), static_cast<uint32_t>(from));
  return it == transitions_.end() ? size() : *it;
}

size_t TraceModel::prev_transition(size_t from) const {
  auto it = std::lower_bound(transitions_.begin(), transitions_.end(), static_cast<uint32_t>(from));
  return it == transitions_.begin() ? size() : *(it - 1);
}

size_t TraceModel::mode_change_before(size_t i) const {
  auto it = std::upper_bound(mode_changes_.begin(), mode_changes_.end(), static_cast<uint32_t>(i));
  return it == mode_changes_.begin() ? size() : *(it - 1);
}

std::string_view TraceModel::instruction_bytes_near(size_t i, uint64_t rip, size_t window) const {
  if (i >= size()) return {};
  // Backwards first (the step that ran the instruction), then forwards: a
  // faulting instruction never completes a step, but runs again after the
  // handler returns.
  const size_t stop = i > window ? i - window : 0;
  for (size_t j = i + 1; j-- > stop;) {
    if (kind(j) != EventKind::Step) continue;
    Event e = event(j);
    if (e.rip == rip) return e.text;
  }
  const size_t end = std::min(size(), i + 1 + window * 4);
  for (size_t j = i + 1; j < end; ++j) {
    if (kind(j) != EventKind::Step) continue;
    Event e = event(j);
    if (e.rip == rip) return e.text;
  }
  return {};
}

size_t TraceModel::memory_bytes() const {
  size_t n = store_.memory_bytes() + transitions_.capacity() * 4 + mode_changes_.capacity() * 4;
  for (const auto& tr : tracks_) {
    n += tr.cpl.capacity() * sizeof(CplChange) + tr.root.capacity() * sizeof(RootSpan) +
         tr.ring3.capacity() * sizeof(Ring3Visit);
    for (const auto& row : tr.phase_rows) n += row.capacity() * sizeof(PhaseSpan);
    for (const auto& l : tr.marks) n += l.capacity() * 4;
  }
  return n;
}

}  // namespace ringscope::viewer
