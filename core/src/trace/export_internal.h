// export_internal.h — what the exporters share: titles, the pass over the
// events, flow pairing, output files.
//
// Exporters stream: they see each event once, in file order, and keep only
// bounded state (one pending event per vCPU for flow arrows, the tracks
// already described), so a trace of any length exports in a few megabytes.
// What must be known before the first event is written (how many events,
// which vCPUs) comes from a first pass over the same events (ExportPlan).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringscope/result.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"

namespace ringscope::trace {

// Chrome's JSON viewer and Perfetto's JSON importer choke long before this;
// the protobuf export has no such limit.
inline constexpr size_t kMaxChromeJsonEvents = 2'000'000;
// vCPUs the plan lists (thread tracks written up front); a hostile trace
// with more gets the rest described as they come.
inline constexpr size_t kMaxListedVcpus = 256;
// vCPUs whose latest event the flow pairing remembers at once.
inline constexpr size_t kMaxFlowVcpus = 4096;

// One pass over a trace's events, in file order: calls `callback` for each
// and fills `summary`. An exporter may run it twice.
using EventPass = std::function<Status(const EventCallback& callback, ReadSummary& summary)>;

// Phase rows an exporter draws per vCPU (the viewer's kMaxPhaseRows).
inline constexpr size_t kMaxExportPhaseRows = 8;

// The first pass: what the writers need before the first event.
struct ExportPlan {
  uint64_t events = 0;
  std::vector<uint32_t> vcpus;  // distinct vCPUs in order of first appearance (at most kMaxListedVcpus)
  bool more_vcpus = false;      // there were more than that
  bool complete = false;
  std::string warning;
  bool has_exits = false;          // any vm_exit: the VMX tracks are drawn
  uint64_t first_ns = 0;           // the earliest event time (0 without events)
  uint64_t last_ns = 0;            // the latest event time
  std::vector<PhaseStats> phases;  // marker phases (compute_stats's list, begin order)
  std::vector<uint8_t> phase_row;  // per phase: its row on its vCPU (phase_rows), or kNoPhaseRow
  bool many_vcpus() const { return more_vcpus || vcpus.size() > 1; }
  bool listed(uint32_t vcpu) const;
};
Result<ExportPlan> plan_export(const EventPass& pass);

// The label of an event on the timeline: "io_instruction", "#PF page fault",
// "uart THR write", a counter's or marker's name.
std::string event_title(const Event& e);

// A guest access and the device event it caused: a vm_exit followed, on the
// same vCPU, directly by a device event. Fed events in order, says for each
// whether it is the device end of such a pair (and of which exit).
class FlowTracker {
 public:
  struct Previous {
    EventKind kind;
    uint64_t seq;
    uint64_t time_ns;
  };
  // The vCPU's previous event, if one is remembered; then remembers `e`.
  std::optional<Previous> step(const Event& e);
  // The flow id of the pair (exit, device): the exit's seq + 1 (0 is not a good id).
  static uint64_t flow_id(uint64_t exit_seq) { return exit_seq + 1; }
  static bool pairs(const Previous& before, const Event& e) {
    return before.kind == EventKind::VmExit && e.kind == EventKind::Device;
  }

 private:
  std::unordered_map<uint32_t, Previous> last_;
};

// The lesson's state tracks of each vCPU, the states the viewer's bands
// show: the ring the guest is in (each event with a CPL moves it to
// event_cpl_ends().to, as the viewer's CPL band does) and, when the trace has
// exits, VMX root (from an exit for its duration_ns, cut short by the next
// exit, as the viewer's root spans are) or non-root (the rest, from the
// vCPU's first event). Fed the events in file order, it reports each change
// as the state that ends and the state that begins at one time, before the
// event that causes it; an exit's end is reported at the vCPU's first event
// at or after it (events inside the exit, such as the device access it
// caused, lie inside the root state). Bounded: past kMaxFlowVcpus vCPUs, new
// vCPUs get no state tracks.
enum class StateTrack : uint8_t { Ring, Vmx };
struct StateChange {
  StateTrack track;
  uint32_t vcpu;
  uint64_t time_ns;
  std::string_view ended;  // the state that ends ("" when none was open)
  std::string_view begun;  // the state that begins ("" at the end of the trace)
};
std::string_view ring_state_name(uint8_t cpl);  // "ring 0" .. "ring 3"
inline constexpr std::string_view kVmxRootState = "VMX root (hypervisor)";
inline constexpr std::string_view kVmxNonRootState = "VMX non-root (guest)";

class StateTracker {
 public:
  using Emit = std::function<void(const StateChange&)>;
  explicit StateTracker(bool vmx) : vmx_(vmx) {}
  // The changes up to and at `e`.
  void step(const Event& e, const Emit& emit);
  // Ends every open state: at `last_ns`, or where an exit still open ends.
  void finish(uint64_t last_ns, const Emit& emit);

 private:
  struct Vcpu {
    int cpl = -1;           // -1: not known yet
    bool root = false;      // in an exit (VMX root)
    uint64_t root_end = 0;  // when it ends
  };
  bool vmx_;
  std::map<uint32_t, Vcpu> vcpus_;
};
// Whether an event is drawn as a slice (it lasts): a vm_exit from exit to
// re-entry, and in a `bt` trace the monitor's work that recorded its time (a
// callout, a block translation, a world switch). Everything else is an instant.
inline bool is_slice(const Event& e) {
  if (e.kind == EventKind::VmExit) return true;
  const bool monitor =
      e.kind == EventKind::BtCallout || e.kind == EventKind::BtTranslate || e.kind == EventKind::WorldSwitch;
  return monitor && e.duration_ns != 0;
}

// "ringscope: syscalls (full-virt)", the name of the process track.
std::string process_title(const TraceHeader& h);

// Output files: created with create_output_file (no symlink followed, a
// regular file only); "-" is stdout.
using File = std::unique_ptr<FILE, int (*)(FILE*)>;
Result<File> create_output(const std::string& path);
Status finish_output(File file, const std::string& path);

Status export_chrome_json(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                          uint64_t& written);
Status export_perfetto(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                       uint64_t& written);
Status export_json_lines(const EventPass& pass, const std::string& out_path, uint64_t& written);

}  // namespace ringscope::trace
