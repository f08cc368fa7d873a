// export_perfetto.cpp — Perfetto's native protobuf trace (TracePacket /
// TrackDescriptor / TrackEvent), as described in Perfetto's "Converting
// arbitrary timestamped data to Perfetto" guide, with Perfetto's own size
// optimisations: interned strings and delta-encoded timestamps.
//
// Tracks: one process track for the run; per vCPU a thread track (the
// events), and below it the lesson's state tracks (StateTracker: the ring
// the guest is in, VMX root / non-root) and one track per row of marker
// phases; one counter track per counter name (and vCPU). A vm_exit is a
// slice on the thread track (SLICE_BEGIN at the exit, SLICE_END at
// re-entry); a marker phase is a slice on its phase track from its begin
// marker to its end marker; other events are instants; a flow links an exit
// to the device event it caused. Event fields travel as debug annotations
// with the JSON key names.
//
// Sizes: event names, categories, annotation names and string values are
// interned (InternedData, sent in the packet that first uses them); the
// first packet clears the sequence's incremental state and sets defaults
// (the first vCPU's track, a sequence-local incremental clock), so every
// later packet says SEQ_NEEDS_INCREMENTAL_STATE and carries only the time
// since the previous packet. A packet whose time is earlier than the one
// before it (vCPUs interleaved) carries its absolute time on the trace
// clock instead.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "export_internal.h"
#include "fmt/format.h"
#include "json_internal.h"
#include "protobuf.h"

namespace ringscope::trace {
namespace {

// Field numbers from perfetto/protos/perfetto/trace/*.proto.
namespace trace_proto {
constexpr uint32_t kPacket = 1;
}
namespace packet {  // trace_packet.proto
constexpr uint32_t kClockSnapshot = 6, kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11, kInternedData = 12,
                   kSequenceFlags = 13, kTimestampClockId = 58, kDefaults = 59, kTrackDescriptor = 60;
constexpr uint64_t kIncrementalStateCleared = 1, kNeedsIncrementalState = 2;
}  // namespace packet
namespace packet_defaults {  // trace_packet_defaults.proto
constexpr uint32_t kTimestampClockId = 58, kTrackEventDefaults = 11;
}
namespace track_event_defaults {  // track_event.proto, TrackEventDefaults
constexpr uint32_t kTrackUuid = 11;
}
namespace clock_snapshot {  // clock_snapshot.proto
constexpr uint32_t kClocks = 1;
constexpr uint32_t kClockId = 1, kTimestamp = 2, kIsIncremental = 3;  // ClockSnapshot.Clock
constexpr uint64_t kBoottime = 6;  // BuiltinClock BOOTTIME: the trace clock (the run's CLOCK_MONOTONIC values)
constexpr uint64_t kDelta = 64;    // the first sequence-scoped clock id: ours, incremental
}  // namespace clock_snapshot
namespace interned_data {  // interned_data.proto
constexpr uint32_t kEventCategories = 1, kEventNames = 2, kDebugAnnotationNames = 3, kDebugAnnotationStringValues = 29;
constexpr uint32_t kIid = 1, kName = 2;  // EventCategory, EventName, DebugAnnotationName; InternedString's str
}  // namespace interned_data
namespace track_descriptor {
constexpr uint32_t kUuid = 1, kName = 2, kProcess = 3, kThread = 4, kParentUuid = 5, kCounter = 8;
}
namespace process_descriptor {
constexpr uint32_t kPid = 1, kProcessName = 6;
}
namespace thread_descriptor {
constexpr uint32_t kPid = 1, kTid = 2, kThreadName = 5;
}
namespace track_event {
constexpr uint32_t kCategoryIids = 3, kDebugAnnotations = 4, kType = 9, kNameIid = 10, kTrackUuid = 11,
                   kCategories = 22, kName = 23, kCounterValue = 30, kDoubleCounterValue = 44, kFlowIds = 47,
                   kTerminatingFlowIds = 48;
constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4;
}  // namespace track_event
namespace debug_annotation {
constexpr uint32_t kNameIid = 1, kBool = 2, kUint = 3, kInt = 4, kDouble = 5, kString = 6, kName = 10, kDict = 11,
                   kArray = 12, kStringIid = 17;
}

constexpr uint32_t kSequence = 1;  // one writer, one packet sequence
constexpr int32_t kPid = 1;
constexpr uint64_t kProcessUuid = 1;
uint64_t vcpu_uuid(uint32_t vcpu) { return 0x1000 + uint64_t{vcpu}; }
// The tracks below a vCPU's thread track, and the counter tracks, in
// ranges of their own (a vCPU number is 32 bits).
// A state track's uuid is in every one of its packets: two varint bytes
// (0x100 + 2n + track, below the vCPU tracks at 0x1000) for the first 0x700
// vCPUs, which is every real machine.
constexpr uint32_t kSmallStateUuids = 0x700;
uint64_t state_uuid(uint32_t vcpu, StateTrack t) {
  if (vcpu < kSmallStateUuids) return 0x100 + 2 * uint64_t{vcpu} + static_cast<uint64_t>(t);
  return (uint64_t{1} << 40) | (uint64_t{vcpu} << 4) | static_cast<uint64_t>(t);
}
uint64_t phase_uuid(uint32_t vcpu, uint8_t row) { return (uint64_t{2} << 40) | (uint64_t{vcpu} << 4) | row; }
constexpr uint64_t kFirstCounterUuid = uint64_t{3} << 40;
static_assert(kMaxExportPhaseRows <= 16);

// The JSON keys not repeated as annotations. What the packet already
// carries: the timestamp, the track (the vCPU), the categories ("kind,source",
// one interned string: Perfetto joins a slice's categories with commas) and
// the ring track (an event's `cpl` is the ring track's state at its time).
// And a step's seq: steps are nearly all of a level-full trace and its seq
// the largest thing left in them (`ringscope show --json` lists every seq).
bool carried_elsewhere(EventKind kind, std::string_view key) {
  return key == "time_ns" || key == "vcpu" || key == "kind" || key == "source" || key == "cpl" ||
         (kind == EventKind::Step && key == "seq");
}

// Strings interned per kind of entry, bounded: past kMaxInterned distinct
// strings of one kind (a hostile trace), the rest are written inline.
constexpr size_t kMaxInterned = 1 << 16;
class InternTable {
 public:
  explicit InternTable(uint32_t field) : field_(field) {}
  // The string's iid, adding an entry to `fresh` the first time; 0 when
  // the table is full (write the string inline).
  uint64_t iid(std::string_view s, ProtoWriter& fresh) {
    if (auto it = ids_.find(std::string(s)); it != ids_.end()) return it->second;
    if (ids_.size() >= kMaxInterned) return 0;
    const uint64_t id = ids_.size() + 1;  // 0 is "not set"
    ids_.emplace(std::string(s), id);
    ProtoWriter entry;
    entry.varint_field(interned_data::kIid, id);
    entry.bytes_field(interned_data::kName, s);
    fresh.message_field(field_, entry);
    return id;
  }

 private:
  uint32_t field_;
  std::unordered_map<std::string, uint64_t> ids_;
};

class PacketStream {
 public:
  PacketStream(FILE* f, uint64_t origin_ns, uint64_t default_track) : f_(f), last_ns_(origin_ns) {
    // The first packet: clears the sequence's state, sets the defaults, and
    // ties our incremental clock to the trace clock at origin_ns.
    ProtoWriter p, defaults, te_defaults, snapshot, boot, delta;
    te_defaults.varint_field(track_event_defaults::kTrackUuid, default_track);
    defaults.varint_field(packet_defaults::kTimestampClockId, clock_snapshot::kDelta);
    defaults.message_field(packet_defaults::kTrackEventDefaults, te_defaults);
    boot.varint_field(clock_snapshot::kClockId, clock_snapshot::kBoottime);
    boot.varint_field(clock_snapshot::kTimestamp, origin_ns);
    delta.varint_field(clock_snapshot::kClockId, clock_snapshot::kDelta);
    delta.varint_field(clock_snapshot::kTimestamp, origin_ns);
    delta.varint_field(clock_snapshot::kIsIncremental, 1);
    snapshot.message_field(clock_snapshot::kClocks, boot);
    snapshot.message_field(clock_snapshot::kClocks, delta);
    p.varint_field(packet::kTimestamp, origin_ns);
    p.varint_field(packet::kTimestampClockId, clock_snapshot::kBoottime);
    p.message_field(packet::kClockSnapshot, snapshot);
    p.message_field(packet::kDefaults, defaults);
    p.varint_field(packet::kSequenceId, kSequence);
    p.varint_field(packet::kSequenceFlags, packet::kIncrementalStateCleared);
    emit(p);
  }

  // Writes one TracePacket: `body` plus its time (when it has one), the
  // sequence, and the interned entries `interned` gathered for it.
  void write(ProtoWriter& body, std::optional<uint64_t> time_ns, ProtoWriter& interned) {
    if (time_ns) {
      if (*time_ns >= last_ns_) {
        body.varint_field(packet::kTimestamp, *time_ns - last_ns_);
        last_ns_ = *time_ns;
      } else {
        body.varint_field(packet::kTimestamp, *time_ns);
        body.varint_field(packet::kTimestampClockId, clock_snapshot::kBoottime);
      }
    }
    body.varint_field(packet::kSequenceId, kSequence);
    body.varint_field(packet::kSequenceFlags, packet::kNeedsIncrementalState);
    if (!interned.bytes().empty()) {
      body.message_field(packet::kInternedData, interned);
      interned.clear();
    }
    emit(body);
  }

 private:
  void emit(const ProtoWriter& body) {
    ProtoWriter outer;
    outer.message_field(trace_proto::kPacket, body);
    std::fwrite(outer.bytes().data(), 1, outer.bytes().size(), f_);
  }

  FILE* f_;
  uint64_t last_ns_;  // the incremental clock's value: the last delta-encoded packet's time
};

// Counter tracks are described the first time a counter appears. Bounded:
// past kMaxCounterTracks distinct (name, vCPU) pairs (a hostile trace), a
// new counter gets a fresh track each time instead of a remembered one.
constexpr size_t kMaxCounterTracks = 4096;

class PerfettoExport {
 public:
  PerfettoExport(PacketStream& out, const ExportPlan& plan)
      : out_(out), plan_(plan), states_(plan.has_exits), default_track_(vcpu_uuid(plan.vcpus.front())) {
    for (size_t i = 0; i < plan.phases.size(); ++i) {
      if (plan.phase_row[i] == kNoPhaseRow) continue;
      phase_at_seq_.emplace(plan.phases[i].begin_seq, PhaseMark{static_cast<uint32_t>(i), true});
      if (plan.phases[i].closed)
        phase_at_seq_.emplace(plan.phases[i].end_seq, PhaseMark{static_cast<uint32_t>(i), false});
    }
  }

  void describe_process(const TraceHeader& header) {
    ProtoWriter proc, d;
    proc.varint_field(process_descriptor::kPid, kPid);
    proc.bytes_field(process_descriptor::kProcessName, process_title(header));
    d.varint_field(track_descriptor::kUuid, kProcessUuid);
    d.message_field(track_descriptor::kProcess, proc);
    write_track(d);
  }

  void describe_vcpu(uint32_t v) {
    ProtoWriter thread, d;
    thread.varint_field(thread_descriptor::kPid, kPid);
    thread.varint_field(thread_descriptor::kTid, uint64_t{v} + 1);
    thread.bytes_field(thread_descriptor::kThreadName, fmt::format("vCPU {}", v));
    d.varint_field(track_descriptor::kUuid, vcpu_uuid(v));
    d.message_field(track_descriptor::kThread, thread);
    write_track(d);
  }

  // The phase tracks the plan needs, before the first event.
  void describe_phase_tracks() {
    std::set<std::pair<uint32_t, uint8_t>> rows;
    for (size_t i = 0; i < plan_.phases.size(); ++i)
      if (plan_.phase_row[i] != kNoPhaseRow) rows.emplace(plan_.phases[i].vcpu, plan_.phase_row[i]);
    for (const auto& [vcpu, row] : rows)
      describe_child(phase_uuid(vcpu, row), vcpu, row == 0 ? std::string("phases") : fmt::format("phases {}", row + 1));
  }

  void event(const Event& e) {
    if (!plan_.listed(e.vcpu) && e.kind != EventKind::Counter && !described_.count(e.vcpu)) {
      describe_vcpu(e.vcpu);
      if (described_.size() < kMaxFlowVcpus) described_.insert(e.vcpu);  // past that, described again each time
    }
    const auto before = flows_.step(e);
    const bool flow = before && FlowTracker::pairs(*before, e);
    // A vm_exit's begin waits (one per vCPU) until the vCPU's next event
    // says whether a flow starts at it.
    if (auto it = pending_.find(e.vcpu); it != pending_.end()) {
      if (flow) it->second.te.fixed64_field(track_event::kFlowIds, FlowTracker::flow_id(before->seq));
      write_event(it->second.te, it->second.begin_ns);
      if (open_exits_.size() >= kMaxFlowVcpus) end_open_exits();
      open_exits_[e.vcpu] = it->second.end_ns;
      pending_.erase(it);
    }
    close_exit(e.vcpu, e.time_ns, e.kind == EventKind::VmExit);
    states_.step(e, [this](const StateChange& c) { state_change(c); });
    if (e.kind == EventKind::Counter) {
      counter(e);
      return;
    }
    if (e.kind == EventKind::Marker) phase_marker(e);
    const bool slice = is_slice(e);
    ProtoWriter te;
    te.varint_field(track_event::kType, slice ? track_event::kSliceBegin : track_event::kInstant);
    on_track(te, vcpu_uuid(e.vcpu));
    const Json fields = event_json(e);  // kept alive: items() only refers to it
    const auto source = fields.find("source");
    category(te, source != fields.end() && source->is_string()
                     ? fmt::format("{},{}", kind_name(e.kind), source->get_ref<const std::string&>())
                     : std::string(kind_name(e.kind)));
    const std::string title = event_title(e);
    name(te, title);
    for (const auto& [key, value] : fields.items()) {
      // What the packet already says, and a label equal to the event's name
      // (a vm_exit's reason_name, a trap's vector_name).
      if (carried_elsewhere(e.kind, key) || (value.is_string() && value.get_ref<const std::string&>() == title))
        continue;
      ProtoWriter a;
      annotation_name(a, key);
      annotate_value(a, value);
      te.message_field(track_event::kDebugAnnotations, a);
    }
    if (flow) te.fixed64_field(track_event::kTerminatingFlowIds, FlowTracker::flow_id(before->seq));
    if (slice) {
      if (pending_.size() >= kMaxFlowVcpus) flush_pending();
      pending_.emplace(e.vcpu, Pending{std::move(te), e.time_ns, e.time_ns + e.duration_ns});
      return;
    }
    write_event(te, e.time_ns);
  }

  // The end of the trace: exits still waiting or open, phases and states still open.
  void finish() {
    flush_pending();
    end_open_exits();
    for (const uint32_t i : begun_phases_) {
      const PhaseStats& p = plan_.phases[i];
      slice_end(phase_uuid(p.vcpu, plan_.phase_row[i]), std::max({p.end_ns, p.begin_ns, plan_.last_ns}));
    }
    begun_phases_.clear();
    states_.finish(plan_.last_ns, [this](const StateChange& c) { state_change(c); });
  }

 private:
  struct Pending {
    ProtoWriter te;
    uint64_t begin_ns, end_ns;
  };
  struct PhaseMark {
    uint32_t phase;
    bool begin;
  };

  void write_track(const ProtoWriter& descriptor) {
    ProtoWriter p;
    p.message_field(packet::kTrackDescriptor, descriptor);
    out_.write(p, std::nullopt, interned_);
  }
  void describe_child(uint64_t uuid, uint32_t vcpu, const std::string& track_name) {
    ProtoWriter d;
    d.varint_field(track_descriptor::kUuid, uuid);
    d.varint_field(track_descriptor::kParentUuid, vcpu_uuid(vcpu));
    d.bytes_field(track_descriptor::kName, track_name);
    write_track(d);
  }

  void write_event(ProtoWriter& te, uint64_t time_ns) {
    ProtoWriter p;
    p.message_field(packet::kTrackEvent, te);
    out_.write(p, time_ns, interned_);
  }
  void on_track(ProtoWriter& te, uint64_t uuid) const {
    if (uuid != default_track_) te.varint_field(track_event::kTrackUuid, uuid);
  }
  void category(ProtoWriter& te, std::string_view s) {
    if (const uint64_t iid = categories_.iid(s, interned_))
      te.varint_field(track_event::kCategoryIids, iid);
    else
      te.bytes_field(track_event::kCategories, s);
  }
  void name(ProtoWriter& te, std::string_view s) {
    if (const uint64_t iid = names_.iid(s, interned_))
      te.varint_field(track_event::kNameIid, iid);
    else
      te.bytes_field(track_event::kName, s);
  }
  void annotation_name(ProtoWriter& a, std::string_view s) {
    if (const uint64_t iid = annotation_names_.iid(s, interned_))
      a.varint_field(debug_annotation::kNameIid, iid);
    else
      a.bytes_field(debug_annotation::kName, s);
  }

  // A JSON value (from event_json) as a DebugAnnotation's value fields.
  void annotate_value(ProtoWriter& a, const Json& v) {
    using namespace debug_annotation;
    if (v.is_boolean()) {
      a.varint_field(kBool, v.get<bool>());
    } else if (v.is_number_unsigned()) {
      a.varint_field(kUint, v.get<uint64_t>());
    } else if (v.is_number_integer()) {
      a.int64_field(kInt, v.get<int64_t>());
    } else if (v.is_number_float()) {
      a.double_field(kDouble, v.get<double>());
    } else if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (const uint64_t iid = string_values_.iid(s, interned_))
        a.varint_field(kStringIid, iid);
      else
        a.bytes_field(kString, s);
    } else if (v.is_array()) {
      for (const auto& item : v) {
        ProtoWriter child;
        annotate_value(child, item);
        a.message_field(kArray, child);
      }
    } else if (v.is_object()) {
      for (const auto& [key, item] : v.items()) {
        ProtoWriter child;
        annotation_name(child, key);
        annotate_value(child, item);
        a.message_field(kDict, child);
      }
    }
  }

  void slice_begin(uint64_t track, std::string_view slice_name, uint64_t time_ns) {
    ProtoWriter te;
    te.varint_field(track_event::kType, track_event::kSliceBegin);
    on_track(te, track);
    name(te, slice_name);
    write_event(te, time_ns);
  }
  void slice_end(uint64_t track, uint64_t time_ns) {
    ProtoWriter te;
    te.varint_field(track_event::kType, track_event::kSliceEnd);
    on_track(te, track);
    write_event(te, time_ns);
  }

  // The exit slice of `vcpu` ends at its re-entry, written at the vCPU's
  // first event at or after it (or at its next exit, which cuts it short).
  void close_exit(uint32_t vcpu, uint64_t now, bool exit) {
    auto it = open_exits_.find(vcpu);
    if (it == open_exits_.end() || (now < it->second && !exit)) return;
    slice_end(vcpu_uuid(vcpu), std::min(now, it->second));
    open_exits_.erase(it);
  }

  void state_change(const StateChange& c) {
    const uint64_t uuid = state_uuid(c.vcpu, c.track);
    if (described_states_.insert(uuid).second)
      describe_child(uuid, c.vcpu, c.track == StateTrack::Ring ? "ring (CPL)" : "VMX");
    if (!c.ended.empty()) slice_end(uuid, c.time_ns);
    if (!c.begun.empty()) slice_begin(uuid, c.begun, c.time_ns);
  }

  void phase_marker(const Event& e) {
    const auto [first, last] = phase_at_seq_.equal_range(e.seq);
    for (auto it = first; it != last; ++it) {
      const PhaseStats& p = plan_.phases[it->second.phase];
      if (p.vcpu != e.vcpu) continue;
      const uint64_t track = phase_uuid(p.vcpu, plan_.phase_row[it->second.phase]);
      if (it->second.begin) {
        if (begun_phases_.insert(it->second.phase).second) slice_begin(track, p.label, e.time_ns);
      } else if (begun_phases_.erase(it->second.phase)) {
        slice_end(track, e.time_ns);
      }
    }
  }

  void end_open_exits() {
    for (const auto& [vcpu, end_ns] : open_exits_) slice_end(vcpu_uuid(vcpu), end_ns);
    open_exits_.clear();
  }

  void flush_pending() {
    for (auto& [vcpu, pending] : pending_) {
      write_event(pending.te, pending.begin_ns);
      slice_end(vcpu_uuid(vcpu), pending.end_ns);
    }
    pending_.clear();
  }

  void counter(const Event& e) {
    auto key = std::make_pair(std::string(e.name), e.vcpu);
    auto it = counter_tracks_.find(key);
    uint64_t uuid;
    if (it != counter_tracks_.end()) {
      uuid = it->second;
    } else {
      uuid = next_counter_uuid_++;
      if (counter_tracks_.size() < kMaxCounterTracks) counter_tracks_.emplace(key, uuid);
      std::string track_name = key.first.empty() ? "counter" : key.first;
      if (plan_.many_vcpus()) track_name += fmt::format(" (vCPU {})", e.vcpu);
      ProtoWriter d, c;
      d.varint_field(track_descriptor::kUuid, uuid);
      d.bytes_field(track_descriptor::kName, track_name);
      d.varint_field(track_descriptor::kParentUuid, kProcessUuid);
      d.message_field(track_descriptor::kCounter, c);
      write_track(d);
    }
    ProtoWriter te;
    te.varint_field(track_event::kType, track_event::kCounter);
    te.varint_field(track_event::kTrackUuid, uuid);
    if (e.value <= static_cast<uint64_t>(INT64_MAX))
      te.int64_field(track_event::kCounterValue, static_cast<int64_t>(e.value));
    else
      te.double_field(track_event::kDoubleCounterValue, static_cast<double>(e.value));
    write_event(te, e.time_ns);
  }

  PacketStream& out_;
  const ExportPlan& plan_;
  StateTracker states_;
  const uint64_t default_track_;
  FlowTracker flows_;
  std::unordered_map<uint32_t, Pending> pending_;      // exits whose begin is not written yet
  std::unordered_map<uint32_t, uint64_t> open_exits_;  // exits begun, not ended: their end
  std::unordered_set<uint32_t> described_;             // vCPUs past the plan's list, described on the way
  std::unordered_set<uint64_t> described_states_;
  std::unordered_multimap<uint64_t, PhaseMark> phase_at_seq_;  // marker seq -> the phase it begins or ends
  std::set<uint32_t> begun_phases_;
  std::map<std::pair<std::string, uint32_t>, uint64_t> counter_tracks_;
  uint64_t next_counter_uuid_ = kFirstCounterUuid;
  ProtoWriter interned_;  // entries for the next packet
  InternTable categories_{interned_data::kEventCategories}, names_{interned_data::kEventNames},
      annotation_names_{interned_data::kDebugAnnotationNames},
      string_values_{interned_data::kDebugAnnotationStringValues};
};

}  // namespace

Status export_perfetto(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                       uint64_t& written) {
  TRY_ASSIGN(ExportPlan plan, plan_export(pass));
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  PacketStream out(file.get(), plan.first_ns, vcpu_uuid(plan.vcpus.front()));
  PerfettoExport ex(out, plan);
  ex.describe_process(header);
  for (uint32_t v : plan.vcpus) ex.describe_vcpu(v);
  ex.describe_phase_tracks();
  ReadSummary summary;
  TRY(pass(
      [&](const Event& e) {
        ex.event(e);
        ++written;
        return std::ferror(file.get()) == 0;
      },
      summary));
  ex.finish();
  return finish_output(std::move(file), out_path);
}

}  // namespace ringscope::trace
