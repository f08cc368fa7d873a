// The event schema table (event_schema.h): a kind is one row. A test-only
// kind defined here, with nothing but its row, is written to a trace, read
// back, and shown by every reader: JSON, the summary and explanation `show`
// and the viewer print, the exports' titles, the statistics, the CPL filter.
// And the vm_exit access tag: producers set it, readers follow it, an
// untagged (schema-1) event reads as before.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"
#include "ringscope/event_schema.h"
#include "ringscope/explain.h"
#include "ringscope/trace_stats.h"
#include "trace/export_internal.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

using field::kName, field::kValue, field::kCpl, field::kRip, field::kVcpu, field::kSource;

constexpr FieldId kProbeFields[] = {kValue, kName, kRip, kCpl, kVcpu, kSource};
constexpr JsonKey kProbeJson[] = {{"name", kName}, {"value", kValue}, {"rip", kRip}, {"cpl", kCpl}};

// Defined once per process: the registry is global.
EventKind test_kind() {
  static const EventKind k = [] {
    KindSpec spec;
    spec.name = "test_probe";
    spec.fields = kProbeFields;
    spec.json = kProbeJson;
    spec.about = "A kind that exists only in this test.";
    spec.row = TimelineRow::Markers;
    spec.colour = ColourKey::Marker;
    spec.cpl = CplAt::Cpl;
    spec.code = kValue;
    auto defined = define_event_kind(spec);
    EXPECT_TRUE(defined.has_value());
    return defined.value_or(EventKind::Marker);
  }();
  return k;
}

Event probe_event(uint64_t time_ns, uint64_t value) {
  Event e;
  e.time_ns = time_ns;
  e.kind = test_kind();
  e.source = Source::Guest;
  e.name = "hello";
  e.value = value;
  e.rip = 0x401000;
  e.cpl = 3;
  return e;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EventSchema, BuiltinRowsMatchTheEnum) {
  ASSERT_GE(event_kind_count(), kEventKindCount);
  for (int k = 0; k < kEventKindCount; ++k) {
    const KindSpec& s = kind_spec(static_cast<EventKind>(k));
    EXPECT_FALSE(s.name.empty()) << k;
    EXPECT_EQ(kind_from_name(s.name), static_cast<EventKind>(k));
    EXPECT_FALSE(s.fields.empty()) << s.name;
    EXPECT_NE(s.summary, nullptr) << s.name;
    EXPECT_NE(s.explain, nullptr) << s.name;
  }
  for (int f = 0; f < kEventFieldCount; ++f) EXPECT_FALSE(field_spec(static_cast<FieldId>(f)).name.empty()) << f;
}

TEST(EventSchema, TestKindIsNamedAndRefusedTwice) {
  const EventKind k = test_kind();
  EXPECT_EQ(kind_name(k), "test_probe");
  EXPECT_EQ(kind_from_name("test_probe"), k);
  KindSpec again;
  again.name = "test_probe";
  EXPECT_FALSE(define_event_kind(again).has_value());
}

TEST(EventSchema, TestKindRoundTripsThroughTheTraceFile) {
  testing::EventFactory f;
  std::vector<Event> events = {f.io_exit(true, 'h'), probe_event(f.time += 100, 42), probe_event(f.time += 100, 43)};
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].seq = i;
    testing::expect_same_event(events[i], t->events[i]);
  }
}

TEST(EventSchema, TestKindInJsonSummaryAndExplanation) {
  const Event e = probe_event(1000, 42);
  const auto j = nlohmann::ordered_json::parse(event_to_json(e));
  EXPECT_EQ(j["kind"], "test_probe");
  EXPECT_EQ(j["name"], "hello");
  EXPECT_EQ(j["value"], 42);
  EXPECT_EQ(j["cpl"], 3);
  EXPECT_EQ(summarize_event(e), "value 0x2a  name hello  rip 0x401000  cpl 3");
  EXPECT_EQ(explain_event(e), "A kind that exists only in this test.");
  EXPECT_EQ(trace::event_title(e), "test_probe");
  EXPECT_TRUE(event_at_cpl(e, 3));
  EXPECT_FALSE(event_at_cpl(e, 0));
}

TEST(EventSchema, TestKindInExportsAndStats) {
  testing::EventFactory f;
  std::vector<Event> events = {probe_event(f.time += 100, 1), f.io_exit(false, 0), probe_event(f.time += 100, 2)};
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok());

  const auto path =
      (std::filesystem::temp_directory_path() / ("ringscope-" + std::to_string(::getpid()) + "-schema-export.json"))
          .string();
  ASSERT_TRUE(export_trace(*t, ExportFormat::ChromeJson, path).ok());
  const auto doc = nlohmann::json::parse(slurp(path));
  int probes = 0;
  for (const auto& ev : doc["traceEvents"])
    if (ev.value("name", "") == "test_probe") ++probes;
  EXPECT_EQ(probes, 2);
  ASSERT_TRUE(export_trace(*t, ExportFormat::JsonLines, path).ok());
  EXPECT_NE(slurp(path).find("\"kind\":\"test_probe\""), std::string::npos);
  std::filesystem::remove(path);

  const TraceStats st = compute_stats(*t);
  EXPECT_EQ(st.by_kind[static_cast<size_t>(test_kind())], 2u);
}

// ---- the vm_exit access tag ---------------------------------------------------

TEST(EventSchema, AccessTagDecidesTheExitsKeys) {
  testing::EventFactory f;
  Event e = f.io_exit(true, 'h');  // reason 30, untagged: read as a port access, as schema 1 did
  EXPECT_EQ(exit_access(e), AccessKind::Port);
  auto j = nlohmann::ordered_json::parse(event_to_json(e));
  EXPECT_TRUE(j.contains("port"));

  // A VT-x model exit for an MSR: `number` is the MSR, and the tag says so.
  Event m;
  m.kind = EventKind::VmExit;
  m.source = Source::VmxModel;
  m.reason = 32;
  m.access = AccessKind::Msr;
  m.number = 0xc0000080;
  m.direction = Direction::Write;
  j = nlohmann::ordered_json::parse(event_to_json(m));
  EXPECT_EQ(j["msr"], 0xc0000080u);
  EXPECT_FALSE(j.contains("number"));

  // A page-table store carries a direction now; it is still not read as MMIO.
  Event p;
  p.kind = EventKind::VmExit;
  p.source = Source::VmxModel;
  p.reason = 0;
  p.access = AccessKind::PageTableStore;
  p.vector = 14;
  p.gpa = 0x5000;
  p.direction = Direction::Write;
  p.reg = "pte";
  EXPECT_NE(summarize_event(p).find("guest store to its pte"), std::string::npos);
  EXPECT_EQ(explain_event(p).find("MMIO"), std::string::npos);
  j = nlohmann::ordered_json::parse(event_to_json(p));
  EXPECT_EQ(j["register"], "pte");
  EXPECT_FALSE(j.contains("direction"));
}

TEST(EventSchema, AccessTagRoundTrips) {
  testing::EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 20; ++i) {
    Event e = f.io_exit(i % 2 == 0, 'x');
    e.access = i % 3 == 0 ? AccessKind::Port : AccessKind::None;
    events.push_back(e);
  }
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(t->events[i].access, events[i].access) << i;
  EXPECT_EQ(t->header.schema_version, kTraceSchemaVersion);
}

// An irq_inject's path is a tag in the file (field 46, schema 5) that
// survives the codec, and the one every reader shows; an irq_inject written
// before it (the path in `name`) reads the same through every reader.
TEST(EventSchema, IrqViaTagRoundTripsAndOldTracesReadTheSame) {
  std::vector<Event> events = {
      events::irq_inject({100, 0, Source::Vmm}, 0x20),
      events::irq_via_irqfd({200, 0, Source::Vmm}, "virtio-blk", 11),
      events::ipi_inject({300, 1, Source::Emulator}, 0x40, 0, "fixed", 50),
  };
  std::vector<Event> old = events;
  for (Event& e : old) {
    e.name = irq_via_name(e.via);
    e.via = IrqVia::None;
  }
  auto t = read_trace_bytes(testing::write_trace(events));
  auto o = read_trace_bytes(testing::write_trace(old));
  ASSERT_TRUE(t.ok() && o.ok());
  const IrqVia want[] = {IrqVia::KvmInterrupt, IrqVia::Irqfd, IrqVia::Ipi};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(t->events[i].via, want[i]) << i;
    EXPECT_TRUE(t->events[i].name.empty()) << "the tag, not the name, carries it now";
    EXPECT_EQ(irq_via(o->events[i]), want[i]) << i;
    auto jt = nlohmann::ordered_json::parse(event_to_json(t->events[i]));
    auto jo = nlohmann::ordered_json::parse(event_to_json(o->events[i]));
    jt.erase("seq");
    jo.erase("seq");
    EXPECT_EQ(jt, jo) << "the same JSON from either";
    EXPECT_EQ(jt["via"], std::string(irq_via_name(want[i])));
    EXPECT_EQ(summarize_event(t->events[i]), summarize_event(o->events[i]));
    EXPECT_EQ(explain_event(t->events[i]), explain_event(o->events[i]));
  }
  // The three read differently from each other.
  EXPECT_NE(explain_event(t->events[0]), explain_event(t->events[1]));
  EXPECT_NE(explain_event(t->events[1]), explain_event(t->events[2]));
  EXPECT_EQ(field_spec(field::kVia).json_key, "via");
  EXPECT_EQ(field_spec(field::kVia).label(2), "irqfd");
}

}  // namespace
}  // namespace ringscope
