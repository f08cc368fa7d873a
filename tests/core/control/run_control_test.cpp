// run_control_test.cpp — the run control without a guest: the ring stays
// bounded, QMP's byte stream splits into messages, and a made-up vCPU
// thread parks at its checkpoint exactly when a step or breakpoint says so.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ringscope/control/control_sink.h"
#include "ringscope/control/event_ring.h"
#include "ringscope/control/json_stream.h"
#include "ringscope/control/run_control.h"
#include "ringscope/recording_sink.h"

namespace ringscope::control {
namespace {

Event exit_at(uint16_t port) {
  Event e = events::vm_exit({1, 0, Source::KvmExit}, 30, HandledBy::Vmm);
  events::port_access(e, port, 1, Direction::Out, 'x', 1);
  return e;
}

TEST(EventRing, KeepsOnlyTheLatestEventsWhateverTheRunsLength) {
  EventRing ring(16);
  std::string text(100'000, 'y');  // longer than a slot keeps
  for (int i = 0; i < 10'000; i++) {
    Event e = events::output({uint64_t(i), 0, Source::Vmm}, "uart", text);
    e.seq = uint64_t(i);
    ring.push(e);
  }
  EXPECT_EQ(ring.total(), 10'000u);
  auto latest = ring.latest_json(100);
  ASSERT_EQ(latest.size(), 16u) << "never more than the capacity";
  EXPECT_NE(latest.front().find("\"seq\":9984"), std::string::npos) << latest.front().substr(0, 80);
  EXPECT_NE(latest.back().find("\"seq\":9999"), std::string::npos);
  EXPECT_LT(latest.back().size(), EventRing::kMaxText + 1000) << "a slot's text is capped";
  EXPECT_EQ(ring.latest_json(3).size(), 3u);
}

// query-events' window: the latest n, or the first n after a seq, and how
// many after it the ring no longer holds.
TEST(EventRing, PagesForwardFromASeqAndCountsWhatItDropped) {
  EventRing ring(16);
  RecordingSink seqs;  // numbers the events as the trace's sink does
  for (int i = 0; i < 100; i++) {
    Event e = exit_at(static_cast<uint16_t>(i));
    seqs.emit(e);
    ring.push(e);
  }
  auto has_seq = [](const std::string& json, uint64_t seq) {
    return json.find("\"seq\":" + std::to_string(seq) + ",") != std::string::npos;
  };
  EventRing::Window latest = ring.query(std::nullopt, 3);
  ASSERT_EQ(latest.events.size(), 3u);
  EXPECT_TRUE(has_seq(latest.events.front(), 97)) << latest.events.front();
  EXPECT_TRUE(has_seq(latest.events.back(), 99));
  EXPECT_EQ(latest.oldest, 84u) << "100 events, 16 held";
  EventRing::Window after = ring.query(uint64_t{96}, 10);
  ASSERT_EQ(after.events.size(), 3u);
  EXPECT_TRUE(has_seq(after.events.front(), 97));
  EXPECT_EQ(after.dropped, 0u);
  EventRing::Window old = ring.query(uint64_t{10}, 4);
  ASSERT_EQ(old.events.size(), 4u) << "the first four held after seq 10";
  EXPECT_TRUE(has_seq(old.events.front(), 84));
  EXPECT_TRUE(has_seq(old.events.back(), 87));
  EXPECT_EQ(old.dropped, 84u - 11u) << "seqs 11..83 are gone";
  EXPECT_TRUE(ring.query(uint64_t{99}, 10).events.empty()) << "nothing newer yet";
  EventRing empty(4);
  EXPECT_EQ(empty.query(std::nullopt, 5).oldest, 0u);
}

// A message over the cap is refused whether its bytes arrive in pieces or
// all at once (a reader that falls behind gets them in one buffer).
TEST(JsonStream, AMessageOverTheCapIsRefusedHoweverItArrives) {
  const std::string big =
      R"({"execute": "x", "arguments": {"data": ")" + std::string(JsonStream::kMaxMessage + 16, 'a') + R"("}})";
  for (size_t piece : {big.size(), size_t{65536}}) {
    SCOPED_TRACE(piece);
    JsonStream s;
    std::optional<JsonStream::Piece> got;
    for (size_t at = 0; at < big.size(); at += piece) {
      s.append(std::string_view(big).substr(at, piece));
      if (auto p = s.next()) got = p;
    }
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->kind, JsonStream::Piece::Kind::Overflow);
    s.append(R"({"execute":"query-status"})");
    auto next = s.next();
    ASSERT_TRUE(next.has_value()) << "the stream goes on after it";
    EXPECT_EQ(next->kind, JsonStream::Piece::Kind::Value);
  }
}

TEST(JsonStream, SplitsMessagesWithOrWithoutNewlines) {
  JsonStream s;
  s.append(R"({"execute":"a"}{"execute":"b", "x":"}{\"" })");
  s.append("\n  [1,2]\r\n");
  auto a = s.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->text, R"({"execute":"a"})");
  auto b = s.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, JsonStream::Piece::Kind::Value);
  EXPECT_EQ(b->text, R"({"execute":"b", "x":"}{\"" })") << "braces inside strings do not count";
  auto c = s.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->text, "[1,2]");
  EXPECT_FALSE(s.next());
  s.append(R"({"execute":)");
  EXPECT_FALSE(s.next()) << "half a message waits for the rest";
  s.append(R"("c"})");
  auto d = s.next();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, R"({"execute":"c"})");
}

TEST(JsonStream, ReportsJunkAndOverlongMessagesAndGoesOn) {
  JsonStream s;
  s.append("hello world\n{\"execute\":\"ok\"}");
  auto junk = s.next();
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->kind, JsonStream::Piece::Kind::Junk);
  auto ok = s.next();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->kind, JsonStream::Piece::Kind::Value);

  s.append("{\"data\":\"");
  std::string big(JsonStream::kMaxMessage + 10, 'a');
  s.append(big);
  EXPECT_FALSE(s.next());
  EXPECT_LT(s.buffered(), JsonStream::kMaxMessage) << "an overlong message is not held";
  s.append("\"}{\"execute\":\"after\"}");
  auto over = s.next();
  ASSERT_TRUE(over);
  EXPECT_EQ(over->kind, JsonStream::Piece::Kind::Overflow);
  auto after = s.next();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->text, "{\"execute\":\"after\"}");
}

// A made-up vCPU: emits exits through the ControlSink and calls the
// checkpoint after each, as the backends do.
class FakeVcpu final : public VcpuAccess {
 public:
  std::optional<GuestRegs> regs() override {
    GuestRegs r{};
    r.rip = 0x1234;
    return r;
  }
  void console_input(std::string_view bytes) override { input += bytes; }
  void balloon_target(uint64_t target_bytes) override { targets.push_back(target_bytes); }
  std::string input;
  std::vector<uint64_t> targets;
};

// QMP balloon / query-balloon: refused without a balloon; a target reaches
// a vCPU at its next checkpoint, once; the guest's size is RAM minus what
// the driver reported.
TEST(RunControl, BalloonTargetGoesToACheckpointAndActualIsTheGuestsSize) {
  RunControl control;
  FakeVcpu vcpu;
  control.attach(0, {});
  EXPECT_FALSE(control.balloon(32ull << 20).ok());
  EXPECT_FALSE(control.balloon_actual_bytes().has_value());
  VirtioBalloon balloon(nullptr);
  control.set_balloon(&balloon, 64ull << 20);
  ASSERT_TRUE(control.balloon(32ull << 20).ok());
  EXPECT_TRUE(control.wanted());
  EXPECT_EQ(control.checkpoint(0, vcpu), Verdict::Go);
  ASSERT_EQ(vcpu.targets.size(), 1u);
  EXPECT_EQ(vcpu.targets[0], 32ull << 20);
  EXPECT_EQ(control.checkpoint(0, vcpu), Verdict::Go);
  EXPECT_EQ(vcpu.targets.size(), 1u);                      // handed over once
  EXPECT_EQ(control.balloon_actual_bytes(), 64ull << 20);  // the driver holds nothing yet
  std::vector<uint8_t> ram(4096);
  GuestMemory mem(ram.data(), ram.size());
  DeviceContext ctx;
  ctx.memory = &mem;
  balloon.write(ctx, VirtioMmioDevice::kConfig + VirtioBalloon::kConfigActual, 4, 256);  // the driver: 1 MiB
  EXPECT_EQ(control.balloon_actual_bytes(), 63ull << 20);
  control.set_balloon(nullptr, 0);
  EXPECT_FALSE(control.balloon(1).ok());
  control.detach(0);
}

TEST(RunControl, StepExitParksRightAfterTheNextExitAndFlushesFirst) {
  RunControl control;
  RecordingSink trace;
  ControlSink sink(control, trace);
  std::atomic<int> flushed_at{-1};
  control.set_flush([&] { flushed_at = static_cast<int>(trace.events().size()); });
  control.run_starting();
  control.add_observer();                              // a client is connected: the ring is kept
  ASSERT_TRUE(control.pause(PauseCause::Start).ok());  // as --qmp-wait

  std::atomic<int> exits{0};
  std::atomic<bool> quit_seen{false};
  std::thread vcpu([&] {
    FakeVcpu access;
    control.attach(0, nullptr);
    for (int i = 0; i < 1000; i++) {
      if (control.wanted() && control.checkpoint(0, access) == Verdict::Quit) {
        quit_seen = true;
        break;
      }
      Event e = exit_at(0x3f8);
      sink.emit(e);
      exits++;
    }
    control.detach(0);
  });
  // Paused before the first exit: nothing runs until a step.
  while (!control.pause_complete()) std::this_thread::yield();
  EXPECT_EQ(exits.load(), 0);
  auto regs = control.registers(0);
  ASSERT_TRUE(regs.ok()) << regs.error().message;
  EXPECT_EQ(regs.value().rip, 0x1234u);
  for (int step = 1; step <= 3; step++) {
    ASSERT_TRUE(control.step_exit().ok());
    while (!control.pause_complete()) std::this_thread::yield();
    EXPECT_EQ(exits.load(), step) << "one exit per step";
    EXPECT_EQ(flushed_at.load(), step) << "the trace is flushed with every exit so far";
    EXPECT_EQ(control.status(), RunStatus::Debug);
  }
  auto notices = control.take_notices();
  int stops = 0, breaks = 0;
  for (const Notice& n : notices) {
    stops += n.type == Notice::Type::Stop && n.announce;
    breaks += n.type == Notice::Type::Break && n.cause == PauseCause::StepExit;
  }
  EXPECT_EQ(stops, 3) << "--qmp-wait's first pause is not announced";
  EXPECT_EQ(breaks, 3);
  EXPECT_EQ(control.ring().total(), 3u);

  // A breakpoint on another port never fires; one on this port does.
  auto miss = control.add_breakpoint(
      [] {
        EventFilter f;
        f.port = 0x60;
        return f;
      }(),
      "{}");
  ASSERT_TRUE(miss.ok());
  auto hit = control.add_breakpoint(
      [] {
        EventFilter f;
        f.add_kind(EventKind::VmExit);
        f.port = 0x3f8;
        return f;
      }(),
      "{}");
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(control.resume().ok());
  while (!control.pause_complete()) std::this_thread::yield();
  EXPECT_EQ(exits.load(), 4) << "the breakpoint holds the guest at the first matching exit";
  bool by_hit = false;
  for (const Notice& n : control.take_notices())
    if (n.type == Notice::Type::Break) by_hit = n.breakpoint == hit.value() && !n.event_json.empty();
  EXPECT_TRUE(by_hit);
  ASSERT_TRUE(control.quit().ok());
  vcpu.join();
  EXPECT_TRUE(quit_seen);
  EXPECT_LT(exits.load(), 1000);
}

// The trace gets every event; the ring only while a client is connected
// (QMP's events reach only the clients that are there: an unwatched run
// pays one relaxed load per event, not a copy).
TEST(RunControl, NobodyWatchingNothingIsCopied) {
  RunControl control;
  RecordingSink trace;
  ControlSink sink(control, trace);
  Event e = exit_at(0x3f8);
  sink.emit(e);
  EXPECT_EQ(trace.events().size(), 1u) << "the trace gets every event";
  EXPECT_EQ(control.ring().total(), 0u) << "no client: no ring";
  control.add_observer();
  sink.emit(e);
  EXPECT_EQ(control.ring().total(), 1u);
  control.remove_observer();
  sink.emit(e);
  EXPECT_EQ(control.ring().total(), 1u);
  EXPECT_EQ(trace.events().size(), 3u);
}

TEST(RunControl, ConsoleInputGoesToTheVcpuAtItsCheckpoint) {
  RunControl control;
  control.run_starting();
  FakeVcpu access;
  control.attach(0, nullptr);
  EXPECT_FALSE(control.wanted()) << "nothing to do: the checkpoint is not even called";
  control.console_write("ls\n");
  EXPECT_TRUE(control.wanted());
  EXPECT_EQ(control.checkpoint(0, access), Verdict::Go);
  EXPECT_EQ(access.input, "ls\n");
  EXPECT_FALSE(control.wanted());
  EXPECT_FALSE(control.registers(0).ok()) << "registers are read while paused";
  control.detach(0);
}

TEST(RunControl, StepInstructionNeedsLevelFull) {
  RunControl control;
  auto st = control.step_instruction();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--level full"), std::string::npos);
  control.set_full_level(true);
  EXPECT_TRUE(control.step_instruction().ok());
}

}  // namespace
}  // namespace ringscope::control
