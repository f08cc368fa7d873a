// export_perfetto.cpp — Perfetto's native protobuf trace (TracePacket /
// TrackDescriptor / TrackEvent), as described in Perfetto's "Converting
// arbitrary timestamped data to Perfetto" guide.
//
// Tracks: one process track for the run, one thread track per vCPU, one
// counter track per counter name (and vCPU). A vm_exit is a slice
// (SLICE_BEGIN at the exit, SLICE_END at re-entry); other events are
// instants; a flow links an exit to the device event it caused. Event
// fields travel as debug annotations with the JSON key names. Strings are
// not interned: simpler, and the file is still far smaller than JSON.
#include <map>
#include <string>
#include <unordered_map>

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
namespace packet {
constexpr uint32_t kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11, kSequenceFlags = 13, kTrackDescriptor = 60;
constexpr uint64_t kIncrementalStateCleared = 1;
}  // namespace packet
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
constexpr uint32_t kDebugAnnotations = 4, kType = 9, kTrackUuid = 11, kCategories = 22, kName = 23, kCounterValue = 30,
                   kDoubleCounterValue = 44, kFlowIds = 47, kTerminatingFlowIds = 48;
constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4;
}  // namespace track_event
namespace debug_annotation {
constexpr uint32_t kBool = 2, kUint = 3, kInt = 4, kDouble = 5, kString = 6, kName = 10, kDict = 11, kArray = 12;
}

constexpr uint32_t kSequence = 1;  // one writer, one packet sequence
constexpr int32_t kPid = 1;
constexpr uint64_t kProcessUuid = 1;
uint64_t vcpu_uuid(uint32_t vcpu) { return 0x1000 + uint64_t{vcpu}; }

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
    a.bytes_field(kString, v.get_ref<const std::string&>());
  } else if (v.is_array()) {
    for (const auto& item : v) {
      ProtoWriter child;
      annotate_value(child, item);
      a.message_field(kArray, child);
    }
  } else if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      ProtoWriter child;
      child.bytes_field(kName, key);
      annotate_value(child, item);
      a.message_field(kDict, child);
    }
  }
}

class PacketStream {
 public:
  explicit PacketStream(FILE* f) : f_(f) {}

  // Writes one TracePacket: `body` plus the sequence id (and, on the very
  // first packet, the flag that starts the sequence's state).
  void write(ProtoWriter& body) {
    body.varint_field(packet::kSequenceId, kSequence);
    if (first_) body.varint_field(packet::kSequenceFlags, packet::kIncrementalStateCleared);
    first_ = false;
    ProtoWriter outer;
    outer.message_field(trace_proto::kPacket, body);
    std::fwrite(outer.bytes().data(), 1, outer.bytes().size(), f_);
  }

 private:
  FILE* f_;
  bool first_ = true;
};

void write_track(PacketStream& out, const ProtoWriter& descriptor) {
  ProtoWriter p;
  p.message_field(packet::kTrackDescriptor, descriptor);
  out.write(p);
}

}  // namespace

namespace {

// Counter tracks are described the first time a counter appears. Bounded:
// past kMaxCounterTracks distinct (name, vCPU) pairs (a hostile trace), a
// new counter gets a fresh track each time instead of a remembered one.
constexpr size_t kMaxCounterTracks = 4096;

class PerfettoExport {
 public:
  PerfettoExport(PacketStream& out, const ExportPlan& plan) : out_(out), plan_(plan) {}

  void describe_vcpu(uint32_t v) {
    ProtoWriter thread, d;
    thread.varint_field(thread_descriptor::kPid, kPid);
    thread.varint_field(thread_descriptor::kTid, uint64_t{v} + 1);
    thread.bytes_field(thread_descriptor::kThreadName, fmt::format("vCPU {}", v));
    d.varint_field(track_descriptor::kUuid, vcpu_uuid(v));
    d.message_field(track_descriptor::kThread, thread);
    write_track(out_, d);
  }

  void event(const Event& e) {
    const auto before = flows_.step(e);
    // A vm_exit waits (one per vCPU) until the vCPU's next event says
    // whether a flow starts at it.
    const bool flow = before && FlowTracker::pairs(*before, e);
    if (auto it = pending_.find(e.vcpu); it != pending_.end()) {
      if (flow) it->second.te.fixed64_field(track_event::kFlowIds, FlowTracker::flow_id(before->seq));
      write_exit(it->second);
      pending_.erase(it);
    }
    if (!plan_.listed(e.vcpu) && e.kind != EventKind::Counter) describe_vcpu(e.vcpu);
    if (e.kind == EventKind::Counter) {
      counter(e);
      return;
    }
    const bool slice = is_slice(e);
    ProtoWriter te;
    te.varint_field(track_event::kType, slice ? track_event::kSliceBegin : track_event::kInstant);
    te.varint_field(track_event::kTrackUuid, vcpu_uuid(e.vcpu));
    te.bytes_field(track_event::kCategories, kind_name(e.kind));
    te.bytes_field(track_event::kName, event_title(e));
    const Json fields = event_json(e);  // kept alive: items() only refers to it
    for (const auto& [key, value] : fields.items()) {
      ProtoWriter a;
      a.bytes_field(debug_annotation::kName, key);
      annotate_value(a, value);
      te.message_field(track_event::kDebugAnnotations, a);
    }
    if (flow) te.fixed64_field(track_event::kTerminatingFlowIds, FlowTracker::flow_id(before->seq));
    if (slice) {
      if (pending_.size() >= kMaxFlowVcpus) flush();
      pending_.emplace(e.vcpu, Pending{std::move(te), e.time_ns, e.time_ns + e.duration_ns, e.vcpu});
      return;
    }
    ProtoWriter p;
    p.varint_field(packet::kTimestamp, e.time_ns);
    p.message_field(packet::kTrackEvent, te);
    out_.write(p);
  }

  // Writes the exits still waiting (at the end of the trace).
  void flush() {
    for (auto& [vcpu, pending] : pending_) write_exit(pending);
    pending_.clear();
  }

 private:
  struct Pending {
    ProtoWriter te;
    uint64_t begin_ns, end_ns;
    uint32_t vcpu;
  };

  void write_exit(Pending& x) {
    ProtoWriter p;
    p.varint_field(packet::kTimestamp, x.begin_ns);
    p.message_field(packet::kTrackEvent, x.te);
    out_.write(p);
    ProtoWriter end, q;
    end.varint_field(track_event::kType, track_event::kSliceEnd);
    end.varint_field(track_event::kTrackUuid, vcpu_uuid(x.vcpu));
    q.varint_field(packet::kTimestamp, x.end_ns);
    q.message_field(packet::kTrackEvent, end);
    out_.write(q);
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
      std::string name = key.first.empty() ? "counter" : key.first;
      if (plan_.many_vcpus()) name += fmt::format(" (vCPU {})", e.vcpu);
      ProtoWriter d, c;
      d.varint_field(track_descriptor::kUuid, uuid);
      d.bytes_field(track_descriptor::kName, name);
      d.varint_field(track_descriptor::kParentUuid, kProcessUuid);
      d.message_field(track_descriptor::kCounter, c);
      write_track(out_, d);
    }
    ProtoWriter te, p;
    te.varint_field(track_event::kType, track_event::kCounter);
    te.varint_field(track_event::kTrackUuid, uuid);
    if (e.value <= static_cast<uint64_t>(INT64_MAX))
      te.int64_field(track_event::kCounterValue, static_cast<int64_t>(e.value));
    else
      te.double_field(track_event::kDoubleCounterValue, static_cast<double>(e.value));
    p.varint_field(packet::kTimestamp, e.time_ns);
    p.message_field(packet::kTrackEvent, te);
    out_.write(p);
  }

  PacketStream& out_;
  const ExportPlan& plan_;
  FlowTracker flows_;
  std::unordered_map<uint32_t, Pending> pending_;
  std::map<std::pair<std::string, uint32_t>, uint64_t> counter_tracks_;
  uint64_t next_counter_uuid_ = 0x100000;
};

}  // namespace

Status export_perfetto(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                       uint64_t& written) {
  TRY_ASSIGN(ExportPlan plan, plan_export(pass));
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  PacketStream out(file.get());
  {
    ProtoWriter proc, d;
    proc.varint_field(process_descriptor::kPid, kPid);
    proc.bytes_field(process_descriptor::kProcessName, process_title(header));
    d.varint_field(track_descriptor::kUuid, kProcessUuid);
    d.message_field(track_descriptor::kProcess, proc);
    write_track(out, d);
  }
  PerfettoExport ex(out, plan);
  for (uint32_t v : plan.vcpus) ex.describe_vcpu(v);
  ReadSummary summary;
  TRY(pass(
      [&](const Event& e) {
        ex.event(e);
        ++written;
        return std::ferror(file.get()) == 0;
      },
      summary));
  ex.flush();
  return finish_output(std::move(file), out_path);
}

}  // namespace ringscope::trace
