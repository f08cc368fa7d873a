// trace_model.cpp — loading a trace into the viewer's model and deriving the
// per-vCPU tracks once, so frames only ever binary-search.
#include "model/trace_model.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "model/pipelined_reader.h"
#include "ringscope/exit_reasons.h"

namespace ringscope::viewer {

namespace {
// Distinct kvm-stats counter names the model indexes (KVM has about 40).
constexpr size_t kMaxViewerStats = 256;
}  // namespace

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
    if (original.time_ns < prev) {
      Event moved = original;
      moved.time_ns = prev;
      ++m.reordered_;
      append(moved);
      return;
    }
    prev = original.time_ns;
    append(original);
  }
  void append(const Event& e) {
    m.store_.append(e);
    // The kind's mark row, from the schema once per kind (kind_spec is a
    // function call and a guard on every event otherwise).
    const size_t k = std::min<size_t>(static_cast<size_t>(e.kind), rows.size() - 1);
    if (rows[k] == kRowUnknown) {
      bool shown = false;
      const MarkRow row = mark_row_for(e.kind, shown);
      rows[k] = shown ? static_cast<int8_t>(row) : kRowNone;
    }
    m.index_event(m.store_.size() - 1, e, rows[k]);
  }
  static constexpr int8_t kRowUnknown = -2, kRowNone = -1;
  std::array<int8_t, kMaxEventKinds> rows = [] {
    std::array<int8_t, kMaxEventKinds> r{};
    r.fill(kRowUnknown);
    return r;
  }();
  // Brings everything derived from the events up to date: once at the end of
  // a load (final: the arrays are trimmed), or after each poll of a followed
  // trace, looking only at what is new (derive_halts, derive_sums).
  void refresh(const TraceHeader& header, bool complete, std::string warning, bool final) {
    m.stats_ = final ? stats.finish(header, complete, warning) : stats.snapshot(header, complete, warning);
    m.header_ = header;
    m.complete_ = complete;
    m.warning_ = std::move(warning);
    m.origin_ns_ = header.start_mono_ns;
    if (m.size() != 0 && (m.origin_ns_ == 0 || m.first_event_ns_ < m.origin_ns_)) m.origin_ns_ = m.first_event_ns_;
    if (final) m.store_.shrink_to_fit();
    stack_phases(m.stats_.phases, m.tracks_);
    if (m.derived_.size() < m.tracks_.size()) m.derived_.resize(m.tracks_.size());
    for (size_t v = 0; v < m.tracks_.size(); ++v) {
      VcpuTrack& tr = m.tracks_[v];
      m.derive_halts(tr, m.derived_[v]);
      m.derive_sums(tr, m.derived_[v]);
      // A visit still open at the end lasts until the last event; a followed
      // trace opens it again when more events arrive (reopen()).
      tr.ring3_open = !final && !tr.ring3.empty() && tr.ring3.back().end_ns == UINT64_MAX;
      if (!tr.ring3.empty() && tr.ring3.back().end_ns == UINT64_MAX)
        tr.ring3.back().end_ns = std::max(tr.ring3.back().begin_ns, m.last_ns());
      tr.translated_open = !final && !tr.translated.empty() && tr.translated.back().end_ns == UINT64_MAX;
      if (!tr.translated.empty() && tr.translated.back().end_ns == UINT64_MAX)
        tr.translated.back().end_ns = std::max(tr.translated.back().begin_ns, m.last_ns());
      if (!final) continue;
      tr.translated.shrink_to_fit();
      tr.ring3.shrink_to_fit();
      tr.cpl.shrink_to_fit();
      tr.root.shrink_to_fit();
      tr.halted.shrink_to_fit();
      for (auto& l : tr.marks) l.shrink_to_fit();
    }
  }
  // Before a followed trace's new events: the open visits go on.
  void reopen() {
    for (auto& tr : m.tracks_) {
      if (tr.ring3_open) tr.ring3.back().end_ns = UINT64_MAX;
      tr.ring3_open = false;
      if (tr.translated_open) tr.translated.back().end_ns = UINT64_MAX;
      tr.translated_open = false;
    }
  }
};

TraceModel::TraceModel() = default;
TraceModel::~TraceModel() = default;

Result<std::unique_ptr<TraceModel>> TraceModel::open(const std::string& path, Reading reading) {
  std::unique_ptr<TraceModel> m(new TraceModel());
  m->name_ = std::filesystem::path(path).filename().string();
  Loader loader(*m);
  TraceHeader header;
  ReadSummary summary;
  if (std::thread::hardware_concurrency() < 2) reading = Reading::Serial;
  auto read = reading == Reading::Pipelined ? read_pipelined(
                                                  path, [&](const Event& e) { loader.add(e); }, header, summary)
                                            : for_each_event(
                                                  path, ReadOptions{},
                                                  [&](const Event& e) {
                                                    loader.add(e);
                                                    return true;
                                                  },
                                                  &header, &summary);
  if (!read) return read.error();
  loader.refresh(header, summary.complete, std::move(summary.warning), true);
  return m;
}

std::unique_ptr<TraceModel> TraceModel::from_trace(Trace&& trace, std::string name) {
  std::unique_ptr<TraceModel> m(new TraceModel());
  m->name_ = std::move(name);
  Loader loader(*m);
  m->store_.reserve(trace.events.size());
  for (const Event& e : trace.events) loader.add(e);
  const TraceHeader header = trace.header;
  const bool complete = trace.complete;
  std::string warning = std::move(trace.warning);
  trace = Trace{};  // free the decoded events before shrinking
  loader.refresh(header, complete, std::move(warning), true);
  return m;
}

Result<std::unique_ptr<TraceModel>> TraceModel::follow(const std::string& path) {
  TRY_ASSIGN(auto follower, TraceFollower::open(path));
  std::unique_ptr<TraceModel> m(new TraceModel());
  m->name_ = std::filesystem::path(path).filename().string();
  m->follower_ = std::move(follower);
  m->loader_ = std::make_unique<Loader>(*m);
  m->has_header_ = false;
  auto first = m->poll();
  if (!first) return first.error();  // not a trace: as open() says it
  return m;
}

Result<size_t> TraceModel::poll() {
  if (!follower_) return size_t{0};
  bool reopened = false;
  auto n = follower_->poll([&](const Event& e) {
    if (!reopened) {
      loader_->reopen();
      reopened = true;
    }
    loader_->add(e);
    return true;
  });
  const bool header_new = !has_header_ && follower_->has_header();
  if (header_new) {
    has_header_ = true;
    header_ = follower_->header();
  }
  if (!n) {
    // Keep what was read, say why no more comes, stop following.
    loader_->refresh(header_, false, n.error().message, true);
    loader_.reset();
    follower_.reset();
    return n.error();
  }
  const bool done = follower_->ended() || follower_->stopped();
  if (n.value() == 0 && !done && !header_new) return size_t{0};
  loader_->refresh(header_, follower_->ended(), done ? follower_->warning() : std::string(), done);
  if (done) {
    loader_.reset();
    follower_.reset();
  }
  return static_cast<size_t>(n.value());
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
  const std::vector<uint8_t> rows = phase_rows(phases, kMaxPhaseRows);
  for (size_t i = 0; i < phases.size(); ++i) {
    const PhaseStats& p = phases[i];
    if (p.vcpu >= tracks.size() || rows[i] == kNoPhaseRow) continue;
    auto& sub = tracks[p.vcpu].phase_rows;
    if (rows[i] >= sub.size()) sub.resize(rows[i] + 1);
    sub[rows[i]].push_back({p.begin_ns, std::max(p.begin_ns, p.end_ns), static_cast<uint32_t>(i)});
  }
}

void TraceModel::index_event(size_t i, const Event& e, int mark_row) {
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
  host_.add(e);
  const CompactEvent c = store_.compact(i);
  if (c.flags & kCplKnown) {
    push_cpl(tr, e.time_ns, idx, static_cast<uint8_t>(c.flags & kCplMask));
    push_cpl(tr, e.time_ns, idx, c.to_cpl);
  }
  if (c.flags & kRingChange) transitions_.push_back(idx);
  if (e.kind == EventKind::Step && e.cpl == 3 && !tr.ring3.empty() && tr.ring3.back().end_ns == UINT64_MAX)
    ++tr.ring3.back().steps;
  if (e.kind == EventKind::Counter && e.name == "unstepped_runs") unstepped_runs_ = std::max(unstepped_runs_, e.value);
  if (e.kind == EventKind::Counter && e.source == Source::KvmStats) {
    int id = stat_id(e.name);
    if (id < 0 && stat_names_.size() < kMaxViewerStats) {
      id = static_cast<int>(stat_names_.size());
      stat_names_.emplace_back(e.name.substr(0, kMaxStatName));
    }
    if (id >= 0) {
      if (tr.stats.size() <= static_cast<size_t>(id)) tr.stats.resize(id + 1);
      tr.stats[id].push_back({e.time_ns, e.value});
      if (stat_sample_events_.size() <= e.vcpu) stat_sample_events_.resize(e.vcpu + 1);
      stat_sample_events_[e.vcpu].push_back(idx);
      ++stat_samples_;
    }
  }
  // bt: the monitor's own time (a callout, a translation, a world switch)
  // is the band's "root" state, as an exit's handling is under VT-x.
  const bool bt_kind =
      e.kind == EventKind::WorldSwitch || e.kind == EventKind::BtCallout || e.kind == EventKind::BtTranslate;
  if (bt_kind) bt_ = true;
  if (e.kind == EventKind::VmExit || (bt_kind && e.duration_ns)) {
    uint64_t end = e.time_ns + e.duration_ns;
    if (!tr.root.empty() && tr.root.back().end_ns > e.time_ns)
      tr.root.back().end_ns = e.time_ns;  // keep spans disjoint
    tr.root.push_back({e.time_ns, end, idx});
  }
  if (e.kind == EventKind::WorldSwitch) {
    if (tr.worlds_from == UINT64_MAX) tr.worlds_from = e.time_ns;
    const bool open = !tr.translated.empty() && tr.translated.back().end_ns == UINT64_MAX;
    if (open && e.to_world != BtWorld::Translated) tr.translated.back().end_ns = e.time_ns;
    if (!open && e.to_world == BtWorld::Translated) tr.translated.push_back({e.time_ns, UINT64_MAX, idx});
  }
  if (e.kind == EventKind::ModeChange) mode_changes_.push_back(idx);
  if (mark_row >= 0) tr.marks[mark_row].push_back(idx);
}

size_t TraceModel::lower_bound(uint64_t t) const { return store_.lower_bound(t); }

size_t TraceModel::upper_bound(uint64_t t) const { return store_.upper_bound(t); }

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

BtWorld TraceModel::world_at(uint32_t vcpu, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr || t < tr->worlds_from) return BtWorld::None;
  const auto& s = tr->translated;
  auto it = std::partition_point(s.begin(), s.end(), [&](const TranslatedSpan& x) { return x.begin_ns <= t; });
  if (it != s.begin() && t < (it - 1)->end_ns) return BtWorld::Translated;
  return BtWorld::Direct;
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

// ---- time shares ----------------------------------------------------------

void TraceModel::derive_halts(VcpuTrack& tr, Derived& d) {
  const int id = stat_id("halt_wait_ns");
  if (id < 0 || static_cast<size_t>(id) >= tr.stats.size()) return;
  const auto& samples = tr.stats[id];
  struct Gap {
    uint64_t begin, end;
  };
  std::vector<Gap> gaps;
  if (!d.halt_started) {
    d.halt_prev_t = first_ns();
    d.halt_started = true;
  }
  // Samples already turned into spans stay as they are: every event of this
  // vCPU before a sample came before it in the file.
  uint64_t prev_t = d.halt_prev_t, prev_v = d.halt_prev_v;
  for (; d.halt_sample < samples.size(); ++d.halt_sample) {
    const StatSample& s = samples[d.halt_sample];
    const uint64_t waited = s.value > prev_v ? s.value - prev_v : 0;
    if (waited != 0 && s.time_ns > prev_t) {
      // The quiet stretches of this vCPU between the two samples: between
      // one event (or the end of the exit it records) and the next.
      gaps.clear();
      uint64_t busy_until = prev_t;
      for (size_t j = lower_bound(prev_t), end = upper_bound(s.time_ns); j < end; ++j) {
        const CompactEvent c = at(j);
        if (c.vcpu != tr.vcpu) continue;
        if (c.time_ns > busy_until) gaps.push_back({busy_until, c.time_ns});
        uint64_t until = c.time_ns;
        if (static_cast<EventKind>(c.kind) == EventKind::VmExit) {
          const RootSpan* r = nullptr;
          auto it =
              std::partition_point(tr.root.begin(), tr.root.end(), [&](const RootSpan& x) { return x.event < j; });
          if (it != tr.root.end() && it->event == j) r = &*it;
          if (r) until = std::max(until, r->end_ns);
        }
        busy_until = std::max(busy_until, until);
      }
      std::sort(gaps.begin(), gaps.end(), [](const Gap& a, const Gap& b) { return a.end - a.begin > b.end - b.begin; });
      uint64_t left = waited;
      const size_t first_new = tr.halted.size();
      for (const Gap& g : gaps) {
        if (left == 0) break;
        const uint64_t len = g.end - g.begin, n = std::min(left, len);
        tr.halted.push_back({g.begin, g.end, static_cast<double>(n) / static_cast<double>(len)});
        left -= n;
      }
      std::sort(tr.halted.begin() + static_cast<std::ptrdiff_t>(first_new), tr.halted.end(),
                [](const HaltSpan& a, const HaltSpan& b) { return a.begin_ns < b.begin_ns; });
    }
    prev_t = std::max(prev_t, s.time_ns);
    prev_v = std::max(prev_v, s.value);
  }
  d.halt_prev_t = prev_t;
  d.halt_prev_v = prev_v;
}

void TraceModel::derive_sums(VcpuTrack& tr, Derived& d) const {
  // The sums before entry i depend on entries before i. New events only
  // append entries, except that an exit may end the root span before it
  // (kept disjoint): so the sums are redone from the last entry known.
  const auto from = [](size_t done, size_t size) { return std::max<size_t>(1, std::min(done, size) - (done != 0)); };
  tr.cpl_before.resize(tr.cpl.size());
  if (!tr.cpl_before.empty()) tr.cpl_before[0] = {};
  for (size_t i = from(d.cpl, tr.cpl.size()); i < tr.cpl.size(); ++i) {
    tr.cpl_before[i] = tr.cpl_before[i - 1];
    const uint8_t cpl = tr.cpl[i - 1].cpl;
    if (cpl == 0 || cpl == 3) tr.cpl_before[i][cpl == 3] += tr.cpl[i].time_ns - tr.cpl[i - 1].time_ns;
  }
  tr.root_before.resize(tr.root.size());
  if (!tr.root_before.empty()) tr.root_before[0] = 0;
  for (size_t i = from(d.root, tr.root.size()); i < tr.root.size(); ++i)
    tr.root_before[i] = tr.root_before[i - 1] + (tr.root[i - 1].end_ns - tr.root[i - 1].begin_ns);
  tr.halted_before.resize(tr.halted.size());
  if (!tr.halted_before.empty()) tr.halted_before[0] = 0;
  for (size_t i = from(d.halted, tr.halted.size()); i < tr.halted.size(); ++i)
    tr.halted_before[i] = tr.halted_before[i - 1] + tr.halted[i - 1].halted_ns();
  // The translated spans (bt mode) are few (two world switches per visit):
  // their sums are recomputed whole, the last span's end may have moved.
  tr.translated_before.assign(tr.translated.size(), 0);
  for (size_t i = 1; i < tr.translated.size(); ++i)
    tr.translated_before[i] =
        tr.translated_before[i - 1] + (tr.translated[i - 1].end_ns - tr.translated[i - 1].begin_ns);
  d.cpl = tr.cpl.size();
  d.root = tr.root.size();
  d.halted = tr.halted.size();
}

namespace {
// Time in each CPL from the first CPL change until t, with cpl[k] the change
// in force at t (ring 1 and 2 together, in [1]).
std::array<uint64_t, 4> expand_cpl(const VcpuTrack& tr, size_t k, uint64_t t) {
  std::array<uint64_t, 4> c{};
  c[0] = tr.cpl_before[k][0];
  c[3] = tr.cpl_before[k][1];
  const uint64_t known = tr.cpl[k].time_ns - tr.cpl[0].time_ns;
  c[1] = known - c[0] - c[3];
  c[tr.cpl[k].cpl & 3] += t - tr.cpl[k].time_ns;
  return c;
}

template <typename Span>
uint64_t covered_before(const std::vector<Span>& spans, const std::vector<uint64_t>& before, uint64_t t) {
  auto it = std::partition_point(spans.begin(), spans.end(), [&](const Span& s) { return s.begin_ns <= t; });
  if (it == spans.begin()) return 0;
  const size_t k = static_cast<size_t>(it - spans.begin()) - 1;
  return before[k] + (std::min(t, std::max(spans[k].end_ns, spans[k].begin_ns)) - spans[k].begin_ns);
}
}  // namespace

TimeShare TraceModel::share(uint32_t vcpu, uint64_t t0, uint64_t t1) const {
  TimeShare s;
  const VcpuTrack* tr = track(vcpu);
  if (!tr || t1 <= t0) return s;
  const uint64_t end = last_ns();
  auto cpl_until = [&](uint64_t t) {
    std::array<uint64_t, 4> c{};
    t = std::min(t, end);
    auto it = std::partition_point(tr->cpl.begin(), tr->cpl.end(), [&](const CplChange& x) { return x.time_ns <= t; });
    if (it == tr->cpl.begin()) return c;
    const size_t k = static_cast<size_t>(it - tr->cpl.begin()) - 1;
    c = expand_cpl(*tr, k, t);
    return c;
  };
  const auto a = cpl_until(t0), b = cpl_until(t1);
  uint64_t known = 0;
  for (int k = 0; k < 4; ++k) {
    s.cpl[k] = b[k] - a[k];
    known += s.cpl[k];
  }
  s.cpl_unknown = (t1 - t0) > known ? (t1 - t0) - known : 0;
  s.root = covered_before(tr->root, tr->root_before, t1) - covered_before(tr->root, tr->root_before, t0);
  s.translated = covered_before(tr->translated, tr->translated_before, t1) -
                 covered_before(tr->translated, tr->translated_before, t0);
  // A halt span with share < 1 counts that share of each ns it covers.
  auto halted_until = [&](uint64_t t) -> uint64_t {
    const auto& h = tr->halted;
    auto it = std::partition_point(h.begin(), h.end(), [&](const HaltSpan& x) { return x.begin_ns <= t; });
    if (it == h.begin()) return 0;
    const size_t k = static_cast<size_t>(it - h.begin()) - 1;
    const uint64_t in = std::min(t, h[k].end_ns) - h[k].begin_ns;
    return tr->halted_before[k] + static_cast<uint64_t>(static_cast<double>(in) * h[k].share);
  };
  s.halted = halted_until(t1) - halted_until(t0);
  return s;
}

namespace {
// The number of spans from index `from` on whose begin is <= t (spans sorted
// by begin): a gallop from `from`, then a binary search inside the step.
template <typename Vec, typename Begin>
size_t count_begun(const Vec& v, size_t from, uint64_t t, Begin begin) {
  size_t lo = from, step = 1;
  while (lo + step <= v.size() && begin(v[lo + step - 1]) <= t) {
    lo += step;
    step *= 2;
  }
  size_t hi = std::min(v.size(), lo + step);
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (begin(v[mid]) <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}
}  // namespace

TimeShare TraceModel::Walker::totals_at(uint64_t t) {
  TimeShare s;
  if (!tr_) return s;
  t = std::min(t, m_.last_ns());
  // cpl_, root_, halted_: how many entries have begun by the last t; the
  // one in force is the entry before.
  cpl_ = count_begun(tr_->cpl, cpl_ ? cpl_ - 1 : 0, t, [](const CplChange& c) { return c.time_ns; });
  if (cpl_ > 0) {
    const size_t k = cpl_ - 1;
    const auto c = expand_cpl(*tr_, k, t);
    for (int r = 0; r < 4; ++r) s.cpl[r] = c[r];
  }
  root_ = count_begun(tr_->root, root_ ? root_ - 1 : 0, t, [](const RootSpan& r) { return r.begin_ns; });
  if (root_ > 0) {
    const RootSpan& r = tr_->root[root_ - 1];
    s.root = tr_->root_before[root_ - 1] + (std::min(t, std::max(r.end_ns, r.begin_ns)) - r.begin_ns);
  }
  translated_ = count_begun(tr_->translated, translated_ ? translated_ - 1 : 0, t,
                            [](const TranslatedSpan& x) { return x.begin_ns; });
  if (translated_ > 0) {
    const TranslatedSpan& x = tr_->translated[translated_ - 1];
    s.translated = tr_->translated_before[translated_ - 1] + (std::min(t, x.end_ns) - x.begin_ns);
  }
  halted_ = count_begun(tr_->halted, halted_ ? halted_ - 1 : 0, t, [](const HaltSpan& h) { return h.begin_ns; });
  if (halted_ > 0) {
    const HaltSpan& h = tr_->halted[halted_ - 1];
    s.halted = tr_->halted_before[halted_ - 1] +
               static_cast<uint64_t>(static_cast<double>(std::min(t, h.end_ns) - h.begin_ns) * h.share);
  }
  return s;
}

const HaltSpan* TraceModel::halted_at(uint32_t vcpu, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr) return nullptr;
  auto it =
      std::partition_point(tr->halted.begin(), tr->halted.end(), [&](const HaltSpan& h) { return h.begin_ns <= t; });
  if (it == tr->halted.begin()) return nullptr;
  --it;
  return t < it->end_ns ? &*it : nullptr;
}

// ---- kvm-stats counters ------------------------------------------------------

int TraceModel::stat_id(std::string_view name) const {
  for (size_t k = 0; k < stat_names_.size(); ++k)
    if (stat_names_[k] == name) return static_cast<int>(k);
  return -1;
}

uint64_t TraceModel::stat_before(uint32_t vcpu, int id, uint64_t t) const {
  const VcpuTrack* tr = track(vcpu);
  if (!tr || id < 0 || static_cast<size_t>(id) >= tr->stats.size()) return 0;
  const auto& v = tr->stats[id];
  auto it = std::partition_point(v.begin(), v.end(), [&](const StatSample& s) { return s.time_ns < t; });
  return it == v.begin() ? 0 : (it - 1)->value;
}

std::pair<uint64_t, uint64_t> TraceModel::stat_samples_around(uint32_t vcpu, uint64_t t0, uint64_t t1) const {
  if (vcpu >= stat_sample_events_.size()) return {0, UINT64_MAX};
  const auto& l = stat_sample_events_[vcpu];
  auto a = std::partition_point(l.begin(), l.end(), [&](uint32_t i) { return time(i) < t0; });
  auto b = std::partition_point(l.begin(), l.end(), [&](uint32_t i) { return time(i) <= t1; });
  return {a == l.begin() ? 0 : time(*(a - 1)), b == l.end() ? UINT64_MAX : time(*b)};
}

size_t TraceModel::stat_samples_in(uint32_t vcpu, uint64_t t0, uint64_t t1) const {
  if (vcpu >= stat_sample_events_.size()) return 0;
  const auto& l = stat_sample_events_[vcpu];
  auto a = std::partition_point(l.begin(), l.end(), [&](uint32_t i) { return time(i) < t0; });
  auto b = std::partition_point(l.begin(), l.end(), [&](uint32_t i) { return time(i) <= t1; });
  return static_cast<size_t>(b - a);
}

// ---- the instruction behind an event ----------------------------------------

TraceModel::CauseInstruction TraceModel::causing_instruction(size_t i) const {
  using Where = CauseInstruction::Where;
  CauseInstruction c;
  if (i >= size()) return c;
  const Event e = event(i);
  c.rip = e.rip;
  switch (e.kind) {
    case EventKind::Step:
      c.where = Where::At;
      c.bytes = e.text;
      return c;
    case EventKind::Trap:
      // int n and syscall push the address after them, as do the trap-like
      // exceptions #BP and #OF; a fault records the faulting instruction; an
      // external interrupt arrives between instructions, caused by none.
      if (e.cause == TrapCause::Interrupt) return c;
      c.where = (e.cause == TrapCause::SoftInt || e.cause == TrapCause::Syscall ||
                 (e.cause == TrapCause::Exception && (e.vector == 3 || e.vector == 4)))
                    ? Where::EndsAt
                    : Where::At;
      break;
    case EventKind::TrapReturn: c.where = Where::At; break;
    case EventKind::VmExit:
    case EventKind::Hypercall:
      if (e.rip == 0) return c;
      // KVM completes `out`/`in` and `hlt` before it returns to user space,
      // so their exits carry the RIP after the instruction; the emulator and
      // the VT-x model record the instruction's own address.
      c.where = e.source == Source::KvmExit && (e.reason == exit_reason::kIoInstruction ||
                                                e.reason == exit_reason::kHlt || e.kind == EventKind::Hypercall)
                    ? Where::EndsAt
                    : Where::At;
      break;
    case EventKind::ModeChange:
      if (e.rip == 0) return c;
      c.where = Where::At;
      break;
    default: return c;
  }
  if (c.where == Where::At) {
    c.bytes = instruction_bytes_near(i, c.rip);
    return c;
  }
  // The step that ran the instruction ending at rip: nearest first, looking
  // back (emulation steps before the event) and forward (KVM reports the
  // step of an exiting instruction after the exit).
  constexpr size_t kWindow = 256;
  for (size_t d = 1; d <= kWindow; ++d) {
    for (const size_t j : {i >= d ? i - d : size(), i + d}) {
      if (j >= size() || kind(j) != EventKind::Step || store_.vcpu(j) != store_.vcpu(i)) continue;
      const Event s = store_.decode(j);
      if (s.rip + s.text.size() == e.rip && !s.text.empty()) {
        c.where = Where::At;
        c.rip = s.rip;
        c.bytes = s.text;
        return c;
      }
    }
  }
  return c;
}

size_t TraceModel::memory_bytes() const {
  size_t n = store_.memory_bytes() + transitions_.capacity() * 4 + mode_changes_.capacity() * 4;
  for (const auto& tr : tracks_) {
    n += tr.cpl.capacity() * sizeof(CplChange) + tr.root.capacity() * sizeof(RootSpan) +
         tr.ring3.capacity() * sizeof(Ring3Visit);
    for (const auto& row : tr.phase_rows) n += row.capacity() * sizeof(PhaseSpan);
    for (const auto& l : tr.marks) n += l.capacity() * 4;
    n += tr.halted.capacity() * sizeof(HaltSpan) + tr.cpl_before.capacity() * sizeof(tr.cpl_before[0]) +
         (tr.root_before.capacity() + tr.halted_before.capacity()) * 8;
    for (const auto& l : tr.stats) n += l.capacity() * sizeof(StatSample);
  }
  for (const auto& l : stat_sample_events_) n += l.capacity() * 4;
  return n;
}

}  // namespace ringscope::viewer
