// test_nanobench.cpp — the nanobench scenario (scenarios/nanobench): each row
// of Adams & Agesen's table is a closed phase with its operation count, and
// the exits per operation are the ones each way of running the guest makes.
// Everything is counted from the run's events, never timed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "emulation_test_support.h"
#include "ringscope/devices/probe.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/host.h"
#include "ringscope/trace_stats.h"

namespace ringscope::test {
namespace {

constexpr uint64_t kOps = 20;

std::string label(std::string_view row, std::string_view unit) { return fmt::format("{}: {} {}", row, kOps, unit); }

TraceStats stats_of(const EmuRun& run) {
  StatsBuilder b;
  for (const auto& e : run.sink.events()) b.add(e);
  return b.finish(TraceHeader{}, true, "");
}

// The phase labelled `l`, which must be there once and closed.
const PhaseStats* phase(const TraceStats& st, const std::string& l) {
  const PhaseStats* found = nullptr;
  int n = 0;
  for (const auto& p : st.phases)
    if (p.label == l) {
      found = &p;
      n++;
    }
  EXPECT_EQ(n, 1) << l;
  EXPECT_TRUE(found && found->closed) << l;
  return found;
}

// The exits inside the phase, of one reason or (kAny) all, but the closing
// marker's own: a marker is an `out` to the probe port, and its exit comes
// just before the marker event.
constexpr int kAny = -1;
uint64_t exits(const EmuRun& run, const PhaseStats& p, int reason = kAny) {
  uint64_t n = 0;
  for (const auto& e : run.sink.events())
    if (e.seq > p.begin_seq && e.seq < p.end_seq && e.kind == EventKind::VmExit && e.port != kProbeBase &&
        (reason == kAny || e.reason == reason))
      n++;
  return n;
}

std::map<std::string, std::string> params() { return {{"n", std::to_string(kOps)}}; }

// The run ended well and printed what expected.txt says for n = kOps.
void expect_output(const EmuRun& run) {
  EXPECT_EQ(run.result.end, RunEndReason::GuestExit) << run.result.message;
  EXPECT_EQ(run.result.guest_status, 0) << run.console;
  auto s = find_builtin_scenario("nanobench");
  ASSERT_TRUE(s.ok() && s->expected_output);
  std::string want = *s->expected_output;  // for the default n = 100
  for (size_t at = want.find("100"); at != std::string::npos; at = want.find("100", at))
    want.replace(at, 3, std::to_string(kOps));
  EXPECT_EQ(run.console, want);
}

// The traps of the phase with this vector, from ring 3.
uint64_t user_traps(const EmuRun& run, const PhaseStats& p, uint8_t vector) {
  uint64_t n = 0;
  for (const auto& e : run.sink.events())
    if (e.seq > p.begin_seq && e.seq < p.end_seq && e.kind == EventKind::Trap && e.cause == TrapCause::Exception &&
        e.vector == vector && e.from_cpl == 3)
      n++;
  return n;
}

TEST(Nanobench, UnderEmulationEveryRowIsAPhaseAndTheVtxModelExitsOnlyWhereVtxWould) {
  auto run = run_guest("nanobench", params(), RunSpec{});
  ASSERT_TRUE(run);
  expect_output(*run);
  TraceStats st = stats_of(*run);
  const PhaseStats* in = phase(st, label("in", "reads"));
  const PhaseStats* cr8 = phase(st, label("cr8wr", "writes"));
  const PhaseStats* sys = phase(st, label("syscall", "calls"));
  const PhaseStats* call = phase(st, label("call/ret", "calls"));
  const PhaseStats* pf = phase(st, label("pgfault", "faults"));
  const PhaseStats* de = phase(st, label("divzero", "faults"));
  const PhaseStats* pte = phase(st, label("ptemod", "changes"));
  ASSERT_TRUE(in && cr8 && sys && call && pf && de && pte);
  // The kernel brackets its own loops: an in is one I/O exit, and nothing else exits.
  EXPECT_EQ(exits(*run, *in), kOps);
  EXPECT_EQ(exits(*run, *in, exit_reason::kIoInstruction), kOps);
  EXPECT_EQ(exits(*run, *cr8), kOps) << "the model has no TPR shadow: every CR8 write is a CR access";
  EXPECT_EQ(exits(*run, *cr8, exit_reason::kCrAccess), kOps);
  EXPECT_EQ(exits(*run, *call), 0u);
  // The guest's own system calls and faults: VT-x with EPT does not exit.
  EXPECT_EQ(exits(*run, *sys), 0u);
  EXPECT_EQ(exits(*run, *de), 0u);
  EXPECT_EQ(exits(*run, *pf), 0u);
  EXPECT_EQ(exits(*run, *pte), 0u);
  // And the emulator saw each fault reach the guest kernel.
  EXPECT_EQ(user_traps(*run, *de, 0), kOps) << "one #DE per division";
  EXPECT_EQ(user_traps(*run, *pf, 14), kOps) << "one #PF per new page";
}

TEST(Nanobench, WithoutEptThePaperRowsOfTheMmuExit) {
  RunSpec spec;
  auto profile = vmx::load_profile("no-ept");
  ASSERT_TRUE(profile.ok());
  spec.vmx_profile = std::make_shared<const vmx::Profile>(profile.value());
  auto run = run_guest("nanobench", params(), spec);
  ASSERT_TRUE(run);
  expect_output(*run);
  TraceStats st = stats_of(*run);
  const PhaseStats* pf = phase(st, label("pgfault", "faults"));
  const PhaseStats* pte = phase(st, label("ptemod", "changes"));
  const PhaseStats* de = phase(st, label("divzero", "faults"));
  ASSERT_TRUE(pf && pte && de);
  EXPECT_GE(exits(*run, *pf, exit_reason::kExceptionNmi), kOps) << "shadow paging: every guest #PF exits";
  EXPECT_EQ(exits(*run, *pte, exit_reason::kInvlpg), kOps) << "INVLPG exiting";
  EXPECT_EQ(exits(*run, *pte), 2 * kOps) << "and the store into the write-protected page table: a #PF exit";
  EXPECT_EQ(exits(*run, *de), 0u) << "#DE is not in the exception bitmap even without EPT";
}

TEST(Nanobench, UnderKvmAnInIsOneRealExitAndTheOtherRowsStayInTheGuest) {
  HostInfo host = probe_host();
  if (!host.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host.kvm_open_error;
  RunSpec spec;
  spec.kvm = true;
  auto run = run_guest("nanobench", params(), spec);
  ASSERT_TRUE(run);
  expect_output(*run);
  TraceStats st = stats_of(*run);
  const PhaseStats* in = phase(st, label("in", "reads"));
  ASSERT_TRUE(in);
  EXPECT_EQ(exits(*run, *in), kOps);
  EXPECT_EQ(exits(*run, *in, exit_reason::kIoInstruction), kOps);
  for (auto [row, unit] : {std::pair{"syscall", "calls"},
                           {"cr8wr", "writes"},
                           {"call/ret", "calls"},
                           {"divzero", "faults"},
                           {"ptemod", "changes"}}) {
    const PhaseStats* p = phase(st, label(row, unit));
    ASSERT_TRUE(p);
    EXPECT_EQ(exits(*run, *p), 0u) << row << ": KVM handles it in the kernel or the guest does, never the VMM";
  }
}

}  // namespace
}  // namespace ringscope::test
