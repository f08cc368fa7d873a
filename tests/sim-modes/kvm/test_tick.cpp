// Scenario `tick` under KVM: the PIT's IRQ 0 through the PIC. With the
// VMM's own PIC and PIT (--irqchip vmm) each tick is injected with
// KVM_INTERRUPT, one irq_inject per tick; with KVM's in-kernel irqchip and
// PIT (--irqchip kernel) the same ticks never reach the VMM at all.
#include <unistd.h>

#include "kvm_test_support.h"
#include "ringscope/supervisor.h"

namespace ringscope::test {
namespace {

TEST(KvmTick, EveryTickIsInjectedAndHandled) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("tick", {{"ticks", "15"}, {"hz", "200"}});
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  EXPECT_NE(run->console.find("tick: 15 ticks counted"), std::string::npos) << run->console;
  size_t injected = 0, halts = 0, eois = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::IrqInject) {
      injected++;
      EXPECT_EQ(e.vector, 32);
    }
    if (e.kind == EventKind::VmExit && e.reason == 12) halts++;
    if (e.kind == EventKind::Device && e.device == "pic-master" && e.reg == "EOI") eois++;
  }
  EXPECT_EQ(injected, 15u);
  EXPECT_EQ(eois, 15u) << "the handler ends each interrupt at the PIC";
  EXPECT_GE(halts, 1u);
  EXPECT_LE(halts, 15u);
}

TEST(KvmTick, ExpectedOutputAtDefaultParams) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("tick");
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  auto s = find_builtin_scenario("tick");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(run->console, *s->expected_output);
}

TEST(KvmTick, InKernelIrqchipAndPitDeliverEveryTickWithoutTheVmm) {
  RINGSCOPE_REQUIRE_KVM();
  GuestSpec spec;
  spec.params = {{"ticks", "15"}, {"hz", "200"}};
  spec.irqchip = IrqChip::Kernel;
  auto run = run_guest("tick", spec);
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  EXPECT_NE(run->console.find("tick: 15 ticks counted"), std::string::npos) << run->console;
  for (const auto& e : run->sink.events()) {
    EXPECT_NE(e.kind, EventKind::IrqInject) << "KVM's PIT and PIC deliver the tick; the VMM injects nothing";
    if (e.kind == EventKind::VmExit) {
      EXPECT_NE(e.reason, 12) << "hlt waits inside KVM_RUN";
    }
    if (e.kind == EventKind::Device) {
      EXPECT_TRUE(e.device != "pic-master" && e.device != "pit") << e.device;
    }
  }
  EXPECT_FALSE(exited_on_port(*run, {0x20, 0x21, 0xa0, 0xa1, 0x40, 0x43})) << "KVM answers the PIC and PIT ports";
  EXPECT_GE(last_counter(*run, "irq_injections"), 15u) << "KVM's stats fd counts the deliveries";
}

// Seen from the host, the VM is this process and the vCPU one of its
// threads (not the main one): the trace says which, and how much CPU time
// the scheduler gave it, which for a guest that mostly waits in hlt is a
// small part of the run's wall time.
TEST(KvmTick, TheHostSeesAProcessAndAVcpuThread) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("tick", {{"ticks", "10"}, {"hz", "100"}});
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  const auto& ev = run->sink.events();
  ASSERT_GE(ev.size(), 4u);
  EXPECT_EQ(ev.back().kind, EventKind::RunEnd);
  uint64_t pid = 0, tid = 0, cpu_ns = 0;
  for (const auto& e : ev)
    if (e.kind == EventKind::Counter && e.source == Source::Vmm) {
      if (e.name == kCounterHostPid) pid = e.value;
      if (e.name == kCounterVcpuThreadTid) tid = e.value;
      if (e.name == kCounterVcpuThreadCpuNs) cpu_ns = e.value;
    }
  EXPECT_EQ(pid, static_cast<uint64_t>(getpid()));
  EXPECT_NE(tid, 0u);
  EXPECT_NE(tid, pid) << "the vCPU runs on a thread of its own";
  EXPECT_GT(cpu_ns, 0u);
  EXPECT_LT(cpu_ns, run->result.wall_ns + 10'000'000) << "one thread cannot use more CPU than the run's wall time";
}

}  // namespace
}  // namespace ringscope::test
