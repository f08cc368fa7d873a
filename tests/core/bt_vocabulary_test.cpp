// The bt mode's vocabulary (trace schema 3): world_switch, bt_translate and
// bt_callout, built with their constructors (events.h), through the trace
// codec, the JSON form, the summaries and explanations, the exports' titles
// and the one event filter; the instruction table; and traces of schema 2
// still read.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "nlohmann/json.hpp"
#include "ringscope/bt_insns.h"
#include "ringscope/event_filter.h"
#include "ringscope/event_schema.h"
#include "ringscope/explain.h"
#include "ringscope/trace_stats.h"
#include "trace/crc32.h"
#include "trace/export_internal.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

using nlohmann::ordered_json;

// A system call under bt: direct -> translated, the kernel's callouts, back.
std::vector<Event> syscall_round_trip() {
  using events::At;
  std::vector<Event> v;
  v.push_back(events::world_switch(At{1000, 0, Source::Vmm}, BtWorld::Direct, BtWorld::Translated, TrapCause::Syscall,
                                   0, 0x401020, 0xffffffff80001000, 3, 850));
  v.push_back(events::bt_translate(At{2000, 0, Source::Emulator}, 0xffffffff80001000, 42, 12,
                                   bt_insn_bit(BtInsn::Cli) | bt_insn_bit(BtInsn::Out), 2, 3100));
  Event out = events::bt_callout(At{3000, 0, Source::Emulator}, BtInsn::Out, 0xffffffff80001010, 0, 400);
  events::port_access(out, 0x3f8, 1, Direction::Out, 'h');
  v.push_back(out);
  Event cr = events::bt_callout(At{3500, 0, Source::Emulator}, BtInsn::MovCr, 0xffffffff80001020, 0, 600);
  events::cr_access(cr, "cr3", Direction::Write, 0x5000);
  v.push_back(cr);
  Event popf = events::bt_callout(At{3700, 0, Source::Emulator}, BtInsn::Popf, 0xffffffff80001030, 0, 90);
  events::callout_value(popf, 0x202);
  v.push_back(popf);
  Event intn = events::bt_callout(At{3800, 0, Source::Emulator}, BtInsn::IntN, 0xffffffff80001040, 0);
  events::callout_vector(intn, 0x40);
  v.push_back(intn);
  v.push_back(events::world_switch(At{4000, 0, Source::Vmm}, BtWorld::Translated, BtWorld::Direct, TrapCause::Sysret, 0,
                                   0xffffffff80001050, 0x401022, 0, 700));
  v.push_back(events::world_switch(At{5000, 0, Source::Vmm}, BtWorld::Direct, BtWorld::Translated, TrapCause::Exception,
                                   14, 0x401100, 0xffffffff80002000, 3));
  return v;
}

TEST(BtVocabulary, KindsAreNamedInTheSchema) {
  EXPECT_EQ(kind_name(EventKind::WorldSwitch), "world_switch");
  EXPECT_EQ(kind_name(EventKind::BtTranslate), "bt_translate");
  EXPECT_EQ(kind_name(EventKind::BtCallout), "bt_callout");
  EXPECT_EQ(kind_from_name("world_switch"), EventKind::WorldSwitch);
  EXPECT_EQ(world_name(BtWorld::Translated), "translated");
  EXPECT_EQ(cause_name(TrapCause::Halt), "hlt");
  EXPECT_GE(kTraceSchemaVersion, 3u);
}

TEST(BtVocabulary, InstructionTableIsCompleteAndNamesRoundTrip) {
  for (int i = 1; i < kBtInsnCount; ++i) {
    const auto insn = static_cast<BtInsn>(i);
    const BtInsnInfo& info = bt_insn_info(insn);
    EXPECT_EQ(info.insn, insn);
    EXPECT_FALSE(info.name.empty()) << i;
    EXPECT_FALSE(info.why.empty()) << info.name;
    EXPECT_EQ(bt_insn_from_name(info.name), insn);
  }
  EXPECT_FALSE(bt_insn_from_name(""));
  EXPECT_FALSE(bt_insn_from_name("mov"));
  EXPECT_EQ(bt_insn_info(BtInsn::Popf).cls, BtInsnClass::Sensitive);  // Robin & Irvine's example
  EXPECT_EQ(bt_insn_info(BtInsn::Out).cls, BtInsnClass::Privileged);
  EXPECT_EQ(bt_insn_mask_names(bt_insn_bit(BtInsn::Out) | bt_insn_bit(BtInsn::Cli)), "cli, out");
  EXPECT_EQ(bt_insn_mask_names(0), "");
}

TEST(BtVocabulary, EventsRoundTripThroughTheTraceFile) {
  std::vector<Event> events = syscall_round_trip();
  testing::EventFactory f;
  for (int i = 0; i < 30; ++i) {
    events.push_back(f.full(static_cast<EventKind>(kEventKindCount - 3 + i % 3)));
    events.back().access = static_cast<AccessKind>(i % kAccessKindCount);
  }
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->events.size(), events.size());
  EXPECT_EQ(t->header.schema_version, kTraceSchemaVersion);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].seq = i;
    testing::expect_same_event(events[i], t->events[i]);
  }
}

TEST(BtVocabulary, JsonKeys) {
  const std::vector<Event> v = syscall_round_trip();
  auto j = ordered_json::parse(event_to_json(v[0]));
  EXPECT_EQ(j["kind"], "world_switch");
  EXPECT_EQ(j["from_world"], "direct");
  EXPECT_EQ(j["to_world"], "translated");
  EXPECT_EQ(j["cause"], "syscall");
  EXPECT_FALSE(j.contains("vector"));  // a system call has none
  EXPECT_EQ(j["rip"], 0x401020u);
  EXPECT_EQ(j["rip_to"], 0xffffffff80001000u);
  EXPECT_EQ(j["from_cpl"], 3);
  EXPECT_EQ(j["to_cpl"], 0);
  EXPECT_FALSE(j.contains("cpl"));
  EXPECT_EQ(j["duration_ns"], 850);

  j = ordered_json::parse(event_to_json(v[7]));
  EXPECT_EQ(j["cause"], "exception");
  EXPECT_EQ(j["vector"], 14);
  EXPECT_EQ(j["vector_name"], "#PF page fault");

  j = ordered_json::parse(event_to_json(v[1]));
  EXPECT_EQ(j["kind"], "bt_translate");
  EXPECT_EQ(j["length"], 42);
  EXPECT_EQ(j["instructions"], 12);
  EXPECT_EQ(j["sensitive"], ordered_json::array({"cli", "out"}));
  EXPECT_EQ(j["sensitive_count"], 2);

  j = ordered_json::parse(event_to_json(v[2]));
  EXPECT_EQ(j["kind"], "bt_callout");
  EXPECT_EQ(j["instruction"], "out");
  EXPECT_EQ(j["port"], 0x3f8);
  EXPECT_EQ(j["direction"], "out");
  EXPECT_EQ(j["value"], 'h');

  j = ordered_json::parse(event_to_json(v[3]));
  EXPECT_EQ(j["instruction"], "mov_cr");
  EXPECT_EQ(j["register"], "cr3");
  EXPECT_EQ(j["direction"], "write");
  EXPECT_EQ(j["value"], 0x5000);

  j = ordered_json::parse(event_to_json(v[4]));
  EXPECT_EQ(j["instruction"], "popf");
  EXPECT_EQ(j["value"], 0x202);
  EXPECT_FALSE(j.contains("port"));

  j = ordered_json::parse(event_to_json(v[5]));
  EXPECT_EQ(j["vector"], 0x40);
  EXPECT_FALSE(j.contains("value"));
}

TEST(BtVocabulary, SummariesExplanationsAndTitles) {
  const std::vector<Event> v = syscall_round_trip();
  EXPECT_EQ(summarize_event(v[0]),
            "direct -> translated  syscall  cpl 3->0  rip 0x401020 -> 0xffffffff80001000  850 ns");
  EXPECT_EQ(summarize_event(v[1]),
            "block 0xffffffff80001000  42 bytes  12 instructions  sensitive 2: cli, out  3.1 µs");
  EXPECT_EQ(summarize_event(v[2]), "out  out 0x3f8 size 1 value 0x68 'h'  rip 0xffffffff80001010 cpl 0  400 ns");
  EXPECT_EQ(summarize_event(v[7]).find("#PF page fault") != std::string::npos, true);
  EXPECT_NE(explain_event(v[0]).find("two world switches"), std::string::npos);
  EXPECT_NE(explain_event(v[1]).find("translation cache"), std::string::npos);
  EXPECT_NE(explain_event(v[2]).find("no hardware exit"), std::string::npos);
  EXPECT_NE(explain_event(v[4]).find("sensitive but unprivileged"), std::string::npos);
  EXPECT_NE(explain_event(v[6]).find("directly on the CPU"), std::string::npos);
  EXPECT_EQ(trace::event_title(v[0]), "direct -> translated (syscall)");
  EXPECT_EQ(trace::event_title(v[1]), "translate 0xffffffff80001000");
  EXPECT_EQ(trace::event_title(v[2]), "callout out");
}

// The monitor's work that took time is a slice in the exports, named for people.
// A store into the guest's page tables, traced: a callout of its own class,
// with the entry, its address and the value in the trace, JSON and words.
TEST(BtVocabulary, PageTableStoreCallout) {
  const BtInsnInfo& row = bt_insn_info(BtInsn::PtStore);
  EXPECT_EQ(row.name, "pt_store");
  EXPECT_EQ(row.cls, BtInsnClass::Traced);
  EXPECT_EQ(bt_insn_class_name(row.cls), "traced");
  Event e = events::bt_callout(events::At{100, 0, Source::Emulator}, BtInsn::PtStore, 0x100fd8, 0, 250);
  events::callout_page_table_store(e, "pte", 0x2a0018, 8, 0x2a3067);
  std::vector<Event> v{e};
  auto t = read_trace_bytes(testing::write_trace(v));
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->events.size(), 1u);
  v[0].seq = 0;
  testing::expect_same_event(v[0], t->events[0]);
  auto j = ordered_json::parse(event_to_json(t->events[0]));
  EXPECT_EQ(j["instruction"], "pt_store");
  EXPECT_EQ(j["register"], "pte");
  EXPECT_EQ(j["gpa"], 0x2a0018);
  EXPECT_EQ(j["value"], 0x2a3067);
  EXPECT_FALSE(j.contains("vector")) << "a traced store is no exception";
  EXPECT_NE(summarize_event(e).find("pte at gpa 0x2a0018 value 0x2a3067"), std::string::npos) << summarize_event(e);
  EXPECT_NE(explain_event(e).find("traces"), std::string::npos);
}

TEST(BtVocabulary, ExportsNameTheKindsAndSliceTheMonitorsWork) {
  std::vector<Event> events = syscall_round_trip();
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok());
  const auto path =
      (std::filesystem::temp_directory_path() / ("ringscope-" + std::to_string(::getpid()) + "-bt-export.json"))
          .string();
  ASSERT_TRUE(export_trace(*t, ExportFormat::ChromeJson, path).ok());
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  std::map<std::string, std::string> phase_of;
  for (const auto& ev : doc["traceEvents"]) phase_of[ev.value("name", "")] = ev.value("ph", "");
  EXPECT_EQ(phase_of["direct -> translated (syscall)"], "X");
  EXPECT_EQ(phase_of["callout out"], "X");
  EXPECT_EQ(phase_of["translate 0xffffffff80001000"], "X");
  EXPECT_EQ(phase_of["callout int"], "i");  // no duration recorded: an instant
  std::filesystem::remove(path);
}

TEST(BtVocabulary, FilterKeys) {
  const std::vector<Event> v = syscall_round_trip();
  auto count = [&](const EventFilter& f) {
    int n = 0;
    for (const Event& e : v) n += f.matches(e);
    return n;
  };
  EventFilter kind;
  kind.add_kind(EventKind::WorldSwitch);
  EXPECT_EQ(count(kind), 3);
  EventFilter cause;
  cause.cause = TrapCause::Syscall;
  EXPECT_EQ(count(cause), 1);
  EventFilter out;
  out.insn = BtInsn::Out;
  EXPECT_EQ(count(out), 2);  // the callout and the block that holds it
  EventFilter port;
  port.port = 0x3f8;
  EXPECT_EQ(count(port), 1);
  EventFilter vector;
  vector.vector = 14;
  EXPECT_EQ(count(vector), 1);
  EventFilter to_direct;
  to_direct.to_world = BtWorld::Direct;
  EXPECT_EQ(count(to_direct), 1);
  EventFilter user;
  user.cpl = 3;
  EXPECT_EQ(count(user), 3);  // the switches that left ring 3 or entered it
  EventFilter value;
  value.value = 0x202;
  EXPECT_EQ(count(value), 1);  // popf's; a translate's mask is not a value
  EXPECT_EQ(cause_from_name("hlt"), TrapCause::Halt);
  EXPECT_EQ(world_from_name("translated"), BtWorld::Translated);
  EXPECT_FALSE(world_from_name(""));
}

TEST(BtVocabulary, StatsCountTheCacheCalloutsSwitchesAndTime) {
  std::vector<Event> events = syscall_round_trip();
  // A second pass through the same out: the hottest site.
  Event again = events[2];
  again.time_ns = 4500;
  events.insert(events.begin() + 7, again);
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok());
  const TraceStats st = compute_stats(*t);
  const BtStats& b = st.bt;
  ASSERT_TRUE(b.any());
  EXPECT_EQ(b.blocks, 1u);
  EXPECT_EQ(b.block_bytes, 42u);
  EXPECT_EQ(b.block_instructions, 12u);
  EXPECT_EQ(b.sensitive_found, 2u);
  EXPECT_EQ(b.callouts, 5u);
  EXPECT_EQ(b.callouts_by_insn[static_cast<size_t>(BtInsn::Out)], 2u);
  EXPECT_EQ(b.callout_ns_by_insn[static_cast<size_t>(BtInsn::Out)], 800u);
  EXPECT_EQ(b.callout_sites, 4u);
  ASSERT_FALSE(b.hottest.empty());
  EXPECT_EQ(b.hottest[0].rip, 0xffffffff80001010u);
  EXPECT_EQ(b.hottest[0].insn, BtInsn::Out);
  EXPECT_EQ(b.hottest[0].count, 2u);
  EXPECT_EQ(b.world_switches, 3u);
  EXPECT_EQ(b.to_translated, 2u);
  EXPECT_EQ(b.to_direct, 1u);
  ASSERT_EQ(b.causes.size(), 3u);
  // Translated from the first switch (1000) to sysretq (4000), direct until the #PF (5000).
  EXPECT_EQ(b.translated_ns, 3000u);
  EXPECT_EQ(b.direct_ns, 1000u);
  EXPECT_EQ(b.monitor_ns, 850u + 3100 + 400 + 400 + 600 + 90 + 700);

  const auto j = nlohmann::json::parse(stats_to_json(st));
  EXPECT_EQ(j["bt"]["translation_cache"]["blocks"], 1);
  EXPECT_EQ(j["bt"]["callouts"]["by_instruction"]["out"]["count"], 2);
  EXPECT_EQ(j["bt"]["callouts"]["hottest"][0]["instruction"], "out");
  EXPECT_EQ(j["bt"]["world_switches"]["count"], 3);
  EXPECT_EQ(j["bt"]["time"]["direct_ns"], 1000);
}

TEST(BtVocabulary, StatsOfAnotherModeHaveNoBtSection) {
  testing::EventFactory f;
  std::vector<Event> events = {f.io_exit(true, 'h'), f.uart_device(true, 'h')};
  auto t = read_trace_bytes(testing::write_trace(events));
  ASSERT_TRUE(t.ok());
  const TraceStats st = compute_stats(*t);
  EXPECT_FALSE(st.bt.any());
  EXPECT_FALSE(nlohmann::json::parse(stats_to_json(st)).contains("bt"));
}

// A trace written before schema 3 (its header says 2) still reads; one from
// a newer schema is refused with a sentence.
TEST(BtVocabulary, OlderSchemaReadsNewerIsRefused) {
  testing::EventFactory f;
  std::vector<Event> events = {f.io_exit(true, 'h'), f.uart_device(true, 'h')};
  std::vector<uint8_t> bytes = testing::write_trace(events);
  auto with_schema = [&](uint32_t version) {
    std::vector<uint8_t> b = bytes;
    uint32_t len = 0;
    std::memcpy(&len, &b[16], 4);
    std::memcpy(&b[12], &version, 4);
    const uint32_t crc = trace::crc32(b.data(), 20 + len);
    std::memcpy(&b[20 + len], &crc, 4);
    return b;
  };
  auto old = read_trace_bytes(with_schema(2));
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->header.schema_version, 2u);
  EXPECT_EQ(old->events.size(), 2u);
  EXPECT_TRUE(old->complete);
  auto newer = read_trace_bytes(with_schema(kTraceSchemaVersion + 1));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("schema version"), std::string::npos);
}

}  // namespace
}  // namespace ringscope
