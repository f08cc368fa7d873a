// view_ui_test.cpp — the View run frame by frame on a headless ImGui context
// (no window, no GL): what the event list holds after a filter, what the
// inspector says about a known exit, selection by clicking the timeline,
// playback jumps, folding on a big trace, settings, and bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "platform/imgui_setup.h"
#include "ringscope/host_counters.h"
#include "ui/View.h"
#include "ui/palette.h"
#include "viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

using test::us;

struct Fixture : ::testing::Test {
  HeadlessContext ctx{1600, 1000};
  View view;
  void SetUp() override {
    view.settings().animate = false;
    view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
    view.set_zoom(0, 500'000);
    frames(2);
  }
  void frames(int n) {
    for (int i = 0; i < n; ++i) ctx.frame(view);
  }
  size_t filtered_rows() {
    for (int i = 0; i < 200 && (i == 0 || !view.list_filter_done()); ++i) frames(1);
    return view.list_rows();
  }
};

TEST_F(Fixture, EventListShowsOnlyWhatTheFilterLets_through) {
  const size_t all = filtered_rows();
  EXPECT_EQ(all, view.traces()[0].model->size());
  view.filter().kinds[static_cast<int>(EventKind::Trap)] = true;
  EXPECT_EQ(filtered_rows(), 1u);
  view.filter().kinds[static_cast<int>(EventKind::TrapReturn)] = true;
  EXPECT_EQ(filtered_rows(), 3u);
  view.filter() = ListFilter{};
  std::snprintf(view.filter().text, sizeof view.filter().text, "0x3F8");  // case-insensitive
  EXPECT_EQ(filtered_rows(), 2u);
  view.filter() = ListFilter{};
  view.filter().reason = 30;
  EXPECT_EQ(filtered_rows(), 2u);
  view.filter() = ListFilter{};
  view.filter().cpl = 3;
  // Ring-3 steps, the #UD taken from CPL 3 and the two returns into CPL 3:
  // a trap is at both of its ends (the one EventFilter, as `show --cpl`).
  EXPECT_EQ(filtered_rows(), 150u + 1u + 2u);
}

TEST_F(Fixture, InspectorExplainsAnIoExitAndDisassemblesIt) {
  const TraceModel& m = *view.traces()[0].model;
  const size_t exit = m.next_of(0, EventKind::VmExit);
  view.select(0, exit, false);
  frames(1);
  const std::string& t = view.inspector_text();
  EXPECT_NE(t.find("vm_exit"), std::string::npos) << t;
  EXPECT_NE(t.find("OUT to port 0x3f8"), std::string::npos) << t;  // explain_event's sentence
  EXPECT_NE(t.find("out dx, al"), std::string::npos) << t;         // Capstone on the step's bytes
  EXPECT_NE(t.find("port = 0x3f8"), std::string::npos) << t;       // every field, hex where it helps
  EXPECT_NE(t.find("duration_ns = 4000  (4.0 µs)"), std::string::npos) << t;
}

// Under emulation a trap records the return address; the inspector shows the
// `int` that caused it, and says so when the bytes are not in the trace.
TEST(Inspector, ShowsTheInstructionThatCausedATrap) {
  HeadlessContext ctx{1280, 720};
  for (const bool steps : {true, false}) {
    View view;
    view.settings().animate = false;
    view.add_trace(TraceModel::from_trace(test::emulation_int_trace(steps), "emu.rtrace"), "emu.rtrace");
    const TraceModel& m = *view.traces()[0].model;
    view.select(0, m.kind(0) == EventKind::Trap ? 0 : m.next_of(0, EventKind::Trap), false);
    ctx.frame(view);
    const std::string& t = view.inspector_text();
    if (steps) {
      EXPECT_NE(t.find("int 0x40"), std::string::npos) << t;
      EXPECT_NE(t.find("0x8000000995"), std::string::npos) << t;
      EXPECT_EQ(t.find("ret"), std::string::npos) << t;
    } else {
      EXPECT_NE(t.find("not in this trace"), std::string::npos) << t;
      EXPECT_NE(t.find("--level full"), std::string::npos) << t;
    }
  }
}

// A bt trace's ring diagram tells the binary-translation story, not VMX's:
// the guest box runs ring 3 directly and ring 0 in the translator, a world
// switch moves between the rings, a callout goes down into the monitor.
TEST(RingDiagram, ABtTraceShowsWorldSwitchesAndCalloutsNotVmx) {
  HeadlessContext ctx{1280, 720};
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::bt_trace(), "syscalls.bt.rtrace"), "syscalls.bt.rtrace");
  const TraceModel& m = *view.traces()[0].model;
  auto text_at = [&](size_t i) {
    view.select(0, i, false);
    ctx.frame(view);
    return view.ring_diagram_text();
  };
  size_t syscall = m.size(), callout = m.size();
  for (size_t i = 0; i < m.size(); ++i) {
    const Event e = m.event(i);
    if (e.kind == EventKind::WorldSwitch && e.cause == TrapCause::Syscall) syscall = i;
    if (e.kind == EventKind::BtCallout && e.insn == BtInsn::Popf) callout = i;
  }
  ASSERT_LT(syscall, m.size());
  ASSERT_LT(callout, m.size());
  std::string t = text_at(syscall);
  EXPECT_EQ(t.find("VMX"), std::string::npos) << t;
  EXPECT_NE(t.find("ring 3 runs directly on the CPU, ring 0 in the translator"), std::string::npos) << t;
  EXPECT_NE(t.find("the monitor"), std::string::npos) << t;
  EXPECT_NE(t.find("world switch (syscall): ring 3 -> ring 0, direct -> translated"), std::string::npos) << t;
  t = text_at(callout);
  EXPECT_NE(t.find("callout: the monitor emulates popf for ring 0"), std::string::npos) << t;
  // The same diagram over a VT-x-style trace still speaks of VMX.
  View vmx;
  vmx.settings().animate = false;
  vmx.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
  vmx.select(0, vmx.traces()[0].model->next_of(0, EventKind::VmExit), false);
  ctx.frame(vmx);
  EXPECT_NE(vmx.ring_diagram_text().find("VMX non-root: the guest"), std::string::npos) << vmx.ring_diagram_text();
  EXPECT_NE(vmx.ring_diagram_text().find("VM exit ("), std::string::npos) << vmx.ring_diagram_text();
}

// Statistics over a range count how much KVM's counters grew inside it, not
// their running totals, and say when no sample falls inside the range.
TEST(Statistics, RangeUsesCounterDeltasAndSaysWhenItHoldsNoSample) {
  HeadlessContext ctx{1280, 720};
  TraceHeader h;
  h.scenario = "counters";
  h.mode = "full-virt";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  const uint64_t kernel_exits[] = {3000, 3010, 3030};  // running totals at 1, 2 and 3 ms
  for (int k = 0; k < 3; ++k) {
    Event c;
    c.kind = EventKind::Counter;
    c.source = Source::KvmStats;
    c.time_ns = test::kOrigin + (k + 1) * 1'000'000;
    c.name = "kernel_exits";
    c.value = kernel_exits[k];
    w->emit(c);
  }
  (void)w->close();
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(std::move(read_trace_bytes(w->memory_bytes())).value(), "c.rtrace"),
                 "c.rtrace");
  view.open_tab(BottomTab::Statistics);
  view.set_range(1'500'000, 2'500'000);  // holds the sample at 2 ms: grew by 10
  for (int i = 0; i < 3; ++i) ctx.frame(view);
  ASSERT_NE(view.shown_stats(), nullptr);
  EXPECT_EQ(view.shown_stats()->kernel_only_exits, 10u);
  view.set_range(2'100'000, 2'900'000);  // no sample inside
  for (int i = 0; i < 3; ++i) ctx.frame(view);
  ASSERT_NE(view.shown_stats(), nullptr);
  EXPECT_EQ(view.shown_stats()->kernel_only_exits, 0u);
  EXPECT_TRUE(view.shown_stats()->kvm_stats.empty());
}

// The legend lists every colour a trace's timeline can show.
TEST(Legend, ListsEveryColourTheTraceUses) {
  using palette::Colour;
  auto bit = [](Colour c) { return uint64_t{1} << static_cast<int>(c); };
  const uint64_t sys = View::colours_used(*TraceModel::from_trace(test::syscall_trace(), "s"));
  for (Colour c : {Colour::Ring0, Colour::Ring3, Colour::NonRoot, Colour::Root, Colour::PortIo, Colour::Exception,
                   Colour::TrapReturn, Colour::Marker})
    EXPECT_TRUE(sys & bit(c)) << palette::legend(c);
  EXPECT_FALSE(sys & bit(Colour::HaltedInKvm));
  const uint64_t pvm = View::colours_used(*TraceModel::from_trace(test::pvm_trace(), "p"));
  EXPECT_TRUE(pvm & bit(Colour::Ring3Unobserved));
  EXPECT_TRUE(pvm & bit(Colour::PageFault));
  const uint64_t shares = View::colours_used(*TraceModel::from_trace(test::share_trace(), "h"));
  EXPECT_TRUE(shares & bit(Colour::HaltedInKvm));
  EXPECT_TRUE(shares & bit(Colour::SystemCall));
  EXPECT_FALSE(shares & bit(Colour::HostOnCpu)) << "no host counters in that trace";

  // A trace with the host's counters: the host rows' colours are in the
  // legend, and only those of the counters it has (no disk: no page cache).
  TraceHeader h;
  h.scenario = "parallel";
  h.mode = "full-virt";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto emit = [&](Event e) { w->emit(e); };
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t t = test::kOrigin + i * 10'000'000;
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::VcpuCpuNs), i * 4'000'000));
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::VcpuRunDelayNs), i * 1'000'000));
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::RssBytes), (i + 1) << 20));
  }
  emit(events::run_end({test::kOrigin + 30'000'000, 0, Source::Vmm}, RunEndReason::GuestExit, 0, "", nullptr));
  (void)w->close();
  const uint64_t host =
      View::colours_used(*TraceModel::from_trace(std::move(read_trace_bytes(w->memory_bytes())).value(), "host"));
  EXPECT_TRUE(host & bit(Colour::HostOnCpu));
  EXPECT_TRUE(host & bit(Colour::HostRunDelay));
  EXPECT_TRUE(host & bit(Colour::HostRss));
  EXPECT_FALSE(host & bit(Colour::HostDiskCached));
}

TEST_F(Fixture, ClickingATrapMarkSelectsIt) {
  const TraceModel& m = *view.traces()[0].model;
  const size_t trap = m.next_of(0, EventKind::Trap);
  const auto y = view.ring_band_y(0, 0);
  ASSERT_TRUE(y.has_value());
  // The trap row is below the VMX band; find it from the lane geometry via
  // the band positions: ring, VMX, exits, traps.
  const float x = view.timeline_x(300'000);
  const float trap_row_y = *view.vmx_band_y(0, 0) + 7 + 4 + 14 + 2 + 7;
  ImGuiIO& io = ctx.io();
  io.MousePos = {x, trap_row_y};
  frames(1);
  io.MouseDown[0] = true;
  frames(1);
  io.MouseDown[0] = false;
  frames(2);
  EXPECT_EQ(view.selection().event, trap);
}

TEST_F(Fixture, WheelZoomsAroundTheCursor) {
  const float x = view.timeline_x(250'000);
  ImGuiIO& io = ctx.io();
  io.MousePos = {x, *view.ring_band_y(0, 0)};
  io.MouseWheel = 2;
  frames(1);
  io.MouseWheel = 0;
  EXPECT_LT(view.zoom_to() - view.zoom_from(), 500'000 * 0.7);
  EXPECT_NEAR(view.timeline_x(250'000), x, 1.0);
}

TEST_F(Fixture, PlaybackJumpsToTheNextOfAKindAndBookmarks) {
  const TraceModel& m = *view.traces()[0].model;
  view.select(0, 0, false);
  view.settings().next_kind = NextKind::RingTransition;
  view.step_to_next(+1);
  EXPECT_EQ(view.selection().event, m.ring_transitions()[0]);
  view.step_to_next(+1);
  EXPECT_EQ(view.selection().event, m.ring_transitions()[1]);
  view.toggle_bookmark();
  view.step(+1);
  EXPECT_EQ(view.selection().event, m.ring_transitions()[1] + 1);
  ASSERT_EQ(view.bookmarks().size(), 1u);
  // Keyboard: N jumps like the button.
  ctx.io().KeysDown['N'] = true;
  frames(1);
  ctx.io().KeysDown['N'] = false;
  frames(1);
  EXPECT_EQ(view.selection().event, m.ring_transitions()[2]);
  // Playing steps through exits at the chosen speed.
  view.settings().next_kind = NextKind::Exit;
  view.select(0, 0, false);
  view.settings().play_speed = 60;
  view.set_playing(true);
  frames(2);
  EXPECT_EQ(m.kind(view.selection().event), EventKind::VmExit);
}

TEST_F(Fixture, StatisticsAndCompareTabsDrawWithoutATrace) {
  view.open_tab(BottomTab::Statistics);
  view.settings().stats_visible_range = true;
  frames(2);
  view.open_tab(BottomTab::Compare);
  view.add_trace(TraceModel::from_trace(test::syscall_trace(3), "second.rtrace"), "second.rtrace");
  frames(2);
  EXPECT_EQ(view.traces().size(), 2u);
  view.set_help_open(true);
  frames(1);
  EXPECT_TRUE(view.help_open());
}

// Right-drag on the timeline selects a range (not a pan); the Statistics
// tab then covers that range; Escape clears it and the whole trace is back.
TEST_F(Fixture, DraggingARangeDrivesTheStatistics) {
  view.open_tab(BottomTab::Statistics);
  frames(2);
  ASSERT_NE(view.shown_stats(), nullptr);
  EXPECT_EQ(view.stats_scope(), StatsScope::WholeTrace);
  EXPECT_EQ(view.shown_stats()->vm_exits, 2u);
  const double z0 = view.zoom_from(), z1 = view.zoom_to();
  ImGuiIO& io = ctx.io();
  const float y = *view.ring_band_y(0, 0);
  io.MousePos = {view.timeline_x(120'000), y};
  frames(1);
  io.MouseDown[1] = true;
  frames(1);
  io.MousePos = {view.timeline_x(200'000), y};
  frames(1);
  io.MousePos = {view.timeline_x(280'000), y};
  frames(1);
  io.MouseDown[1] = false;
  frames(2);
  EXPECT_EQ(view.zoom_from(), z0);  // no pan
  EXPECT_EQ(view.zoom_to(), z1);
  ASSERT_TRUE(view.range().has_value());
  EXPECT_NEAR(view.range()->first, 120'000, 1'000);
  EXPECT_NEAR(view.range()->second, 280'000, 1'000);
  ASSERT_NE(view.shown_stats(), nullptr);
  EXPECT_EQ(view.stats_scope(), StatsScope::SelectedRange);
  EXPECT_EQ(view.shown_stats()->vm_exits, 0u);  // the exits are at 50 and 350 µs
  EXPECT_EQ(view.shown_stats()->by_kind[static_cast<int>(EventKind::Step)], 80u);
  // A range over the second exit counts just that one.
  view.set_range(340'000, 360'000);
  frames(1);
  EXPECT_EQ(view.shown_stats()->vm_exits, 1u);
  io.KeyMap[ImGuiKey_Escape] = 256;  // GLFW's number, as the GLFW backend maps it
  io.KeysDown[256] = true;
  frames(1);
  io.KeysDown[256] = false;
  frames(1);
  EXPECT_FALSE(view.range().has_value());
  EXPECT_EQ(view.stats_scope(), StatsScope::WholeTrace);
  EXPECT_EQ(view.shown_stats()->vm_exits, 2u);
}

// With two traces loaded, a selected range is compared in each of them:
// the Compare tab counts what happened in that stretch of every trace.
TEST_F(Fixture, CompareCoversTheSelectedRangeInEveryTrace) {
  view.add_trace(TraceModel::from_trace(test::syscall_trace(3), "three.rtrace"), "three.rtrace");
  view.open_tab(BottomTab::Compare);
  frames(2);
  EXPECT_TRUE(view.shown_compare_range().empty()) << "no range, no range table";
  view.set_range(340'000, 360'000);  // the second UART write of each trace
  frames(2);
  ASSERT_EQ(view.shown_compare_range().size(), 2u);
  EXPECT_EQ(view.shown_compare_range()[0]->vm_exits, 1u);
  EXPECT_EQ(view.shown_compare_range()[1]->vm_exits, 3u) << "the second trace exits three times per write";
  view.set_range(120'000, 280'000);  // ring 3 only: no exits anywhere
  frames(2);
  ASSERT_EQ(view.shown_compare_range().size(), 2u);
  EXPECT_EQ(view.shown_compare_range()[0]->vm_exits, 0u);
  EXPECT_EQ(view.shown_compare_range()[1]->vm_exits, 0u);
  EXPECT_EQ(view.shown_compare_range()[1]->by_kind[static_cast<int>(EventKind::Step)], 80u);
  view.clear_range();
  frames(1);
  EXPECT_TRUE(view.shown_compare_range().empty());
}

TEST_F(Fixture, ShiftDragSelectsARangeAndPlainDragStillPans) {
  ImGuiIO& io = ctx.io();
  const float y = *view.ring_band_y(0, 0);
  auto drag = [&](double from_ns, double to_ns, bool shift) {
    io.KeyShift = shift;
    io.MousePos = {view.timeline_x(from_ns), y};
    frames(1);
    io.MouseDown[0] = true;
    frames(1);
    io.MousePos = {view.timeline_x(to_ns), y};
    frames(2);
    io.MouseDown[0] = false;
    frames(1);
    io.KeyShift = false;
  };
  drag(300'000, 100'000, true);
  ASSERT_TRUE(view.range().has_value());
  EXPECT_NEAR(view.range()->first, 100'000, 1'000);
  EXPECT_NEAR(view.range()->second, 300'000, 1'000);
  EXPECT_EQ(view.zoom_from(), 0);
  const auto before = *view.range();
  drag(300'000, 200'000, false);
  EXPECT_NEAR(view.zoom_from(), 100'000, 1'000);  // panned by the drag
  EXPECT_EQ(view.range()->first, before.first);   // the range stays where it was in time
}

TEST(ViewBadInput, CorruptAndTruncatedFilesOpenWithAMessage) {
  HeadlessContext ctx{1200, 800};
  const auto dir = std::filesystem::temp_directory_path() / "ringscope_view_test";
  std::filesystem::create_directories(dir);
  auto bytes = test::syscall_trace_bytes(/*exits_per_write=*/100'000);  // several 64 KiB chunks
  {
    std::ofstream(dir / "garbage.rtrace", std::ios::binary) << "this is not a trace at all";
    std::ofstream cut(dir / "cut.rtrace", std::ios::binary);
    cut.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() / 2));
  }
  View view;
  testing::internal::CaptureStderr();
  EXPECT_FALSE(view.open_file((dir / "garbage.rtrace").string()));
  EXPECT_TRUE(view.open_file((dir / "cut.rtrace").string()));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("garbage.rtrace"), std::string::npos) << err;
  EXPECT_NE(err.find("warning"), std::string::npos) << err;
  ASSERT_EQ(view.problems().size(), 1u);
  ASSERT_EQ(view.traces().size(), 1u);
  EXPECT_FALSE(view.traces()[0].model->complete());
  EXPECT_GT(view.traces()[0].model->size(), 0u);
  for (int i = 0; i < 3; ++i) ctx.frame(view);  // draws the message and what was readable
  std::filesystem::remove_all(dir);
}

TEST(ViewFolding, AMillionExitsDrawAsAFewHundredMarks) {
  // 1 M exits 100 ns apart: fully zoomed out, one mark per few pixels.
  TraceHeader h;
  h.start_mono_ns = 1'000'000;
  Trace t;
  t.header = h;
  t.complete = true;
  t.events.resize(1'000'000);
  for (size_t i = 0; i < t.events.size(); ++i) {
    Event& e = t.events[i];
    e.seq = i;
    e.time_ns = 1'000'000 + i * 100;
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.reason = static_cast<uint16_t>(i % 7 ? 30 : 12);
    e.duration_ns = 40;
    e.cpl = i % 50 < 25 ? 0 : 3;
  }
  HeadlessContext ctx{1600, 1000};
  View view;
  view.add_trace(TraceModel::from_trace(std::move(t), "big"), "big");
  view.zoom_to_fit();
  ctx.frame(view);
  ctx.frame(view);
  EXPECT_GT(view.marks_drawn(), 100u);
  EXPECT_LT(view.marks_drawn(), 1000u);
}

TEST(ViewSettingsFile, SavesAndRestoresAndParsesPanels) {
  const std::string path = (std::filesystem::temp_directory_path() / "ringscope_view_settings.ini").string();
  ViewSettings s;
  s.play_speed = 123;
  s.show_compare = false;
  s.next_kind = NextKind::Hypercall;
  std::string err;
  ASSERT_TRUE(save_settings(s, path, err)) << err;
  const ViewSettings r = load_settings(path);
  EXPECT_EQ(r.play_speed, 123);
  EXPECT_FALSE(r.show_compare);
  EXPECT_EQ(r.next_kind, NextKind::Hypercall);
  std::filesystem::remove(path);
  ViewSettings p;
  ASSERT_TRUE(apply_panels("timeline,stats,ring", p, err));
  EXPECT_TRUE(p.show_timeline && p.show_stats && p.show_ring);
  EXPECT_FALSE(p.show_events || p.show_inspector || p.show_compare);
  EXPECT_EQ(p.tab, BottomTab::Statistics);
  EXPECT_FALSE(apply_panels("timeline,bogus", p, err));
  EXPECT_NE(err.find("bogus"), std::string::npos);
}

// `ringscope view --follow`: a trace still being written grows chunk by
// chunk; each frame shows what arrived, the timeline keeps the newest event
// in view and selected, panning turns Follow off, the end mark ends the run.
TEST(FollowView, TimelineFollowsALiveTraceUntilItEnds) {
  HeadlessContext ctx{1600, 1000};
  View view;
  view.settings().animate = false;
  std::vector<size_t> ends;
  const auto bytes = test::rechunk(test::syscall_trace_bytes(), 20, ends);
  const std::string path = (std::filesystem::temp_directory_path() / "ringscope-follow-view.rtrace").string();
  test::write_prefix(path, bytes, ends[2]);
  ASSERT_TRUE(view.follow_file(path));
  ctx.frame(view);
  const TraceModel& m = *view.traces()[0].model;
  EXPECT_EQ(m.size(), 40u);
  EXPECT_TRUE(view.follow());
  EXPECT_TRUE(view.any_live());
  EXPECT_EQ(view.selection().event, 39u);
  size_t shown = m.size();
  for (size_t k = 3; k + 1 < ends.size(); ++k) {
    test::write_prefix(path, bytes, ends[k]);
    ctx.frame(view);
    EXPECT_GT(m.size(), shown);  // this frame's poll appended the new chunk
    shown = m.size();
    const double newest = view.rel(0, m.size() - 1);
    EXPECT_LE(view.zoom_from(), newest);
    EXPECT_GE(view.zoom_to(), newest);
    EXPECT_EQ(view.selection().event, m.size() - 1);
  }
  // Panning the timeline stops following: the view stays where the user put it.
  ImGuiIO& io = ctx.io();
  const float y = *view.ring_band_y(0, 0);
  io.MousePos = {view.timeline_x((view.zoom_from() + view.zoom_to()) / 2), y};
  ctx.frame(view);
  io.MouseDown[0] = true;
  ctx.frame(view);
  io.MousePos.x += 200;
  ctx.frame(view);
  io.MouseDown[0] = false;
  ctx.frame(view);
  EXPECT_FALSE(view.follow());
  const double z0 = view.zoom_from();
  const size_t selected = view.selection().event;
  test::write_prefix(path, bytes, bytes.size());  // the rest, and the end-of-trace mark
  ctx.frame(view);
  EXPECT_EQ(m.size(), test::syscall_trace().events.size());
  EXPECT_EQ(view.zoom_from(), z0);
  EXPECT_EQ(view.selection().event, selected);
  EXPECT_FALSE(view.any_live());
  EXPECT_TRUE(m.complete());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ringscope::viewer
