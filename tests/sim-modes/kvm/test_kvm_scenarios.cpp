// Every scenario this host can run, under KVM, checked for its console
// output, its exit status and the events it must contain.
#include <gtest/gtest.h>

#include <algorithm>

#include "kvm/irqchip_probe.h"
#include "kvm_test_support.h"
#include "ringscope/exit_reasons.h"

namespace ringscope::test {
namespace {

size_t count_if_events(const GuestRun& run, auto pred) {
  const auto& ev = run.sink.events();
  return static_cast<size_t>(std::count_if(ev.begin(), ev.end(), pred));
}

// Events strictly between the begin and end markers labelled `label`.
std::pair<size_t, size_t> phase(const GuestRun& run, std::string_view label) {
  const auto& ev = run.sink.events();
  size_t b = ev.size(), e = ev.size();
  for (size_t i = 0; i < ev.size(); i++) {
    if (ev[i].kind != EventKind::Marker || !ev[i].name.starts_with(label)) continue;
    if (ev[i].phase == MarkerPhase::Begin && b == ev.size()) b = i;
    if (ev[i].phase == MarkerPhase::End && b != ev.size()) e = i;
  }
  return {b, e};
}

class KvmScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmScenario, PrintsTheExpectedOutputAndExitsAsExpected) {
  RINGSCOPE_REQUIRE_KVM();
  auto s = find_builtin_scenario(GetParam());
  ASSERT_TRUE(s.ok());
  HostInfo host = probe_host();
  for (const auto& f : s->requires_features) {
    std::string why = kvm_refusal(host, f);
    if (!why.empty()) GTEST_SKIP() << why;
  }
  // A scenario meant for several CPUs gets them (smp_runner.h), with KVM's
  // in-kernel irqchip, whose local APICs start them.
  GuestSpec spec;
  if (s->vcpus > 1) {
    static const kvm::IrqchipProbe probe = kvm::probe_in_kernel_irqchip();
    if (!probe.works) GTEST_SKIP() << s->vcpus << " vCPUs need KVM's in-kernel irqchip: " << probe.detail;
    spec.vcpus = s->vcpus;
    spec.irqchip = IrqChip::Kernel;
  }
  auto run = run_guest(GetParam(), spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, s->expected_status);
  ASSERT_TRUE(s->expected_output.has_value());
  EXPECT_EQ(run->console, *s->expected_output);
  // Every run ends with a run_end event, and every exit that reached the VMM
  // is a vm_exit event with a VT-x reason from the table.
  ASSERT_FALSE(run->sink.events().empty());
  EXPECT_EQ(run->sink.events().back().kind, EventKind::RunEnd);
  size_t exits = count_if_events(*run, [](const Event& e) { return e.kind == EventKind::VmExit; });
  EXPECT_EQ(exits, run->result.exits);
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::VmExit) {
      EXPECT_NE(find_exit_reason(e.reason), nullptr) << e.reason;
    }
}

INSTANTIATE_TEST_SUITE_P(AllBuiltIn, KvmScenario, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& s : builtin_scenarios()) names.push_back(s.name);
                           return names;
                         }()));

TEST(KvmIoBurst, EveryByteIsOneThrWriteExitOnPort0x3f8) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("io-burst");
  ASSERT_TRUE(run);
  auto [b, e] = phase(*run, "io-burst");
  ASSERT_LT(e, run->sink.events().size()) << "io-burst begin/end markers";
  size_t thr = 0, lsr = 0;
  for (size_t i = b; i < e; i++) {
    const Event& ev = run->sink.events()[i];
    if (ev.kind != EventKind::VmExit) continue;
    EXPECT_EQ(ev.reason, exit_reason::kIoInstruction);
    if (ev.port == 0x3f8 && ev.direction == Direction::Out) thr++;
    if (ev.port == 0x3fd && ev.direction == Direction::In) lsr++;
  }
  EXPECT_EQ(thr, 4096u);
  EXPECT_EQ(lsr, 4096u) << "the driver polls LSR once per byte";
}

TEST(KvmSyscalls, TheParamSetsTheNumberOfWrites) {
  RINGSCOPE_REQUIRE_KVM();
  for (int n : {1, 5, 40}) {
    auto run = run_scenario("syscalls", {{"n", std::to_string(n)}});
    ASSERT_TRUE(run);
    EXPECT_EQ(run->result.guest_status, 0);
    size_t lines = std::count(run->console.begin(), run->console.end(), '\n');
    auto s = find_builtin_scenario("syscalls");
    size_t base = std::count(s->expected_output->begin(), s->expected_output->end(), '\n') - 16;
    EXPECT_EQ(lines, base + n) << run->console;
  }
}

TEST(KvmPagefault, FullLevelShowsOnePageFaultTrapPerPageFromRing3) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("pagefault", {{"pages", "5"}}, TraceLevel::Full);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  size_t pf = count_if_events(*run, [](const Event& e) {
    return e.kind == EventKind::Trap && e.vector == 14 && e.from_cpl == 3 && e.to_cpl == 0;
  });
  EXPECT_GE(pf, 5u);
  size_t steps = count_if_events(*run, [](const Event& e) { return e.kind == EventKind::Step; });
  EXPECT_GT(steps, 1000u);
  size_t returns = count_if_events(
      *run, [](const Event& e) { return e.kind == EventKind::TrapReturn && e.from_cpl == 0 && e.to_cpl == 3; });
  EXPECT_GE(returns, pf) << "each fault returns to ring 3 with iretq";
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::Trap && e.vector == 14) {
      EXPECT_TRUE(e.has_error_code);
      EXPECT_NE(e.cr2, 0u);
    }
}

TEST(KvmPrivileged, TheKernelKillsTheProgramWithAGeneralProtectionFault) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("privileged", {}, TraceLevel::Full);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.guest_status, 141);
  size_t gp = count_if_events(
      *run, [](const Event& e) { return e.kind == EventKind::Trap && e.vector == 13 && e.from_cpl == 3; });
  EXPECT_EQ(gp, 1u);
}

TEST(KvmBoot, ThePvhEntrySwitchesToLongModeItselfAndPrintsTheSame) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("syscalls", {}, TraceLevel::Exits, 60000, /*force_pvh=*/true);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->console, *find_builtin_scenario("syscalls")->expected_output);
  // The 32-bit entry's own switch to long mode is recorded: paging and
  // EFER.LMA off before, on after.
  bool to_long_mode = false;
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::ModeChange && !(e.prev_cr0 & 0x80000000u) && (e.cr0 & 0x80000000u) && (e.efer & 0x400))
      to_long_mode = true;
  EXPECT_TRUE(to_long_mode);
}

}  // namespace
}  // namespace ringscope::test
