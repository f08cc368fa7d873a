// Exports: Chrome JSON parses and has the expected events; the Perfetto
// protobuf is decoded here by a tiny test-side decoder and checked packet
// by packet (tracks before use, slices balanced, flows paired).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
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
    if (ph == "X") {
      EXPECT_EQ(e["cat"], "vm_exit");
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
  EXPECT_EQ(phases["X"], 10);
  EXPECT_EQ(phases["i"], 10 + 3);  // device events, trap, marker, run_end
  EXPECT_EQ(phases["C"], 1);
  EXPECT_EQ(phases["M"], 1 + 2);  // process name, two vCPU threads
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

TEST(TraceExport, PerfettoProtoIsWellFormed) {
  testing::EventFactory f;
  std::vector<Event> events;
  const Trace t = sample_trace(events, f);
  const auto path = temp_path("export.pftrace");
  auto st = export_trace(t, ExportFormat::PerfettoProto, path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::string bytes = slurp(path);
  std::filesystem::remove(path);

  Message trace_msg;
  ASSERT_TRUE(parse(bytes, trace_msg));
  std::set<uint64_t> tracks, counter_tracks;
  std::map<uint64_t, int> open_slices;  // track -> depth
  std::set<uint64_t> flows, terminating;
  int begins = 0, ends = 0, instants = 0, counters = 0, thread_tracks = 0;
  bool first = true;
  for (const auto& top : trace_msg) {
    ASSERT_EQ(top.number, 1u) << "Trace has only packets";
    ASSERT_EQ(top.wire, 2);
    Message packet;
    ASSERT_TRUE(parse(top.bytes, packet));
    ASSERT_NE(get(packet, 10), nullptr) << "trusted_packet_sequence_id";
    EXPECT_EQ(get(packet, 10)->num, 1u);
    if (first) {
      ASSERT_NE(get(packet, 13), nullptr) << "the first packet clears incremental state";
      EXPECT_EQ(get(packet, 13)->num, 1u);
      first = false;
    }
    if (const auto* td = get(packet, 60)) {
      Message d;
      ASSERT_TRUE(parse(td->bytes, d));
      ASSERT_NE(get(d, 1), nullptr);
      tracks.insert(get(d, 1)->num);
      if (get(d, 4)) {
        ++thread_tracks;
        Message thread;
        ASSERT_TRUE(parse(get(d, 4)->bytes, thread));
        EXPECT_NE(get(thread, 2), nullptr) << "tid";
        EXPECT_NE(get(thread, 5)->bytes.find("vCPU"), std::string::npos);
      }
      if (get(d, 8)) counter_tracks.insert(get(d, 1)->num);
      continue;
    }
    const auto* tev = get(packet, 11);
    ASSERT_NE(tev, nullptr) << "every other packet is a track event";
    ASSERT_NE(get(packet, 8), nullptr) << "timestamp";
    Message te;
    ASSERT_TRUE(parse(tev->bytes, te));
    const uint64_t track = get(te, 11)->num;
    ASSERT_TRUE(tracks.count(track)) << "track described before use";
    const uint64_t type = get(te, 9)->num;
    switch (type) {
      case 1:
        ++begins;
        ++open_slices[track];
        EXPECT_EQ(get(te, 23)->bytes, "io_instruction");
        EXPECT_EQ(get(te, 22)->bytes, "vm_exit");
        break;
      case 2:
        ++ends;
        ASSERT_GT(open_slices[track], 0);
        --open_slices[track];
        break;
      case 3: ++instants; break;
      case 4:
        ++counters;
        EXPECT_TRUE(counter_tracks.count(track));
        EXPECT_EQ(get(te, 30)->num, 10u);
        break;
      default: FAIL() << "unknown type " << type;
    }
    for (const auto* fl : all(te, 47)) {
      EXPECT_EQ(fl->wire, 1) << "flow ids are fixed64";
      flows.insert(fl->num);
    }
    for (const auto* fl : all(te, 48)) terminating.insert(fl->num);
    // Debug annotations carry the JSON keys.
    if (type == 1) {
      std::set<std::string> names;
      for (const auto* a : all(te, 4)) {
        Message ann;
        ASSERT_TRUE(parse(a->bytes, ann));
        names.insert(get(ann, 10)->bytes);
      }
      EXPECT_TRUE(names.count("reason") && names.count("port") && names.count("rip")) << "annotations";
    }
  }
  EXPECT_EQ(thread_tracks, 2);
  EXPECT_EQ(begins, 10);
  EXPECT_EQ(ends, 10);
  EXPECT_EQ(instants, 10 + 3);
  EXPECT_EQ(counters, 1);
  EXPECT_EQ(flows.size(), 10u);
  EXPECT_EQ(flows, terminating);
}

}  // namespace
}  // namespace ringscope
