// trace_model_test.cpp — the viewer's trace model without a window: compact
// storage round trip, the time index, CPL and root/non-root spans, ring
// transitions, folding, and partly readable traces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "model/trace_model.h"
#include "ringscope/explain.h"
#include "viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

using test::us;

std::unique_ptr<TraceModel> syscall_model(int exits_per_write = 1) {
  return TraceModel::from_trace(test::syscall_trace(exits_per_write), "syscalls.rtrace");
}

TEST(TraceModel, EveryEventDecodesToWhatWasRecorded) {
  Trace original = test::syscall_trace();
  auto m = TraceModel::from_trace(test::syscall_trace(), "t");
  ASSERT_EQ(m->size(), original.events.size());
  for (size_t i = 0; i < m->size(); ++i) {
    const Event a = original.events[i];
    const Event b = m->event(i);
    // The JSON form covers every field and string; equal JSON, equal event.
    ASSERT_EQ(event_to_json(a), event_to_json(b)) << "event " << i;
    ASSERT_EQ(summarize_event(a), summarize_event(b));
  }
}

// Issue 17: at most 32 bytes per event in the model (bench_viewer measures
// the same on 10 M events).
TEST(TraceModel, KeepsAtMost32BytesPerEvent) {
  auto m = syscall_model();
  const double per_event = static_cast<double>(m->memory_bytes()) / static_cast<double>(m->size());
  EXPECT_LE(per_event, 32.0) << m->memory_bytes() << " bytes for " << m->size() << " events";
}

TEST(TraceModel, TimeIndexFindsTheWindow) {
  auto m = syscall_model();
  const size_t i = m->lower_bound(us(300));
  ASSERT_LT(i, m->size());
  EXPECT_EQ(m->kind(i), EventKind::Trap);
  EXPECT_EQ(m->upper_bound(us(300)), i + 1);
  EXPECT_EQ(m->lower_bound(0), 0u);
  EXPECT_EQ(m->lower_bound(us(10'000)), m->size());
  EXPECT_EQ(m->origin_ns(), test::kOrigin);
}

TEST(TraceModel, CplOverTimeFollowsTrapsAndSteps) {
  auto m = syscall_model();
  EXPECT_EQ(m->cpl_at(0, us(10)), 0);
  EXPECT_EQ(m->cpl_at(0, us(150)), 3);
  EXPECT_EQ(m->cpl_at(0, us(299)), 3);
  EXPECT_EQ(m->cpl_at(0, us(301)), 0);
  EXPECT_EQ(m->cpl_at(0, us(450)), 3);
  EXPECT_EQ(m->cpl_at(0, test::kOrigin - 1), -1);  // before the first event: not known
  EXPECT_EQ(m->cpl_at(7, us(10)), -1);             // no such vCPU
}

TEST(TraceModel, RootSpansCoverExitHandling) {
  auto m = syscall_model();
  auto in = m->root_at(0, us(50) + 100 + 2000);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(m->kind(*in), EventKind::VmExit);
  EXPECT_FALSE(m->root_at(0, us(50) + 100 + 4001).has_value());
  EXPECT_FALSE(m->root_at(0, us(200)).has_value());
  EXPECT_EQ(m->track(0)->root.size(), 2u);
}

TEST(TraceModel, RingTransitionsAndPlaybackJumps) {
  auto m = syscall_model();
  ASSERT_EQ(m->ring_transitions().size(), 3u);  // iretq, #UD, iretq
  const size_t first = m->ring_transitions()[0];
  EXPECT_EQ(m->kind(first), EventKind::TrapReturn);
  EXPECT_EQ(m->next_transition(first), m->ring_transitions()[1]);
  EXPECT_EQ(m->prev_transition(m->ring_transitions()[1]), first);
  EXPECT_EQ(m->prev_transition(first), m->size());
  const size_t exit = m->next_of(0, EventKind::VmExit);
  EXPECT_EQ(m->event(exit).port, 0x3f8);
  EXPECT_EQ(m->next_of(m->next_of(exit, EventKind::VmExit), EventKind::VmExit), m->size());
}

TEST(TraceModel, FindsInstructionBytesForAnExit) {
  auto m = syscall_model();
  const size_t exit = m->next_of(0, EventKind::VmExit);
  // KVM records the RIP after the `out`; the instruction is the one ending there.
  const auto ci = m->causing_instruction(exit);
  EXPECT_EQ(ci.rip, 0x102304u);
  EXPECT_EQ(ci.bytes, std::string_view("\xee", 1));
}

// The instruction that caused a trap, not the one at the address it records.
TEST(TraceModel, CausingInstructionOfTrapsIsTheIntTheFaultOrNone) {
  using Where = TraceModel::CauseInstruction::Where;
  auto m = TraceModel::from_trace(test::emulation_int_trace(), "emu.rtrace");
  const size_t sys = m->next_of(0, EventKind::Trap);
  ASSERT_EQ(m->event(sys).cause, TrapCause::SoftInt);
  auto ci = m->causing_instruction(sys);
  EXPECT_EQ(ci.where, Where::At);
  EXPECT_EQ(ci.rip, 0x8000000995u);  // the int, not the ret at the return address 0x8000000997
  EXPECT_EQ(ci.bytes, std::string_view("\xcd\x40", 2));
  const size_t pf = m->next_of(sys, EventKind::Trap);
  ci = m->causing_instruction(pf);
  EXPECT_EQ(ci.rip, 0x8000000a00u);  // a fault: the faulting instruction, seen when it ran again
  EXPECT_EQ(ci.bytes, std::string_view("\x8b\x00", 2));
  const size_t irq = m->next_of(pf, EventKind::Trap);
  EXPECT_EQ(m->causing_instruction(irq).where, Where::None);
  // Without steps the bytes are not in the trace: the model says where, with no bytes.
  auto e = TraceModel::from_trace(test::emulation_int_trace(false), "emu-exits.rtrace");
  ASSERT_EQ(e->kind(0), EventKind::Trap);
  ci = e->causing_instruction(0);
  EXPECT_EQ(ci.where, Where::EndsAt);
  EXPECT_EQ(ci.rip, 0x8000000997u);
  EXPECT_TRUE(ci.bytes.empty());
}

// share(): the time in each state inside a window, whatever it holds.
TEST(TraceModel, ShareIsTheTimeInEachStateOfAWindow) {
  auto m = TraceModel::from_trace(test::share_trace(), "shares.rtrace");
  const uint64_t o = test::kOrigin;
  TimeShare s = m->share(0, o + 100'000'000, o + 200'000'000);  // 100 ms of 75 % ring 3, 25 % root
  EXPECT_EQ(s.cpl[3], 75'000'000u);
  EXPECT_EQ(s.cpl[0], 25'000'000u);
  EXPECT_EQ(s.root, 25'000'000u);
  EXPECT_EQ(s.halted, 0u);
  s = m->share(0, o + 300'000'000, o + 400'000'000);
  EXPECT_EQ(s.root, 2'000'000u);  // 2 %
  // halt_wait_ns grew by 299.999 ms by 900 ms: placed in the longest quiet stretch, 600..900 ms.
  s = m->share(0, o + 650'000'000, o + 850'000'000);
  EXPECT_NEAR(static_cast<double>(s.halted), 200e6, 2e3);  // the stretch is halted 299.999 of its 300 ms
  EXPECT_NE(m->halted_at(0, o + 750'000'000), nullptr);
  EXPECT_EQ(m->halted_at(0, o + 550'000'000), nullptr);
  EXPECT_NEAR(static_cast<double>(m->share(0, o, o + 1'000'000'000).halted), 299'999'000.0, 2.0);
}

// A wait shorter than the quiet stretch it is placed in is spread over it
// as a share, not drawn as a solid block at one end.
TEST(TraceModel, AShortHaltIsSpreadOverItsStretchAsAShare) {
  TraceHeader h;
  h.scenario = "tick";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto emit = [&](EventKind k, uint64_t t, uint64_t value) {
    Event e;
    e.kind = k;
    e.source = k == EventKind::Counter ? Source::KvmStats : Source::Vmm;
    e.time_ns = test::kOrigin + t;
    e.name = "halt_wait_ns";
    e.value = value;
    w->emit(e);
  };
  emit(EventKind::Output, 0, 0);
  emit(EventKind::Output, 100'000'000, 0);            // 100 ms without events
  emit(EventKind::Counter, 100'000'000, 75'000'000);  // of which 75 ms halted
  (void)w->close();
  auto m = TraceModel::from_trace(std::move(read_trace_bytes(w->memory_bytes())).value(), "t");
  for (const uint64_t t : {0ull, 40'000'000ull, 90'000'000ull}) {
    const TimeShare s = m->share(0, test::kOrigin + t, test::kOrigin + t + 10'000'000);
    EXPECT_NEAR(static_cast<double>(s.halted), 7.5e6, 1.0) << t;
  }
}

TEST(TraceModel, MarksAreSortedPerRow) {
  auto m = syscall_model();
  const VcpuTrack* tr = m->track(0);
  ASSERT_NE(tr, nullptr);
  EXPECT_EQ(tr->marks[static_cast<int>(MarkRow::Exits)].size(), 2u);
  EXPECT_EQ(tr->marks[static_cast<int>(MarkRow::Traps)].size(), 3u);
  EXPECT_EQ(tr->marks[static_cast<int>(MarkRow::Markers)].size(), 3u);  // begin, end, run_end
}

TEST(Folding, MarksCloserThanTheGapBecomeOneCountedMark) {
  auto m = syscall_model(/*exits_per_write=*/40);  // 40 exits 10 ns apart, twice
  const auto& exits = m->track(0)->marks[static_cast<int>(MarkRow::Exits)];
  ASSERT_EQ(exits.size(), 80u);
  std::vector<size_t> counts;
  fold_marks(*m, exits, 0, UINT64_MAX, /*min_gap_ns=*/1000, [&](size_t, size_t n) { counts.push_back(n); });
  EXPECT_EQ(counts, (std::vector<size_t>{40, 40}));
  counts.clear();
  fold_marks(*m, exits, 0, UINT64_MAX, 5, [&](size_t, size_t n) { counts.push_back(n); });
  EXPECT_EQ(counts.size(), 80u);  // deep zoom: every exit on its own
  counts.clear();
  fold_marks(*m, exits, us(200), us(600), 1000, [&](size_t, size_t n) { counts.push_back(n); });
  EXPECT_EQ(counts, (std::vector<size_t>{40}));  // only the window
}

TEST(Folding, CplSegmentsCoverTheWindowWithoutGaps) {
  auto m = syscall_model();
  for (uint64_t px : {uint64_t{1}, uint64_t{1000}, uint64_t{250'000}}) {
    uint64_t cursor = us(0);
    bool saw3 = false, saw0 = false;
    fold_cpl(*m->track(0), us(0), us(500), m->last_ns(), px, [&](uint64_t b, uint64_t e, int cpl, size_t) {
      EXPECT_EQ(b, cursor) << "px " << px;
      EXPECT_GE(e, b);
      cursor = e;
      saw3 |= cpl == 3;
      saw0 |= cpl == 0;
    });
    EXPECT_EQ(cursor, us(500)) << "px " << px;
    if (px < 100'000) {  // coarser pixels fold ring changes into mixed spans
      EXPECT_TRUE(saw0);
      EXPECT_TRUE(saw3);
    }
  }
  // The whole run in one pixel: one mixed span.
  size_t spans = 0, changes = 0;
  fold_cpl(*m->track(0), us(0), us(500), m->last_ns(), 1'000'000, [&](uint64_t, uint64_t, int, size_t c) {
    ++spans;
    changes += c;
  });
  EXPECT_LE(spans, 2u);
  EXPECT_GT(changes, 1u);
}

TEST(Folding, RootSpansMergeWithinAPixel) {
  auto m = syscall_model(40);
  size_t groups = 0, spans = 0;
  fold_root(*m->track(0), 0, UINT64_MAX, 100'000, [&](uint64_t b, uint64_t e, size_t, size_t n) {
    EXPECT_LE(b, e);
    ++groups;
    spans += n;
  });
  EXPECT_EQ(groups, 2u);
  EXPECT_EQ(spans, 80u);
}

TEST(TraceModel, TruncatedTraceKeepsWhatWasReadable) {
  auto bytes = test::syscall_trace_bytes();
  bytes.resize(bytes.size() * 2 / 3);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto m = TraceModel::from_trace(std::move(t).value(), "cut.rtrace");
  EXPECT_FALSE(m->complete());
  EXPECT_FALSE(m->warning().empty());
  EXPECT_EQ(m->stats().events, m->size());
}

// TraceModel::open streams the file (for_each_event); from_trace takes a
// Trace read whole. Both must give the same model, whole or cut.
void expect_same_model(const TraceModel& a, const TraceModel& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(event_to_json(a.event(i)), event_to_json(b.event(i))) << "event " << i;
    ASSERT_EQ(a.at(i).flags, b.at(i).flags);
    ASSERT_EQ(a.at(i).code, b.at(i).code);
  }
  EXPECT_EQ(a.complete(), b.complete());
  EXPECT_EQ(a.warning(), b.warning());
  EXPECT_EQ(a.origin_ns(), b.origin_ns());
  EXPECT_EQ(header_to_json(a.header()), header_to_json(b.header()));
  EXPECT_EQ(stats_to_json(a.stats()), stats_to_json(b.stats()));
  EXPECT_EQ(a.ring_transitions(), b.ring_transitions());
  ASSERT_EQ(a.tracks().size(), b.tracks().size());
  for (size_t v = 0; v < a.tracks().size(); ++v) {
    EXPECT_EQ(a.tracks()[v].cpl.size(), b.tracks()[v].cpl.size());
    EXPECT_EQ(a.tracks()[v].root.size(), b.tracks()[v].root.size());
    for (int r = 0; r < kMarkRowCount; ++r) EXPECT_EQ(a.tracks()[v].marks[r], b.tracks()[v].marks[r]);
  }
}

TEST(TraceModel, OpeningAFileStreamsItIntoTheSameModel) {
  const auto path =
      std::filesystem::temp_directory_path() / ("ringscope-model-" + std::to_string(::getpid()) + ".rtrace");
  auto bytes = test::syscall_trace_bytes(3);
  for (const size_t size : {bytes.size(), bytes.size() * 2 / 3}) {
    SCOPED_TRACE("file of " + std::to_string(size) + " bytes");
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
    }
    auto opened = TraceModel::open(path.string());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto read = read_trace(path.string());
    ASSERT_TRUE(read.ok());
    auto from = TraceModel::from_trace(std::move(read).value(), path.filename().string());
    EXPECT_EQ(opened.value()->name(), from->name());
    expect_same_model(*opened.value(), *from);
    EXPECT_EQ(opened.value()->complete(), size == bytes.size());
  }
  std::filesystem::remove(path);
}

// TraceModel::open reads on a second thread (pipelined_reader.h) in batches
// of a few thousand events: on a trace of many batches, whole, cut and
// damaged, it gives the model the serial reading gives.
TEST(TraceModel, PipelinedOpenGivesTheSerialModel) {
  TraceHeader h;
  h.scenario = "batches";
  h.mode = "emulation";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  GuestRegs regs{};
  std::string text;
  for (uint64_t i = 0; i < 12'000; ++i) {
    Event e;
    e.time_ns = test::kOrigin + i * 100;
    e.vcpu = static_cast<uint32_t>(i % 3);
    if (i % 10 == 3) {
      e.kind = EventKind::Device;
      e.device = i % 20 == 3 ? "uart" : "virtio-blk";
      e.reg = "THR";
      e.value = i;
    } else if (i % 10 == 7) {
      e.kind = EventKind::Output;
      text.assign(1 + i % 40, static_cast<char>('a' + i % 26));  // e.text views it: it must outlive emit
      e.text = text;
    } else {
      e.kind = EventKind::Step;
      e.source = Source::Emulator;
      e.rip = 0x100000 + i % 300;
      e.cpl = static_cast<uint8_t>(i / 1000 % 2 ? 3 : 0);
      e.text = "\x90";
      if (i % 500 == 0) {
        regs.rax = i;
        e.regs = &regs;
      }
    }
    w->emit(e);
    if (i % 1000 == 999) {
      ASSERT_TRUE(w->flush().ok());  // a chunk per 1000 events, so a cut keeps some
    }
  }
  ASSERT_TRUE(w->close().ok());
  const std::vector<uint8_t> bytes = w->memory_bytes();
  const std::vector<uint8_t> damaged = [&] {
    auto d = bytes;
    d[d.size() / 2] ^= 0x40;
    return d;
  }();
  const auto path =
      std::filesystem::temp_directory_path() / ("ringscope-pipelined-" + std::to_string(::getpid()) + ".rtrace");
  for (const auto* file : {&bytes, &damaged}) {
    for (const size_t size : {file->size(), file->size() * 2 / 3}) {
      SCOPED_TRACE("file of " + std::to_string(size) + " bytes" + (file == &damaged ? ", damaged" : ""));
      test::write_prefix(path.string(), *file, size);
      auto serial = TraceModel::open(path.string(), TraceModel::Reading::Serial);
      auto pipelined = TraceModel::open(path.string(), TraceModel::Reading::Pipelined);
      ASSERT_TRUE(serial.ok() && pipelined.ok());
      EXPECT_GT(serial.value()->size(), file == &damaged ? 1000u : 7000u);
      expect_same_model(*pipelined.value(), *serial.value());
      EXPECT_EQ(pipelined.value()->memory_bytes(), serial.value()->memory_bytes());
    }
  }
  std::filesystem::remove(path);
}

TEST(TraceModel, MissingFileIsAnErrorThatSaysWhichFile) {
  auto m = TraceModel::open("/nonexistent/x.rtrace");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent/x.rtrace"), std::string::npos);
}

TEST(TraceModel, OutOfOrderTimesAreShownInOrder) {
  Trace t = test::syscall_trace();
  t.events[10].time_ns = t.events[9].time_ns - 5;
  auto m = TraceModel::from_trace(std::move(t), "t");
  EXPECT_EQ(m->reordered(), 1u);
  EXPECT_EQ(m->time(10), m->time(9));
}

}  // namespace
}  // namespace ringscope::viewer

namespace ringscope::viewer {
namespace {

// Phases stack into sub-rows by depth: "run" holds "fault", and "overlap"
// begins while "fault" is still open, so it needs a third row; no two
// phases on one row overlap.
TEST(PhaseStacking, NestedAndOverlappingPhasesGetTheirOwnRows) {
  auto m = TraceModel::from_trace(test::pvm_trace(), "pvm.rtrace");
  const VcpuTrack& tr = *m->track(0);
  ASSERT_EQ(tr.phase_rows.size(), 3u);
  auto label = [&](size_t row, size_t i) { return m->stats().phases[tr.phase_rows[row][i].phase].label; };
  ASSERT_EQ(tr.phase_rows[0].size(), 1u);
  EXPECT_EQ(label(0, 0), "run");
  ASSERT_EQ(tr.phase_rows[1].size(), 1u);
  EXPECT_EQ(label(1, 0), "fault");
  ASSERT_EQ(tr.phase_rows[2].size(), 1u);
  EXPECT_EQ(label(2, 0), "overlap");
  EXPECT_EQ(tr.phase_rows[2][0].begin_ns, test::us(50));
  EXPECT_EQ(tr.phase_rows[2][0].end_ns, test::us(80));
  for (const auto& row : tr.phase_rows)
    for (size_t i = 1; i < row.size(); ++i) EXPECT_LE(row[i - 1].end_ns, row[i].begin_ns);
}

TEST(PhaseStacking, SequentialPhasesShareARowAndNestedOnesGoDeeper) {
  std::vector<PhaseStats> ps(4);
  auto set = [&](size_t i, const char* l, uint64_t b, uint64_t e) {
    ps[i].label = l;
    ps[i].begin_ns = b;
    ps[i].end_ns = e;
    ps[i].closed = true;
  };
  set(0, "a", 0, 10);
  set(1, "b", 10, 20);  // after a: same row
  set(2, "c", 12, 15);  // inside b
  set(3, "d", 16, 18);  // inside b, after c: c's row
  std::vector<VcpuTrack> tracks(1);
  stack_phases(ps, tracks);
  ASSERT_EQ(tracks[0].phase_rows.size(), 2u);
  EXPECT_EQ(tracks[0].phase_rows[0].size(), 2u);
  EXPECT_EQ(tracks[0].phase_rows[1].size(), 2u);
}

// Ring-3 visits: on the PVM-like trace both are zero-length and unobserved
// (no ring-3 steps), and the trace says how often ring 3 ran unstepped; on
// the single-stepped trace the two visits have their length and steps.
TEST(Ring3Visits, ZeroLengthVisitsAreKeptAndMarkedUnobserved) {
  auto m = TraceModel::from_trace(test::pvm_trace(), "pvm.rtrace");
  const auto& v = m->track(0)->ring3;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].begin_ns, test::us(40));
  EXPECT_EQ(v[0].end_ns, test::us(40));
  EXPECT_EQ(v[1].begin_ns, test::us(70));
  EXPECT_EQ(v[1].end_ns, test::us(70));
  EXPECT_EQ(v[0].steps, 0u);
  EXPECT_EQ(m->unstepped_runs(), 2u);
  ASSERT_NE(m->ring3_at(0, test::us(70)), nullptr);
  EXPECT_EQ(m->ring3_at(0, test::us(60)), nullptr);
  // Folded at any zoom, every visit still comes out of the walk.
  size_t drawn = 0;
  fold_spans<Ring3Visit>(v, m->first_ns(), m->last_ns(), 1'000'000'000,
                         [&](uint64_t, uint64_t, size_t, size_t n) { drawn += n; });
  EXPECT_EQ(drawn, 2u);

  auto s = TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace");
  const auto& w = s->track(0)->ring3;
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].begin_ns, test::us(100));
  EXPECT_EQ(w[0].end_ns, test::us(300));
  EXPECT_EQ(w[1].begin_ns, test::us(400));
  EXPECT_EQ(w[1].end_ns, s->last_ns());
  EXPECT_EQ(w[0].steps, 100u);
  EXPECT_EQ(s->unstepped_runs(), 0u);
}

}  // namespace
}  // namespace ringscope::viewer
