// trace_stats.h — what a trace adds up to: counts by kind, exits by reason
// with their cost, traps by vector, ring transitions, and exits per
// marker-delimited phase.
//
// Computed once from a Trace (one pass, no allocation per event beyond the
// tables), printed by `ringscope stats`, and read by the viewer's compare
// panel and the lab checkers, so they all agree on the numbers.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/bt_stats.h"
#include "ringscope/event.h"
#include "ringscope/event_schema.h"
#include "ringscope/trace.h"
#include "ringscope/vcpu_stats.h"

namespace ringscope {

// count / total / min / max of a set of durations.
struct DurationStats {
  uint64_t count = 0;
  uint64_t total_ns = 0;
  uint64_t min_ns = 0;
  uint64_t max_ns = 0;
  void add(uint64_t ns);
  uint64_t mean_ns() const { return count ? total_ns / count : 0; }
};

// One VT-x exit reason.
struct ExitReasonStats {
  uint16_t reason = 0;
  uint64_t count = 0;      // vm_exit events with this reason
  uint64_t vmm = 0;        // of which handled_by vmm (KVM_RUN returned to user space)
  uint64_t kernel = 0;     // handled inside KVM: vm_exit events marked kernel, or, when the
                           // trace has kvm-stats counters for this reason, the stat's total
                           // minus the exits the VMM saw (whichever is larger)
  DurationStats duration;  // over events with a nonzero duration_ns
};

// Traps grouped by cause and vector (syscall has no vector: 0).
struct TrapStats {
  TrapCause cause = TrapCause::None;
  uint8_t vector = 0;
  uint64_t count = 0;
  uint64_t ring_transitions = 0;  // of which changed CPL
};

// One occurrence of a phase: from a marker `begin` to the next `end` with
// the same label (nested and repeated phases are separate instances, listed
// in order of their begin).
struct PhaseStats {
  std::string label;
  uint32_t vcpu = 0;
  uint64_t begin_seq = 0, end_seq = 0;
  uint64_t begin_ns = 0, end_ns = 0;
  bool closed = false;  // false: no end marker; the phase runs to the end of the trace
  uint64_t duration_ns() const { return end_ns - begin_ns; }

  uint64_t events = 0;  // strictly between the two markers
  uint64_t vm_exits = 0;
  std::map<uint16_t, uint64_t> exits_by_reason;
  uint64_t exit_time_ns = 0;  // sum of the exits' duration_ns
  uint64_t traps = 0;
  uint64_t ring_transitions = 0;
  uint64_t hypercalls = 0;
  std::array<uint64_t, kMaxEventKinds> by_kind{};  // the events strictly between, by EventKind
  // How much each kvm-stats counter of the phase's vCPU grew between the
  // begin and end markers (only stats sampled inside the phase appear).
  std::map<std::string, uint64_t> kvm_stats;
};

struct TraceStats {
  TraceHeader header;
  bool complete = false;
  std::string warning;  // the reader's warning, if any

  uint64_t events = 0;
  uint64_t first_ns = 0, last_ns = 0;              // time of the first and last event
  std::array<uint64_t, kMaxEventKinds> by_kind{};  // by EventKind; event_kind_count() are defined

  uint64_t vm_exits = 0;
  uint64_t exits_vmm = 0, exits_kernel = 0;  // sums over `exits` below
  DurationStats exit_duration;               // all exits together
  std::vector<ExitReasonStats> exits;        // sorted by count, most frequent first

  // KVM's per-vCPU stats (`counter` events of source kvm-stats) at the end
  // of the trace, summed over vCPUs. The KVM backend records each stat's
  // running value (it only moves forward), so the last value of each
  // vCPU's stat is its total: `exits` counts every exit, including the ones
  // KVM handled in the kernel and the VMM never saw.
  std::map<std::string, uint64_t> kvm_stats;
  // Exits KVM handled in the kernel overall: the backend's `kernel_exits`
  // counter if the trace has one, else kvm_stats["exits"] minus the exits
  // the VMM saw (0 when the trace has neither).
  uint64_t kernel_only_exits = 0;

  std::vector<TrapStats> traps;  // sorted by count, most frequent first
  uint64_t trap_count = 0;
  uint64_t ring_transitions = 0;  // traps and trap_returns whose from_cpl != to_cpl
  uint64_t to_kernel = 0;         // of which entered a more privileged ring
  uint64_t to_user = 0;           // of which left for a less privileged ring

  uint64_t hypercalls = 0;
  uint64_t output_bytes = 0;
  std::vector<PhaseStats> phases;
  uint64_t unmatched_end_markers = 0;  // an `end` with no open `begin` of that label
  // What did not fit the bounds below (a guest that brackets millions of
  // phases, or a trace with thousands of counter names): counted, not kept.
  uint64_t phases_dropped = 0;    // phases past kMaxPhases, or nested deeper than kMaxOpenPhases
  uint64_t counters_dropped = 0;  // kvm-stats samples of a (vCPU, name) past kMaxStatCounters

  BtStats bt;                        // the bt mode's counters (bt_stats.h); all zero in a trace of another mode
  std::vector<VcpuStats> vcpus;      // one per vCPU lane (vcpu_stats.h), by index
  uint64_t vcpu_events_dropped = 0;  // events of lanes past kMaxStatVcpus

  std::optional<RunEndReason> end_reason;  // from the run_end event, if present
  uint64_t guest_status = 0;               // run_end's value
  std::string end_message;

  uint64_t duration_ns() const { return last_ns - first_ns; }
};

// The bounds that keep StatsBuilder's memory independent of the length of
// a trace: it holds counts and per-phase aggregates, never events.
inline constexpr size_t kMaxPhases = 10'000;       // phase instances listed in TraceStats::phases
inline constexpr size_t kMaxOpenPhases = 64;       // phases open at once on one vCPU
inline constexpr size_t kMaxPhaseLabel = 256;      // bytes of a label kept (and compared)
inline constexpr size_t kMaxStatCounters = 1'024;  // distinct (vCPU, kvm-stats name) pairs
inline constexpr size_t kMaxStatName = 64;         // bytes of a kvm-stats counter name kept
inline constexpr size_t kMaxEndMessage = 4'096;    // bytes of the run_end message kept

TraceStats compute_stats(const Trace& trace);

// compute_stats one event at a time, for a reader that streams a trace
// (for_each_event) instead of holding it whole: add() every event in file
// order, then finish() once.
class StatsBuilder {
 public:
  StatsBuilder();
  ~StatsBuilder();
  StatsBuilder(const StatsBuilder&) = delete;
  StatsBuilder& operator=(const StatsBuilder&) = delete;
  void add(const Event& e);
  TraceStats finish(const TraceHeader& header, bool complete, std::string warning);
  // The stats of the events added so far, as finish() would give them,
  // leaving the builder as it was (a viewer following a live trace).
  TraceStats snapshot(const TraceHeader& header, bool complete, std::string warning) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Rows for drawing phases side by side on their vCPU's timeline (the
// viewer's markers row, the exporters' phase tracks): each phase goes one row
// below the deepest row still busy when it begins, so a nested phase lies
// below every phase it is inside and phases on one row never overlap (a
// phase that begins exactly where another ends may share its row). `phases`
// in begin order, as compute_stats lists them. A phase that would need row
// `max_rows` or deeper gets kNoPhaseRow (bounds a hostile file).
inline constexpr uint8_t kNoPhaseRow = 0xff;
std::vector<uint8_t> phase_rows(const std::vector<PhaseStats>& phases, size_t max_rows);

// A marker label that names an amount of work, "<what>: <N> <unit>"
// ("syscalls: 16 writes", "io-burst: 4096 bytes"): `compare` divides the
// phase's time and exits by N. N is decimal digits that fit in 64 bits and
// the unit one word; anything else is not a work label (nullopt).
struct WorkLabel {
  std::string_view what;
  uint64_t count = 0;
  std::string_view unit;
};
std::optional<WorkLabel> parse_work_label(std::string_view label);

// The KVM stat that counts a VT-x exit reason ("io_exits" for 30), or ""
// for reasons KVM has no per-reason stat for.
std::string_view kvm_stat_for_reason(uint16_t reason);

// The stats as one JSON object (`ringscope stats --json`; lab scripts).
// Keys are snake_case and reuse the event vocabulary's names.
std::string stats_to_json(const TraceStats& stats);

}  // namespace ringscope
