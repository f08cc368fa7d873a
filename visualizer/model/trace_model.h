// trace_model.h — one loaded trace as the viewer sees it: the events in
// compact form, a time index, and what is derived from them once at load
// (CPL over time, VMX root/non-root spans, ring transitions, marks per
// timeline row, the stats table). No ImGui here.
//
// Times: events keep their recorded CLOCK_MONOTONIC nanoseconds; `origin_ns`
// is the run's start (the header's start_mono_ns, as `ringscope show` uses),
// and everything the UI shows is relative to it.
//
// Queries are binary searches over arrays sorted by time, so their cost
// depends on what is asked for, never on the length of the trace; the
// fold_* helpers walk a visible window in steps of at least one pixel
// (STYLE.md, from Tracy).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/event_store.h"
#include "model/host_series.h"
#include "ringscope/event_schema.h"
#include "ringscope/result.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"

namespace ringscope::viewer {

// The rows of marks a timeline lane shows, one list of events per row.
enum class MarkRow : uint8_t { Exits = 0, Traps, Hypercalls, Devices, Markers };  // the schema's TimelineRow
inline constexpr int kMarkRowCount = 5;
static_assert(kMarkRowCount == kTimelineRowCount &&
              static_cast<int>(MarkRow::Markers) == static_cast<int>(TimelineRow::Markers));
MarkRow mark_row_for(EventKind k, bool& shown);  // shown=false: no mark (steps, counters)

// The CPL from `time_ns` until the next change. `event` made the change.
struct CplChange {
  uint64_t time_ns;
  uint32_t event;
  uint8_t cpl;
};
// Time spent in VMX root mode for one VM exit: from the exit to re-entry;
// in a `bt` trace, time in the monitor (a callout, a translation, a world
// switch: the event's duration_ns).
struct RootSpan {
  uint64_t begin_ns, end_ns;
  uint32_t event;
};

// One stay in ring 3, from the change to CPL 3 to the next change. Where
// ring 3 is not single-stepped (PVM hosts) an iretq to ring 3 is often
// followed at once by the next trap, so begin_ns == end_ns: the timeline
// still draws such a visit as a tick (see View_Timeline.cpp).
struct Ring3Visit {
  uint64_t begin_ns, end_ns;
  uint32_t event;      // the event that entered ring 3
  uint32_t steps = 0;  // ring-3 single-steps recorded inside: 0 = ran natively, unobserved
};
// A marker phase (begin..end) placed on a sub-row of the markers row: depth
// 0 for phases that overlap nothing open, 1 for one nested in (or
// overlapping) a depth-0 phase, and so on. `phase` indexes stats().phases.
inline constexpr size_t kMaxPhaseRows = 8;
struct PhaseSpan {
  uint64_t begin_ns, end_ns;
  uint32_t phase;
};
// Time the vCPU spent halted inside KVM (the in-kernel irqchip handles
// `hlt`, so no exit reaches the VMM). KVM's `halt_wait_ns` stat says how
// long the vCPU waited between two samples but not when: the wait goes to
// the longest stretches without events between those samples (nothing is
// recorded while a vCPU sleeps), longest first. A stretch longer than what
// is left of the wait is halted for only that share of its time, spread
// over it: `share` < 1 (the guest ran the rest, when exactly is not known).
struct HaltSpan {
  uint64_t begin_ns, end_ns;
  double share = 1.0;
  uint64_t halted_ns() const { return static_cast<uint64_t>(static_cast<double>(end_ns - begin_ns) * share); }
};
// bt mode: one stay of the guest in the translator (guest kernel code run
// from the translation cache), from a world_switch into it to the next
// world_switch out of it (or the end of the trace).
struct TranslatedSpan {
  uint64_t begin_ns, end_ns;
  uint32_t event;  // the world_switch that entered it
};
// One sample of a kvm-stats counter (its running value).
struct StatSample {
  uint64_t time_ns;
  uint64_t value;
};
// Time of a vCPU in each state inside a window, for drawing a folded pixel
// as the share of its time in each state (never "any event wins").
struct TimeShare {
  uint64_t cpl[4] = {};  // in ring 0..3
  uint64_t cpl_unknown = 0;
  uint64_t root = 0;        // in VMX root mode (an exit being handled); bt: in the monitor
  uint64_t halted = 0;      // halted inside KVM
  uint64_t translated = 0;  // bt: in the translator (its monitor time included)
};

// Everything derived per vCPU. Index lists hold event indices in time order.
struct VcpuTrack {
  uint32_t vcpu = 0;
  std::vector<CplChange> cpl;
  std::vector<RootSpan> root;
  std::vector<Ring3Visit> ring3;
  // phase_rows[d]: the phases at depth d, disjoint and sorted by time, so a
  // frame binary-searches each sub-row like the root spans.
  std::vector<std::vector<PhaseSpan>> phase_rows;
  std::array<std::vector<uint32_t>, kMarkRowCount> marks;
  std::vector<HaltSpan> halted;
  // Following a live trace: the last ring-3 visit (or translated stretch) is
  // still open (its end_ns shows the last event so far, and moves on as
  // events arrive).
  bool ring3_open = false;
  bool translated_open = false;
  std::vector<TranslatedSpan> translated;  // bt mode
  uint64_t worlds_from = UINT64_MAX;       // bt mode: the time of the first world_switch (worlds known after it)
  // Running sums for share(): time in ring 0 and ring 3 before cpl[i] (the
  // rest of the time since cpl[0] was in ring 1 or 2), in root mode before
  // root[i], halted before halted[i].
  std::vector<std::array<uint64_t, 2>> cpl_before;
  std::vector<uint64_t> root_before, halted_before, translated_before;
  // kvm-stats samples, one list per counter name (TraceModel::stat_names()).
  std::vector<std::vector<StatSample>> stats;
  uint64_t events = 0;
};

class TraceModel {
 public:
  // Reads and indexes `path`, streaming it (for_each_event): no full Event
  // is kept. An Error only when nothing is readable (no such file, a bad
  // header, an I/O error); a trace readable up to some point loads with
  // complete()==false and warning() saying where and why it stopped.
  // Pipelined: the file is read and decoded on a second thread while this
  // one builds the model (pipelined_reader.h), where the machine has two
  // cores; Serial: all on this thread. Both give the same model.
  enum class Reading : uint8_t { Pipelined, Serial };
  static Result<std::unique_ptr<TraceModel>> open(const std::string& path, Reading reading = Reading::Pipelined);
  // Takes over an already read trace (tests, `ringscope compare`).
  static std::unique_ptr<TraceModel> from_trace(Trace&& trace, std::string name);
  ~TraceModel();

  // ---- following a trace that is still being written (issue 14) ----------
  // `ringscope view --follow`, the Machines panel: loads what the writer has
  // written so far (nothing, if it has not written the header yet) and keeps
  // the file open; poll() appends the events of the chunks written since,
  // without reloading: the same per-event memory as open(), and what is
  // derived (tracks, stats) is brought up to date by looking only at what is
  // new (the stats table is recomputed from bounded per-phase state).
  // NoInput when the file does not exist (yet).
  static Result<std::unique_ptr<TraceModel>> follow(const std::string& path);
  // Reads what was written since the last poll and appends it; returns the
  // number of new events (0: nothing new, the usual case, one fstat). When
  // the end-of-trace mark arrives (or a damaged chunk stops the reading, see
  // warning()) the model stops following. An Error when the file cannot be
  // read any more (truncated, replaced, a bad header): the model keeps what
  // it has, stops following and says why in warning().
  Result<size_t> poll();
  bool following() const { return follower_ != nullptr; }  // poll() may still bring events
  // The run is live: followed and its end-of-trace mark has not arrived.
  bool live() const { return following(); }
  bool has_header() const { return has_header_; }  // false until a followed writer wrote it

  const std::string& name() const { return name_; }  // the file name, for lanes and tables
  const TraceHeader& header() const { return header_; }
  bool complete() const { return complete_; }
  const std::string& warning() const { return warning_; }
  const TraceStats& stats() const { return stats_; }  // compute_stats over the whole trace
  // The host counters as time series (host_series.h): the timeline's host rows.
  const HostTracks& host() const { return host_; }

  size_t size() const { return store_.size(); }
  CompactEvent at(size_t i) const { return store_.compact(i); }
  EventKind kind(size_t i) const { return store_.kind(i); }
  uint64_t time(size_t i) const { return store_.time(i); }
  Event event(size_t i) const { return store_.decode(i); }

  uint64_t origin_ns() const { return origin_ns_; }
  uint64_t first_ns() const { return size() ? time(0) : origin_ns_; }
  uint64_t last_ns() const { return size() ? time(size() - 1) : origin_ns_; }

  // First event at or after t; size() if none.
  size_t lower_bound(uint64_t t) const;
  // First event after t; size() if none.
  size_t upper_bound(uint64_t t) const;

  std::span<const VcpuTrack> tracks() const { return tracks_; }
  const VcpuTrack* track(uint32_t vcpu) const;

  // CPL of `vcpu` at time t (-1: not known yet), and whether it was in VMX
  // root mode (handling an exit) at t, with the exit's event index.
  int cpl_at(uint32_t vcpu, uint64_t t) const;
  std::optional<uint32_t> root_at(uint32_t vcpu, uint64_t t) const;
  // A `bt` trace (binary translation): its VMX band shows direct execution,
  // the translator and the monitor instead of VMX non-root and root.
  bool bt() const { return bt_; }
  // bt: where `vcpu` was at t (None before its first world_switch); the
  // monitor's own time is root_at().
  BtWorld world_at(uint32_t vcpu, uint64_t t) const;

  // Every trap / trap_return that changed CPL, in order (event indices).
  const std::vector<uint32_t>& ring_transitions() const { return transitions_; }
  // Events of a kind after / before `from`, for "next exit" in playback;
  // size() when there is none. Cost: a walk until the next match.
  size_t next_of(size_t from, EventKind k) const;
  size_t prev_of(size_t from, EventKind k) const;
  size_t next_transition(size_t from) const;  // binary search in ring_transitions()
  size_t prev_transition(size_t from) const;

  // The last mode_change at or before event i (size() if none), for the
  // disassembler's choice of 16/32/64-bit.
  size_t mode_change_before(size_t i) const;
  // Bytes of the instruction at `rip` near event i: the nearest step event
  // at that rip within `window` events before (or at) i, else within
  // 4*window after it. Empty if none.
  std::string_view instruction_bytes_near(size_t i, uint64_t rip, size_t window = 256) const;

  // The largest `unstepped_runs` counter in the trace: how often KVM let
  // ring 3 run without single-stepping it (0 where every step was seen).
  uint64_t unstepped_runs() const { return unstepped_runs_; }
  // The ring-3 visit of `vcpu` at or around t (begin <= t <= end), if any.
  const Ring3Visit* ring3_at(uint32_t vcpu, uint64_t t) const;

  // How long `vcpu` spent in each state inside [t0, t1) (absolute ns):
  // O(log n), whatever the window holds.
  TimeShare share(uint32_t vcpu, uint64_t t0, uint64_t t1) const;
  // The time spent in each state from the start of the trace until t, for
  // walking a window pixel by pixel: a pixel's share is the difference of
  // two totals. `Walker` finds each t from where the last one was found
  // (times must not decrease), so a frame's columns cost O(columns) plus a
  // gallop each, not a full binary search each.
  class Walker {
   public:
    Walker(const TraceModel& m, uint32_t vcpu) : m_(m), tr_(m.track(vcpu)) {}
    TimeShare totals_at(uint64_t t);

   private:
    const TraceModel& m_;
    const VcpuTrack* tr_;
    size_t cpl_ = 0, root_ = 0, halted_ = 0, translated_ = 0;
  };
  // Whether `vcpu` was halted inside KVM at t (see HaltSpan).
  const HaltSpan* halted_at(uint32_t vcpu, uint64_t t) const;

  // kvm-stats counters. Names in order of first appearance; the value of a
  // counter of `vcpu` in force before t (its last sample at a time < t; 0 if
  // none) and whether any counter of `vcpu` was sampled in [t0, t1].
  const std::vector<std::string>& stat_names() const { return stat_names_; }
  int stat_id(std::string_view name) const;
  uint64_t stat_before(uint32_t vcpu, int id, uint64_t t) const;
  bool has_stat_samples() const { return stat_samples_ != 0; }
  // The times of the last sample of any counter before t0 and the first one
  // after t1 on `vcpu` (0 / UINT64_MAX when there is none).
  std::pair<uint64_t, uint64_t> stat_samples_around(uint32_t vcpu, uint64_t t0, uint64_t t1) const;
  size_t stat_samples_in(uint32_t vcpu, uint64_t t0, uint64_t t1) const;

  // The instruction that caused event i: a trap's `int`/`syscall` (the
  // trace records the return address after it), the faulting instruction of
  // an exception, the `out`/`in` of an I/O exit (KVM reports the RIP after
  // it), an iretq. Bytes from the nearest single-step of that instruction.
  struct CauseInstruction {
    enum class Where : uint8_t {
      None,    // nothing executed caused it (an external interrupt, a marker)
      At,      // the instruction at `rip`
      EndsAt,  // the instruction that ends at `rip`, address unknown without a step (then rip is its end)
    } where = Where::None;
    uint64_t rip = 0;
    std::string_view bytes;  // empty: not in the trace
  };
  CauseInstruction causing_instruction(size_t i) const;

  // Events whose times were out of order and were shown at their
  // predecessor's time so the index stays sorted (0 for writer-made traces).
  uint64_t reordered() const { return reordered_; }

  // Bytes the model holds for its events (columns, arena, derived lists),
  // for the benchmark and the "bytes per event" aim (<= 32, issue 17).
  size_t memory_bytes() const;

 private:
  struct Loader;
  TraceModel();
  void index_event(size_t i, const Event& e, int mark_row);  // mark_row: a MarkRow, or -1 for none

  std::string name_;
  TraceHeader header_;
  bool complete_ = false;
  std::string warning_;
  HostTracks host_;
  TraceStats stats_;
  EventStore store_;
  uint64_t origin_ns_ = 0;
  uint64_t first_event_ns_ = 0;  // as recorded (before reordering)
  std::vector<VcpuTrack> tracks_;
  std::vector<uint32_t> transitions_;
  std::vector<uint32_t> mode_changes_;
  uint64_t reordered_ = 0;
  uint64_t unstepped_runs_ = 0;
  bool bt_ = false;
  std::vector<std::string> stat_names_;
  std::vector<std::vector<uint32_t>> stat_sample_events_;  // per vCPU: indices of kvm-stats counter events
  uint64_t stat_samples_ = 0;
  // Where the derivations of each track got to: a followed trace derives
  // only what is new at each poll.
  struct Derived {
    size_t halt_sample = 0;  // halt_wait_ns samples already turned into halt spans
    uint64_t halt_prev_t = 0, halt_prev_v = 0;
    bool halt_started = false;
    size_t cpl = 0, root = 0, halted = 0;  // entries whose running sums are known
  };
  std::vector<Derived> derived_;
  bool has_header_ = true;
  std::unique_ptr<Loader> loader_;           // following: the loader goes on
  std::unique_ptr<TraceFollower> follower_;  // following: the file
  void derive_halts(VcpuTrack& tr, Derived& d);
  void derive_sums(VcpuTrack& tr, Derived& d) const;
};

// Places phases on sub-rows (at most kMaxPhaseRows; deeper ones are left out): each phase goes on the lowest row whose
// last phase has ended by the time it begins (nesting and plain overlap alike). `phases` are in begin order, as
// compute_stats lists them.
void stack_phases(const std::vector<PhaseStats>& phases, std::vector<VcpuTrack>& tracks);

// ---- folding: what a timeline row draws for a visible window --------------
// Marks closer than `min_gap_ns` (about three pixels) become one counted
// mark. `emit(first_index_in_list, count)` is called per drawn mark, in time
// order; the walk costs O(marks drawn * log n).
template <typename Emit>
void fold_marks(const TraceModel& m, std::span<const uint32_t> list, uint64_t t0, uint64_t t1, uint64_t min_gap_ns,
                Emit&& emit);

// CPL segments of one vCPU inside [t0, t1): emit(begin_ns, end_ns, cpl,
// changes) where changes > 1 means several ring changes were folded into a
// span narrower than `px_ns` (drawn as a mixed colour) and cpl is -1 when not
// known yet.
template <typename Emit>
void fold_cpl(const VcpuTrack& tr, uint64_t t0, uint64_t t1, uint64_t end_ns, uint64_t px_ns, Emit&& emit);

// Root spans of one vCPU overlapping [t0, t1), spans starting within px_ns
// of each other merged: emit(begin_ns, end_ns, first_span_index, count).
template <typename Emit>
void fold_root(const VcpuTrack& tr, uint64_t t0, uint64_t t1, uint64_t px_ns, Emit&& emit);

// The same walk over any sorted, disjoint list of spans with begin_ns and
// end_ns (ring-3 visits, one sub-row of phases): spans touching [t0, t1],
// those starting within px_ns of the first merged.
template <typename Span, typename Emit>
void fold_spans(std::span<const Span> spans, uint64_t t0, uint64_t t1, uint64_t px_ns, Emit&& emit);

}  // namespace ringscope::viewer

#include "model/fold.inl"
