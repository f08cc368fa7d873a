// trace_stats_test.cpp — compute_stats on made-up traces: per-reason
// durations, ring transitions, phases (nested, repeated, unclosed, per
// vCPU) and the kernel-vs-VMM split from kvm-stats counters.
#include "ringscope/trace_stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_events.h"

namespace ringscope {
namespace {

using test::TraceBuilder;

const ExitReasonStats* find_reason(const TraceStats& st, uint16_t reason) {
  for (const ExitReasonStats& r : st.exits)
    if (r.reason == reason) return &r;
  return nullptr;
}

TEST(TraceStats, EmptyTraceIsAllZero) {
  TraceBuilder b;
  TraceStats st = compute_stats(b.trace());
  EXPECT_EQ(st.events, 0u);
  EXPECT_EQ(st.vm_exits, 0u);
  EXPECT_EQ(st.duration_ns(), 0u);
  EXPECT_TRUE(st.exits.empty());
  EXPECT_TRUE(st.phases.empty());
}

TEST(TraceStats, ExitsByReasonWithDurations) {
  TraceBuilder b;
  b.io_exit(0x3f8, Direction::Out, 'h', 100);
  b.io_exit(0x3f8, Direction::Out, 'i', 300);
  b.io_exit(0x3fd, Direction::In, 0x20, 200);
  b.exit(exit_reason::kHlt, 1000);
  b.output("hi");
  TraceStats st = compute_stats(b.trace());

  EXPECT_EQ(st.events, 5u);
  EXPECT_EQ(st.by_kind[static_cast<size_t>(EventKind::VmExit)], 4u);
  EXPECT_EQ(st.by_kind[static_cast<size_t>(EventKind::Output)], 1u);
  EXPECT_EQ(st.vm_exits, 4u);
  EXPECT_EQ(st.output_bytes, 2u);
  ASSERT_EQ(st.exits.size(), 2u);
  EXPECT_EQ(st.exits[0].reason, exit_reason::kIoInstruction);  // most frequent first

  const ExitReasonStats* io = find_reason(st, exit_reason::kIoInstruction);
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->count, 3u);
  EXPECT_EQ(io->vmm, 3u);
  EXPECT_EQ(io->kernel, 0u);
  EXPECT_EQ(io->duration.total_ns, 600u);
  EXPECT_EQ(io->duration.min_ns, 100u);
  EXPECT_EQ(io->duration.max_ns, 300u);
  EXPECT_EQ(io->duration.mean_ns(), 200u);

  EXPECT_EQ(st.exit_duration.total_ns, 1600u);
  EXPECT_EQ(st.exit_duration.min_ns, 100u);
  EXPECT_EQ(st.exit_duration.max_ns, 1000u);
  EXPECT_EQ(st.exits_vmm, 4u);
}

TEST(TraceStats, RingTransitionsAreTrapsThatChangeCpl) {
  TraceBuilder b;
  b.trap(TrapCause::Syscall, 0, 3, 0);
  b.trap_return(TrapCause::Sysret, 0, 3);
  b.trap(TrapCause::Exception, 14, 3, 0);
  b.trap(TrapCause::Exception, 14, 0, 0);  // a fault inside the kernel: no ring change
  b.trap_return(TrapCause::Iret, 0, 0);
  b.trap_return(TrapCause::Iret, 0, 3);
  b.trap(TrapCause::Interrupt, 0x20, 3, 0);
  TraceStats st = compute_stats(b.trace());

  EXPECT_EQ(st.trap_count, 4u);
  EXPECT_EQ(st.ring_transitions, 5u);
  EXPECT_EQ(st.to_kernel, 3u);
  EXPECT_EQ(st.to_user, 2u);
  ASSERT_EQ(st.traps.size(), 3u);
  EXPECT_EQ(st.traps[0].cause, TrapCause::Exception);  // two #PF: most frequent
  EXPECT_EQ(st.traps[0].vector, 14);
  EXPECT_EQ(st.traps[0].count, 2u);
  EXPECT_EQ(st.traps[0].ring_transitions, 1u);
}

TEST(TraceStats, PhaseCountsOnlyWhatIsBetweenItsMarkers) {
  TraceBuilder b;
  b.exit(exit_reason::kHlt, 10);  // before
  b.marker(MarkerPhase::Begin, "write 4 KiB").time_ns = 5000;
  b.io_exit(0x3f8, Direction::Out, 'a', 100);
  b.io_exit(0x3f8, Direction::Out, 'b', 100);
  b.trap(TrapCause::Syscall, 0, 3, 0);
  b.trap_return(TrapCause::Sysret, 0, 3);
  b.marker(MarkerPhase::End, "write 4 KiB").time_ns = 9000;
  b.io_exit(0x3f8, Direction::Out, 'c', 100);  // after
  TraceStats st = compute_stats(b.trace());

  ASSERT_EQ(st.phases.size(), 1u);
  const PhaseStats& p = st.phases[0];
  EXPECT_EQ(p.label, "write 4 KiB");
  EXPECT_TRUE(p.closed);
  EXPECT_EQ(p.begin_seq, 1u);
  EXPECT_EQ(p.end_seq, 6u);
  EXPECT_EQ(p.duration_ns(), 4000u);
  EXPECT_EQ(p.events, 4u);
  EXPECT_EQ(p.vm_exits, 2u);
  EXPECT_EQ(p.exits_by_reason.at(exit_reason::kIoInstruction), 2u);
  EXPECT_EQ(p.exits_by_reason.count(exit_reason::kHlt), 0u);
  EXPECT_EQ(p.exit_time_ns, 200u);
  EXPECT_EQ(p.traps, 1u);
  EXPECT_EQ(p.ring_transitions, 2u);
  EXPECT_EQ(st.vm_exits, 4u);
}

TEST(TraceStats, NestedAndRepeatedPhasesAreSeparateInstances) {
  TraceBuilder b;
  b.marker(MarkerPhase::Begin, "outer");
  b.marker(MarkerPhase::Begin, "inner");
  b.exit(exit_reason::kHlt, 1);
  b.marker(MarkerPhase::End, "inner");
  b.marker(MarkerPhase::Begin, "inner");
  b.exit(exit_reason::kHlt, 1);
  b.exit(exit_reason::kHlt, 1);
  b.marker(MarkerPhase::End, "inner");
  b.exit(exit_reason::kHlt, 1);
  b.marker(MarkerPhase::End, "outer");
  TraceStats st = compute_stats(b.trace());

  ASSERT_EQ(st.phases.size(), 3u);  // in order of their begin
  EXPECT_EQ(st.phases[0].label, "outer");
  EXPECT_EQ(st.phases[0].vm_exits, 4u);
  EXPECT_EQ(st.phases[1].label, "inner");
  EXPECT_EQ(st.phases[1].vm_exits, 1u);
  EXPECT_EQ(st.phases[2].label, "inner");
  EXPECT_EQ(st.phases[2].vm_exits, 2u);
  for (const PhaseStats& p : st.phases) EXPECT_TRUE(p.closed);
  EXPECT_EQ(st.unmatched_end_markers, 0u);
}

TEST(TraceStats, UnclosedPhaseRunsToTheEndAndStrayEndIsCounted) {
  TraceBuilder b;
  b.marker(MarkerPhase::End, "never began");
  b.marker(MarkerPhase::Begin, "cut off");
  b.exit(exit_reason::kHlt, 1);
  b.marker(MarkerPhase::Point, "a point is not a phase");
  b.exit(exit_reason::kHlt, 1).time_ns = 50'000'000;
  TraceStats st = compute_stats(b.trace());

  ASSERT_EQ(st.phases.size(), 1u);
  EXPECT_FALSE(st.phases[0].closed);
  EXPECT_EQ(st.phases[0].vm_exits, 2u);
  EXPECT_EQ(st.phases[0].end_seq, 4u);
  EXPECT_EQ(st.phases[0].end_ns, 50'000'000u);
  EXPECT_EQ(st.unmatched_end_markers, 1u);
}

TEST(TraceStats, PhasesBelongToTheirVcpu) {
  TraceBuilder b;
  b.marker(MarkerPhase::Begin, "work", 0);
  b.exit(exit_reason::kHlt, 1, 0);
  b.exit(exit_reason::kHlt, 1, 1);        // another vCPU's exit
  b.marker(MarkerPhase::End, "work", 1);  // another vCPU's end does not close it
  b.marker(MarkerPhase::End, "work", 0);
  TraceStats st = compute_stats(b.trace());

  ASSERT_EQ(st.phases.size(), 1u);
  EXPECT_EQ(st.phases[0].vm_exits, 1u);
  EXPECT_EQ(st.phases[0].end_seq, 4u);
  EXPECT_EQ(st.unmatched_end_markers, 1u);
}

TEST(TraceStats, KvmStatsGiveTheKernelSideOfEachReason) {
  // The KVM backend records running values; the last one is the total.
  TraceBuilder b;
  b.counter("insn_emulation", 100);
  b.io_exit(0x3f8, Direction::Out, 'a', 100);
  b.io_exit(0x3f8, Direction::Out, 'b', 100);
  b.counter("insn_emulation", 250);
  b.counter("kernel_exits", 9);
  b.counter("io_exits", 7);
  b.counter("exits", 11);
  b.counter("irq_exits", 4);
  b.counter("instructions", 5000, Source::Emulator);  // not a KVM stat
  TraceStats st = compute_stats(b.trace());

  EXPECT_EQ(st.kvm_stats.at("insn_emulation"), 250u);
  EXPECT_EQ(st.kvm_stats.count("instructions"), 0u);
  EXPECT_EQ(st.kernel_only_exits, 9u);
  const ExitReasonStats* io = find_reason(st, exit_reason::kIoInstruction);
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->vmm, 2u);
  EXPECT_EQ(io->kernel, 5u);
  // A reason the VMM never saw still gets a row from its stat.
  const ExitReasonStats* irq = find_reason(st, exit_reason::kExternalInterrupt);
  ASSERT_NE(irq, nullptr);
  EXPECT_EQ(irq->count, 0u);
  EXPECT_EQ(irq->kernel, 4u);
  EXPECT_EQ(st.exits_kernel, 9u);
  EXPECT_EQ(kvm_stat_for_reason(exit_reason::kHlt), "halt_exits");
  EXPECT_EQ(kvm_stat_for_reason(exit_reason::kCpuid), "");
}

TEST(TraceStats, KernelExitsFallBackToExitsMinusVmm) {
  TraceBuilder b;
  b.io_exit(0x3f8, Direction::Out, 'a', 100);
  b.counter("exits", 10);
  TraceStats st = compute_stats(b.trace());
  EXPECT_EQ(st.kernel_only_exits, 9u);
}

TEST(TraceStats, PhaseSeesHowMuchKvmStatsGrewInsideIt) {
  TraceBuilder b;
  b.counter("insn_emulation", 1000);
  b.marker(MarkerPhase::Begin, "p");
  b.counter("insn_emulation", 1500);
  b.counter("insn_emulation", 1800);
  b.counter("pf_fixed", 3);
  b.marker(MarkerPhase::End, "p");
  b.counter("insn_emulation", 9000);
  TraceStats st = compute_stats(b.trace());
  ASSERT_EQ(st.phases.size(), 1u);
  EXPECT_EQ(st.phases[0].kvm_stats.at("insn_emulation"), 800u);
  EXPECT_EQ(st.phases[0].kvm_stats.at("pf_fixed"), 3u);
  EXPECT_EQ(st.kvm_stats.at("insn_emulation"), 9000u);
}

TEST(WorkLabel, CountAndUnitAfterTheLastColon) {
  auto w = parse_work_label("syscalls: 16 writes");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->what, "syscalls");
  EXPECT_EQ(w->count, 16u);
  EXPECT_EQ(w->unit, "writes");
  w = parse_work_label("disk: io: 4096 bytes");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->what, "disk: io");
  EXPECT_EQ(w->count, 4096u);
  EXPECT_EQ(w->unit, "bytes");
  EXPECT_EQ(parse_work_label("x: 18446744073709551615 ops")->count, UINT64_MAX);
}

TEST(WorkLabel, AnythingElseIsNotOne) {
  for (const char* s :
       {"boot", "syscalls: many writes", "syscalls: 16", "syscalls: 16 ", "syscalls: 16 big writes",
        "syscalls:16 writes", "syscalls: -1 writes", "syscalls: 1e3 writes", "syscalls:  16 writes",
        "syscalls: 16 writes\n", "x: 18446744073709551616 ops"})  // one more than 64 bits holds: refused, never thrown
    EXPECT_FALSE(parse_work_label(s)) << s;
}

TEST(TraceStats, JsonUsesTheVocabularyNames) {
  TraceBuilder b;
  b.trace().header.scenario = "hello";
  b.trace().header.mode = "full-virt";
  b.marker(MarkerPhase::Begin, "p");
  b.io_exit(0x3f8, Direction::Out, 'a', 100);
  b.trap(TrapCause::Exception, 14, 3, 0);
  b.marker(MarkerPhase::End, "p");
  TraceStats st = compute_stats(b.trace());
  auto j = nlohmann::json::parse(stats_to_json(st));

  EXPECT_EQ(j["header"]["scenario"], "hello");
  EXPECT_EQ(j["events"], 4);
  EXPECT_EQ(j["by_kind"]["vm_exit"], 1);
  EXPECT_EQ(j["vm_exits"], 1);
  ASSERT_EQ(j["exits"].size(), 1u);
  EXPECT_EQ(j["exits"][0]["reason"], 30);
  EXPECT_EQ(j["exits"][0]["reason_name"], "io_instruction");
  EXPECT_EQ(j["exits"][0]["duration"]["total_ns"], 100);
  EXPECT_DOUBLE_EQ(j["exits"][0]["share"].get<double>(), 1.0);
  EXPECT_EQ(j["traps"][0]["vector"], 14);
  EXPECT_EQ(j["traps"][0]["cause"], "exception");
  EXPECT_EQ(j["ring_transitions"]["total"], 1);
  ASSERT_EQ(j["phases"].size(), 1u);
  EXPECT_EQ(j["phases"][0]["label"], "p");
  EXPECT_EQ(j["phases"][0]["vm_exits"], 1);
  EXPECT_EQ(j["phases"][0]["exits"][0]["reason_name"], "io_instruction");
}

}  // namespace
}  // namespace ringscope

namespace ringscope {
namespace {

// StatsBuilder's state is bounded by countable limits, not by the length of
// the trace: a guest that brackets 30 000 phases, nests 1 000 deep and names
// 10 000 counters leaves at most kMaxPhases phases, kMaxOpenPhases open and
// kMaxStatCounters counters, and says how many it did not keep.
TEST(TraceStatsBounds, PhasesAndCountersStayWithinTheirLimits) {
  StatsBuilder b;
  Event e;
  uint64_t seq = 0;
  auto add = [&](EventKind kind, MarkerPhase phase, std::string_view name) {
    e = Event{};
    e.seq = seq++;
    e.time_ns = seq * 10;
    e.kind = kind;
    e.phase = phase;
    e.name = name;
    if (kind == EventKind::Counter) {
      e.source = Source::KvmStats;
      e.value = 1;
    }
    b.add(e);
  };
  const std::string long_label(100'000, 'x');  // kept cut to kMaxPhaseLabel, and still matched
  for (size_t i = 0; i < 3 * kMaxPhases; ++i) {
    add(EventKind::Marker, MarkerPhase::Begin, long_label);
    add(EventKind::VmExit, MarkerPhase::Point, "");
    add(EventKind::Marker, MarkerPhase::End, long_label);
  }
  for (int i = 0; i < 1000; ++i) add(EventKind::Marker, MarkerPhase::Begin, "deep");
  std::vector<std::string> names;
  for (int i = 0; i < 10'000; ++i) names.push_back("stat" + std::to_string(i));
  for (const auto& n : names) add(EventKind::Counter, MarkerPhase::Point, n);
  TraceStats st = b.finish(TraceHeader{}, true, "");
  EXPECT_EQ(st.phases.size(), kMaxPhases);
  EXPECT_EQ(st.phases_dropped, 2 * kMaxPhases + 1000);
  EXPECT_EQ(st.unmatched_end_markers, 0u);
  EXPECT_EQ(st.phases.front().label.size(), kMaxPhaseLabel);
  EXPECT_TRUE(st.phases.front().closed);
  EXPECT_EQ(st.phases.front().vm_exits, 1u);
  EXPECT_EQ(st.vm_exits, 3 * kMaxPhases);
  EXPECT_EQ(st.kvm_stats.size(), kMaxStatCounters);
  EXPECT_EQ(st.counters_dropped, 10'000 - kMaxStatCounters);
}

}  // namespace
}  // namespace ringscope
