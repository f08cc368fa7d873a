// Exports: Chrome JSON parses and has the expected events; the Perfetto
// protobuf is decoded here by a tiny test-side decoder and checked packet
// by packet (tracks before use, slices balanced, flows paired).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"
#include "trace_test_util.h"

namespace ringscope {
namespace {

// A run: a few exits with their device events on two vCPUs, a counter, a
// trap, a marker, and the run end.
Trace sample_trace(std::vector<Event>& events, testing::EventFactory& f) {
  for (int i = 0; i < 10; ++i) {
    Event x = f.io_exit(i % 2 == 1, 'h');
    x.vcpu = static_cast<uint32_t>(i % 4 < 2 ? 0 : 1);
    Event d = f.uart_device(i % 2 == 1, 'h');
    d.vcpu = x.vcpu;
    events.push_back(x);
    events.push_back(d);
  }
  Event c;
  c.kind = EventKind::Counter;
  c.name = "exits";
  c.value = 10;
  c.time_ns = f.time += 10;
  events.push_back(c);
  Event trap = f.full(EventKind::Trap);
  trap.time_ns = f.time += 10;
  events.push_back(trap);
  Event marker;
  marker.kind = EventKind::Marker;
  marker.name = "phase";
  marker.time_ns = f.time += 10;
  events.push_back(marker);
  Event end;
  end.kind = EventKind::RunEnd;
  end.time_ns = f.time += 10;
  events.push_back(end);
  auto t = read_trace_bytes(testing::write_trace(events));
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ringscope-" + std::to_string(::getpid()) + "-" + name)).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TraceExport, ChromeJsonParses) {
  testing::EventFactory f;
  std::vector<Event> events;
  const Trace t = sample_trace(events, f);
  const auto path = temp_path("export.json");
  auto st = export_trace(t, ExportFormat::ChromeJson, path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const auto doc = nlohmann::json::parse(slurp(path));
  std::filesystem::remove(path);
  ASSERT_TRUE(doc["traceEvents"].is_array());
  std::map<std::string, int> phases;
  std::set<uint64_t> starts, finishes;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    ++phases[ph];
    if (ph == "X" && e["cat"] == "vm_exit") {
      EXPECT_EQ(e["name"], "io_instruction");
      EXPECT_TRUE(e["dur"].is_number());
      EXPECT_EQ(e["args"]["reason"], 30);
    }
    if (ph == "s") starts.insert(e["id"].get<uint64_t>());
    if (ph == "f") {
      finishes.insert(e["id"].get<uint64_t>());
      EXPECT_EQ(e["bp"], "e");
    }
    if (ph == "C") {
      EXPECT_EQ(e["args"]["value"], 10);
    }
  }
  EXPECT_GT(phases["X"], 10);      // the exits, and the states of the ring and VMX tracks
  EXPECT_EQ(phases["i"], 10 + 3);  // device events, trap, marker, run_end
  EXPECT_EQ(phases["C"], 1);
  EXPECT_GE(phases["M"], 1 + 2 * 2);  // process name, two vCPU threads (name, sort index), the state tracks
  EXPECT_EQ(starts.size(), 10u);
  EXPECT_EQ(starts, finishes);
  EXPECT_EQ(doc["metadata"]["scenario"], "syscalls");
  EXPECT_EQ(doc["metadata"]["complete"], true);
}

TEST(TraceExport, ChromeJsonRefusesHugeTraces) {
  Trace t;
  t.events.resize(2'000'001);
  auto st = export_trace(t, ExportFormat::ChromeJson, temp_path("never.json"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::Usage);
  EXPECT_NE(st.error().message.find("--format perfetto"), std::string::npos) << st.error().message;
}

TEST(TraceExport, UnwritableOutputIsAnIoError) {
  Trace t;
  auto st = export_trace(t, ExportFormat::PerfettoProto, "/nonexistent-dir/out.pftrace");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::IoError);
}

// ---- a minimal protobuf decoder ------------------------------------------
struct ProtoField {
  uint32_t number = 0;
  int wire = 0;
  uint64_t num = 0;   // varint / fixed64
  std::string bytes;  // length-delimited
};
using Message = std::vector<ProtoField>;

bool read_varint(const std::string& s, size_t& i, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (i >= s.size()) return false;
    const auto b = static_cast<uint8_t>(s[i++]);
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

bool parse(const std::string& s, Message& out) {
  size_t i = 0;
  while (i < s.size()) {
    uint64_t key = 0;
    if (!read_varint(s, i, key)) return false;
    ProtoField f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      if (!read_varint(s, i, f.num)) return false;
    } else if (f.wire == 1) {
      if (i + 8 > s.size()) return false;
      for (int b = 7; b >= 0; --b) f.num = (f.num << 8) | static_cast<uint8_t>(s[i + static_cast<size_t>(b)]);
      i += 8;
    } else if (f.wire == 2) {
      uint64_t len = 0;
      if (!read_varint(s, i, len) || len > s.size() - i) return false;
      f.bytes = s.substr(i, len);
      i += len;
    } else {
      return false;
    }
    out.push_back(std::move(f));
  }
  return true;
}

const ProtoField* get(const Message& m, uint32_t number) {
  for (const auto& f : m) {
    if (f.number == number) return &f;
  }
  return nullptr;
}
std::vector<const ProtoField*> all(const Message& m, uint32_t number) {
  std::vector<const ProtoField*> v;
  for (const auto& f : m) {
    if (f.number == number) v.push_back(&f);
  }
  return v;
}

// ---- reading the protobuf back with Perfetto's own field numbers ----------
// (protos/perfetto/trace/trace_packet.proto, trace_packet_defaults.proto,
// clock_snapshot.proto, interned_data/interned_data.proto,
// track_event/{track_event,track_descriptor,debug_annotation}.proto): the
// interning tables, the sequence's defaults and the incremental clock are
// resolved the way trace_processor resolves them, and every packet is checked
// against the rules of the sequence.
namespace pf {
constexpr uint32_t kPacket = 1;
constexpr uint32_t kClockSnapshot = 6, kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11, kInternedData = 12,
                   kSequenceFlags = 13, kTimestampClockId = 58, kDefaults = 59, kTrackDescriptor = 60;
constexpr uint64_t kStateCleared = 1, kNeedsState = 2;
constexpr uint32_t kTrackEventDefaults = 11, kDefaultTrackUuid = 11;  // TracePacketDefaults, TrackEventDefaults
constexpr uint32_t kClocks = 1, kClockId = 1, kClockTs = 2, kIncremental = 3;                   // ClockSnapshot(.Clock)
constexpr uint32_t kCategories = 1, kEventNames = 2, kAnnotationNames = 3, kStringValues = 29;  // InternedData
constexpr uint32_t kIid = 1, kInternedName = 2;
constexpr uint32_t kUuid = 1, kTrackName = 2, kParentUuid = 5, kThread = 4, kCounter = 8;  // TrackDescriptor
constexpr uint32_t kCategoryIids = 3, kAnnotations = 4, kType = 9, kNameIid = 10, kTrackUuid = 11, kCategoryStr = 22,
                   kNameStr = 23, kCounterValue = 30, kFlowIds = 47, kTerminatingFlowIds = 48;  // TrackEvent
constexpr uint32_t kAnnNameIid = 1, kAnnUint = 3, kAnnString = 6, kAnnName = 10, kAnnStringIid = 17;
}  // namespace pf

struct DecodedEvent {
  uint64_t ts = 0, track = 0, type = 0;
  std::string name, category;
  std::map<std::string, ProtoField> args;  // the value field of each annotation, strings resolved into `bytes`
  std::vector<uint64_t> flows, terminating;
  uint64_t counter = 0;
};
struct Slice {
  std::string name;
  uint64_t begin, end;
  bool operator==(const Slice&) const = default;
};
struct DecodedTrace {
  std::map<uint64_t, Message> tracks;  // uuid -> descriptor
  std::vector<DecodedEvent> events;
  std::map<uint32_t, std::map<uint64_t, std::string>> interned;  // InternedData field -> iid -> string
  size_t packets = 0, interned_entries = 0, inline_names = 0;

  std::string track_name(uint64_t uuid) const {
    const auto* n = get(tracks.at(uuid), pf::kTrackName);
    return n ? n->bytes : std::string();
  }
  // The track with this name whose parent is `parent`.
  std::optional<uint64_t> child(uint64_t parent, const std::string& name) const {
    for (const auto& [uuid, d] : tracks) {
      const auto* p = get(d, pf::kParentUuid);
      if (p && p->num == parent && track_name(uuid) == name) return uuid;
    }
    return std::nullopt;
  }
  // Slices of a track from its begin/end pairs, in order of their end.
  std::vector<Slice> slices(uint64_t track) const {
    std::vector<Slice> out, open;
    for (const auto& e : events) {
      if (e.track != track) continue;
      if (e.type == 1) open.push_back({e.name, e.ts, 0});
      if (e.type == 2) {
        EXPECT_FALSE(open.empty()) << "SLICE_END without a begin on track " << track;
        if (open.empty()) continue;
        EXPECT_GE(e.ts, open.back().begin);
        out.push_back({open.back().name, open.back().begin, e.ts});
        open.pop_back();
      }
    }
    EXPECT_TRUE(open.empty()) << open.size() << " slices never end on track " << track;
    return out;
  }
};

void decode_perfetto(const std::string& bytes, DecodedTrace& out) {
  Message trace_msg;
  ASSERT_TRUE(parse(bytes, trace_msg));
  uint64_t default_clock = 0, incremental_clock = 0, incremental_ns = 0, default_track = 0;
  for (const auto& top : trace_msg) {
    ASSERT_EQ(top.number, pf::kPacket) << "Trace has only packets";
    ASSERT_EQ(top.wire, 2);
    Message packet;
    ASSERT_TRUE(parse(top.bytes, packet));
    const bool first = out.packets++ == 0;
    ASSERT_NE(get(packet, pf::kSequenceId), nullptr) << "trusted_packet_sequence_id";
    EXPECT_EQ(get(packet, pf::kSequenceId)->num, 1u);
    const auto* flags = get(packet, pf::kSequenceFlags);
    ASSERT_NE(flags, nullptr) << "packet " << out.packets << " has no sequence_flags";
    if (first) {
      EXPECT_EQ(flags->num, pf::kStateCleared) << "the first packet clears the incremental state";
      const auto* defaults = get(packet, pf::kDefaults);
      ASSERT_NE(defaults, nullptr) << "the first packet sets the sequence's defaults";
      Message d, ted;
      ASSERT_TRUE(parse(defaults->bytes, d));
      ASSERT_NE(get(d, pf::kTimestampClockId), nullptr);
      default_clock = get(d, pf::kTimestampClockId)->num;
      if (const auto* te = get(d, pf::kTrackEventDefaults)) {
        ASSERT_TRUE(parse(te->bytes, ted));
        if (const auto* u = get(ted, pf::kDefaultTrackUuid)) default_track = u->num;
      }
    } else {
      EXPECT_EQ(flags->num, pf::kNeedsState) << "every later packet uses the sequence's state";
    }
    if (const auto* cs = get(packet, pf::kClockSnapshot)) {
      Message snap;
      ASSERT_TRUE(parse(cs->bytes, snap));
      for (const auto* c : all(snap, pf::kClocks)) {
        Message clock;
        ASSERT_TRUE(parse(c->bytes, clock));
        if (get(clock, pf::kIncremental) && get(clock, pf::kIncremental)->num) {
          incremental_clock = get(clock, pf::kClockId)->num;
          incremental_ns = get(clock, pf::kClockTs)->num;
          EXPECT_GE(incremental_clock, 64u) << "an incremental clock is sequence-scoped (ids 64..127)";
        }
      }
      continue;
    }
    // Interned entries first: a packet may use what it defines.
    if (const auto* idata = get(packet, pf::kInternedData)) {
      Message m;
      ASSERT_TRUE(parse(idata->bytes, m));
      for (const auto& f : m) {
        Message entry;
        ASSERT_TRUE(parse(f.bytes, entry));
        ASSERT_NE(get(entry, pf::kIid), nullptr);
        ASSERT_NE(get(entry, pf::kInternedName), nullptr);
        const uint64_t iid = get(entry, pf::kIid)->num;
        EXPECT_NE(iid, 0u) << "iid 0 is invalid";
        EXPECT_EQ(out.interned[f.number].count(iid), 0u) << "iid " << iid << " defined twice in table " << f.number;
        out.interned[f.number][iid] = get(entry, pf::kInternedName)->bytes;
        ++out.interned_entries;
      }
    }
    auto lookup = [&](uint32_t table, uint64_t iid) {
      const auto& t = out.interned[table];
      auto it = t.find(iid);
      EXPECT_NE(it, t.end()) << "iid " << iid << " of table " << table << " used before it is defined";
      return it == t.end() ? std::string() : it->second;
    };
    if (const auto* td = get(packet, pf::kTrackDescriptor)) {
      Message d;
      ASSERT_TRUE(parse(td->bytes, d));
      ASSERT_NE(get(d, pf::kUuid), nullptr);
      const uint64_t uuid = get(d, pf::kUuid)->num;
      EXPECT_EQ(out.tracks.count(uuid), 0u) << "track " << uuid << " described twice";
      if (const auto* parent = get(d, pf::kParentUuid)) {
        EXPECT_TRUE(out.tracks.count(parent->num)) << "parent track described before its child";
      }
      out.tracks[uuid] = d;
      continue;
    }
    const auto* tev = get(packet, pf::kTrackEvent);
    ASSERT_NE(tev, nullptr) << "every other packet is a track event";
    const auto* ts = get(packet, pf::kTimestamp);
    ASSERT_NE(ts, nullptr) << "timestamp";
    const auto* clock = get(packet, pf::kTimestampClockId);
    DecodedEvent e;
    if ((clock ? clock->num : default_clock) == incremental_clock) {
      incremental_ns += ts->num;
      e.ts = incremental_ns;
    } else {
      e.ts = ts->num;
    }
    Message te;
    ASSERT_TRUE(parse(tev->bytes, te));
    e.track = get(te, pf::kTrackUuid) ? get(te, pf::kTrackUuid)->num : default_track;
    EXPECT_TRUE(out.tracks.count(e.track)) << "track " << e.track << " described before use";
    ASSERT_NE(get(te, pf::kType), nullptr);
    e.type = get(te, pf::kType)->num;
    if (const auto* n = get(te, pf::kNameIid)) e.name = lookup(pf::kEventNames, n->num);
    if (const auto* n = get(te, pf::kNameStr)) {
      e.name = n->bytes;
      ++out.inline_names;
    }
    for (const auto* c : all(te, pf::kCategoryIids)) e.category += lookup(pf::kCategories, c->num);
    if (const auto* c = get(te, pf::kCategoryStr)) e.category = c->bytes;
    for (const auto* a : all(te, pf::kAnnotations)) {
      Message ann;
      ASSERT_TRUE(parse(a->bytes, ann));
      std::string key;
      if (const auto* n = get(ann, pf::kAnnNameIid)) key = lookup(pf::kAnnotationNames, n->num);
      if (const auto* n = get(ann, pf::kAnnName)) key = n->bytes;
      for (const auto& f : ann) {
        if (f.number == pf::kAnnNameIid || f.number == pf::kAnnName) continue;
        ProtoField v = f;
        if (f.number == pf::kAnnStringIid) {
          v.number = pf::kAnnString;
          v.bytes = lookup(pf::kStringValues, f.num);
        }
        e.args[key] = v;
      }
    }
    for (const auto* fl : all(te, pf::kFlowIds)) {
      EXPECT_EQ(fl->wire, 1) << "flow ids are fixed64";
      e.flows.push_back(fl->num);
    }
    for (const auto* fl : all(te, pf::kTerminatingFlowIds)) e.terminating.push_back(fl->num);
    if (const auto* c = get(te, pf::kCounterValue)) e.counter = c->num;
    out.events.push_back(std::move(e));
  }
}

TEST(TraceExport, PerfettoProtoIsWellFormed) {
  testing::EventFactory f;
  std::vector<Event> events;
  const Trace t = sample_trace(events, f);
  const auto path = temp_path("export.pftrace");
  auto st = export_trace(t, ExportFormat::PerfettoProto, path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::string bytes = slurp(path);
  std::filesystem::remove(path);

  DecodedTrace d;
  ASSERT_NO_FATAL_FAILURE(decode_perfetto(bytes, d));
  int thread_tracks = 0;
  std::set<uint64_t> vcpu_tracks;
  for (const auto& [uuid, desc] : d.tracks) {
    if (const auto* th = get(desc, pf::kThread)) {
      ++thread_tracks;
      vcpu_tracks.insert(uuid);
      Message thread;
      ASSERT_TRUE(parse(th->bytes, thread));
      EXPECT_NE(get(thread, 2), nullptr) << "tid";
      EXPECT_NE(get(thread, 5)->bytes.find("vCPU"), std::string::npos);
    }
  }
  EXPECT_EQ(thread_tracks, 2);
  int exits = 0, instants = 0, counters = 0;
  std::set<uint64_t> flows, terminating;
  for (const auto& e : d.events) {
    if (e.type == 1 && vcpu_tracks.count(e.track)) {
      ++exits;
      EXPECT_EQ(e.name, "io_instruction");
      EXPECT_EQ(e.category, "vm_exit,kvm-exit");
      EXPECT_TRUE(e.args.count("reason") && e.args.count("port") && e.args.count("rip")) << "annotations";
      EXPECT_EQ(e.args.count("time_ns") + e.args.count("vcpu") + e.args.count("kind"), 0u)
          << "what the packet carries is not repeated";
      EXPECT_EQ(e.args.count("reason_name"), 0u) << "the slice's name says it";
      const std::string dir = e.args.at("direction").bytes;  // other strings stay, interned
      EXPECT_TRUE(dir == "in" || dir == "out") << dir;
      EXPECT_TRUE(e.args.count("seq")) << "an exit keeps its seq";
    }
    if (e.type == 3) ++instants;
    if (e.type == 4) {
      ++counters;
      EXPECT_TRUE(get(d.tracks.at(e.track), pf::kCounter));
      EXPECT_EQ(e.counter, 10u);
    }
    flows.insert(e.flows.begin(), e.flows.end());
    terminating.insert(e.terminating.begin(), e.terminating.end());
  }
  for (uint64_t v : vcpu_tracks) {
    EXPECT_EQ(d.slices(v).size(), v == *vcpu_tracks.begin() ? 6u : 4u) << "the exits of each vCPU";
  }
  EXPECT_EQ(exits, 10);
  EXPECT_EQ(instants, 10 + 3);
  EXPECT_EQ(counters, 1);
  EXPECT_EQ(flows.size(), 10u);
  EXPECT_EQ(flows, terminating);
  EXPECT_EQ(d.inline_names, 0u) << "every name is interned";
}

// The lesson's tracks: ring, VMX root / non-root and a marker phase on one
// vCPU, with known times; the steps' repeated strings interned once.
TEST(TraceExport, PerfettoCarriesTheLesson) {
  std::vector<Event> events;
  auto add = [&](EventKind kind, uint64_t t) -> Event& {
    Event& e = events.emplace_back();
    e.kind = kind;
    e.time_ns = t;
    return e;
  };
  auto step = [&](uint64_t t, uint8_t cpl) {
    Event& s = add(EventKind::Step, t);
    s.source = Source::SingleStep;
    s.cpl = cpl;
    s.rip = 0x100000;
    s.text = "\x0f\x05";
  };
  const uint64_t t0 = 5'000'000'000;
  for (int i = 0; i < 5; ++i) step(t0 + 100 * i, 0);
  {
    Event& r = add(EventKind::TrapReturn, t0 + 1000);
    r.from_cpl = 0;
    r.to_cpl = 3;
    r.cause = TrapCause::Iret;
  }
  step(t0 + 1500, 3);
  {
    Event& tr = add(EventKind::Trap, t0 + 2000);
    tr.from_cpl = 3;
    tr.to_cpl = 0;
    tr.cause = TrapCause::Syscall;
  }
  {
    Event& m = add(EventKind::Marker, t0 + 2500);
    m.name = "write loop";
    m.phase = MarkerPhase::Begin;
  }
  {
    Event& x = add(EventKind::VmExit, t0 + 3000);
    x.source = Source::KvmExit;
    x.reason = 30;
    x.duration_ns = 500;
    x.port = 0x3f8;
    x.direction = Direction::Out;
    x.size = 1;
  }
  {
    Event& dev = add(EventKind::Device, t0 + 3200);  // inside the exit: the access it caused
    dev.source = Source::Vmm;
    dev.device = "uart";
    dev.reg = "THR";
    dev.direction = Direction::Write;
  }
  for (int i = 0; i < 5; ++i) step(t0 + 4000 + 100 * i, 0);
  {
    Event& m = add(EventKind::Marker, t0 + 5000);
    m.name = "write loop";
    m.phase = MarkerPhase::End;
  }
  add(EventKind::RunEnd, t0 + 6000);
  auto read = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(read.ok()) << read.error().message;
  const auto path = temp_path("lesson.pftrace");
  auto st = export_trace(read.value(), ExportFormat::PerfettoProto, path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::string bytes = slurp(path);
  std::filesystem::remove(path);

  DecodedTrace d;
  ASSERT_NO_FATAL_FAILURE(decode_perfetto(bytes, d));
  const uint64_t vcpu0 = [&] {
    for (const auto& [uuid, desc] : d.tracks)
      if (get(desc, pf::kThread)) return uuid;
    return uint64_t{0};
  }();
  ASSERT_NE(vcpu0, 0u);
  const auto ring = d.child(vcpu0, "ring (CPL)");
  const auto vmx = d.child(vcpu0, "VMX");
  const auto phases = d.child(vcpu0, "phases");
  ASSERT_TRUE(ring && vmx && phases) << "the lesson's tracks sit below the vCPU's";
  const uint64_t end = t0 + 6000;
  EXPECT_EQ(
      d.slices(*ring),
      (std::vector<Slice>{{"ring 0", t0, t0 + 1000}, {"ring 3", t0 + 1000, t0 + 2000}, {"ring 0", t0 + 2000, end}}));
  EXPECT_EQ(d.slices(*vmx), (std::vector<Slice>{{"VMX non-root (guest)", t0, t0 + 3000},
                                                {"VMX root (hypervisor)", t0 + 3000, t0 + 3500},
                                                {"VMX non-root (guest)", t0 + 3500, end}}));
  EXPECT_EQ(d.slices(*phases), (std::vector<Slice>{{"write loop", t0 + 2500, t0 + 5000}}));
  EXPECT_EQ(d.slices(vcpu0), (std::vector<Slice>{{"io_instruction", t0 + 3000, t0 + 3500}}));

  // Interning: each string once, however many events use it.
  size_t steps = 0;
  for (const auto& e : d.events) {
    if (e.name != "step") continue;
    ++steps;
    EXPECT_EQ(e.category, "step,single-step");
    EXPECT_EQ(e.args.at("bytes").bytes, "0f05");
    EXPECT_EQ(e.args.count("cpl"), 0u) << "the ring track carries it";
    EXPECT_EQ(e.args.count("seq"), 0u) << "a step's seq is left out";
    EXPECT_EQ(e.args.at("rip").num, 0x100000u);
  }
  EXPECT_EQ(steps, 11u);
  EXPECT_EQ(d.inline_names, 0u);
  auto defined = [&](uint32_t table, const std::string& s) {
    size_t n = 0;
    for (const auto& [iid, v] : d.interned[table]) n += v == s;
    return n;
  };
  EXPECT_EQ(defined(pf::kEventNames, "step"), 1u);
  EXPECT_EQ(defined(pf::kCategories, "step,single-step"), 1u);
  EXPECT_EQ(defined(pf::kAnnotationNames, "rip"), 1u);
  size_t hex = 0;
  for (const auto& [iid, v] : d.interned[pf::kStringValues]) hex += v == "0f05";
  EXPECT_EQ(hex, 1u);
  EXPECT_EQ(defined(pf::kEventNames, "write loop"), 1u) << "the marker's instant and its phase slice share one name";
}

TEST(TraceExport, ChromeJsonCarriesTheLesson) {
  testing::EventFactory f;
  std::vector<Event> events;
  const Trace t = sample_trace(events, f);
  const auto path = temp_path("lesson.json");
  ASSERT_TRUE(export_trace(t, ExportFormat::ChromeJson, path).ok());
  const auto doc = nlohmann::json::parse(slurp(path));
  std::filesystem::remove(path);
  std::map<std::string, uint64_t> tid_of;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") tid_of[e["args"]["name"]] = e["tid"].get<uint64_t>();
  ASSERT_TRUE(tid_of.count("vCPU 0 VMX") && tid_of.count("vCPU 1 VMX"));
  // VMX states on vCPU 0 tile its time: non-root, then root per exit.
  std::vector<std::pair<double, double>> spans;
  size_t roots = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "X" || e["tid"].get<uint64_t>() != tid_of["vCPU 0 VMX"]) continue;
    spans.emplace_back(e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>());
    roots += e["name"] == "VMX root (hypervisor)";
  }
  EXPECT_EQ(roots, 6u) << "one root state per exit of vCPU 0";
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) EXPECT_NEAR(spans[i].first, spans[i - 1].second, 1e-6);
}

}  // namespace
}  // namespace ringscope
