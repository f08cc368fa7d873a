// Guests with several vCPUs under KVM (smp_runner.h): one host thread per
// vCPU, named vcpuN, each with its own lane of events; the application
// processors started by the guest's INIT-SIPI-SIPI through KVM's in-kernel
// local APICs; one run_end per run.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "kvm/irqchip_probe.h"
#include "kvm/smp_runner.h"
#include "kvm_test_support.h"
#include "ringscope/acpi_tables.h"
#include "ringscope/supervisor.h"

namespace ringscope::test {
namespace {

#define RINGSCOPE_REQUIRE_KERNEL_IRQCHIP()                                                              \
  do {                                                                                                  \
    RINGSCOPE_REQUIRE_KVM();                                                                            \
    static const kvm::IrqchipProbe probe_ = kvm::probe_in_kernel_irqchip();                             \
    if (!probe_.works) GTEST_SKIP() << "several vCPUs need KVM's in-kernel irqchip: " << probe_.detail; \
  } while (0)

GuestSpec smp_spec(int vcpus) {
  GuestSpec spec;
  spec.vcpus = vcpus;
  spec.irqchip = IrqChip::Kernel;
  return spec;
}

TEST(KvmSmp, SmpHelloOnFourVcpusPrintsOneLinePerCpuAndEveryVcpuHasEvents) {
  RINGSCOPE_REQUIRE_KERNEL_IRQCHIP();
  auto s = find_builtin_scenario("smp-hello");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->vcpus, 4);
  auto run = run_guest("smp-hello", smp_spec(4));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  ASSERT_TRUE(s->expected_output.has_value());
  EXPECT_EQ(run->console, *s->expected_output);  // the same text the QEMU -smp 4 cross-check expects
  for (int cpu = 0; cpu < 4; cpu++)
    EXPECT_NE(run->console.find(fmt::format("cpu{} reporting in", cpu)), std::string::npos) << cpu;

  std::set<uint32_t> lanes, tids;
  size_t run_ends = 0;
  for (const auto& e : run->sink.events()) {
    lanes.insert(e.vcpu);
    if (e.kind == EventKind::RunEnd) run_ends++;
    if (e.kind == EventKind::Counter && e.name == kCounterVcpuThreadTid) tids.insert(static_cast<uint32_t>(e.value));
  }
  EXPECT_EQ(lanes, (std::set<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(run_ends, 1u);
  ASSERT_FALSE(run->sink.events().empty());
  EXPECT_EQ(run->sink.events().back().kind, EventKind::RunEnd);
  EXPECT_EQ(tids.size(), 4u) << "each vCPU on its own host thread";
  EXPECT_EQ(tids.count(static_cast<uint32_t>(gettid())), 0u);
}

// The names `ps -L` shows, read from /proc while the run is on: every vCPU
// thread lives from the start of the run to its end, so a reader that looks
// again and again until the run has ended sees all of them.
std::set<std::string> vcpu_thread_names_during(const std::string& scenario, const GuestSpec& spec) {
  std::atomic<bool> done{false};
  std::unique_ptr<GuestRun> run;
  std::thread runner([&] {
    run = run_guest(scenario, spec);
    done = true;
  });
  std::set<std::string> names;
  while (!done) {
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      std::ifstream comm(t.path() / "comm");
      std::string name;
      if (std::getline(comm, name) && name.starts_with("vcpu")) names.insert(name);
    }
    std::this_thread::yield();
  }
  runner.join();
  EXPECT_TRUE(run);
  if (run) {
    EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  }
  return names;
}

TEST(KvmSmp, VcpuThreadsAreNamedVcpu0ToVcpuN) {
  RINGSCOPE_REQUIRE_KERNEL_IRQCHIP();
  EXPECT_EQ(vcpu_thread_names_during("smp-hello", smp_spec(4)),
            (std::set<std::string>{"vcpu0", "vcpu1", "vcpu2", "vcpu3"}));
  EXPECT_EQ(kvm::vcpu_thread_name(3), "vcpu3");
}

TEST(KvmSmp, TheOneVcpuOfAUniprocessorRunIsNamedVcpu0) {
  RINGSCOPE_REQUIRE_KVM();
  EXPECT_EQ(vcpu_thread_names_during("hello", GuestSpec{}), (std::set<std::string>{"vcpu0"}));
}

// With the in-kernel irqchip the local APICs are KVM's: the guest's writes
// to the interrupt command register never reach the VMM, and the IPI still
// wakes the other CPU.
TEST(KvmSmp, IpiUnderTheInKernelIrqchipMakesNoVmmExitForTheLocalApic) {
  RINGSCOPE_REQUIRE_KERNEL_IRQCHIP();
  auto s = find_builtin_scenario("ipi");
  ASSERT_TRUE(s.ok());
  auto run = run_guest("ipi", smp_spec(2));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  ASSERT_TRUE(s->expected_output.has_value());
  EXPECT_EQ(run->console, *s->expected_output);
  size_t lapic_exits = 0;
  std::set<uint32_t> lanes;
  for (const auto& e : run->sink.events()) {
    lanes.insert(e.vcpu);
    if (e.kind == EventKind::VmExit && e.gpa >= kLapicBase && e.gpa < kLapicBase + 0x1000) lapic_exits++;
  }
  EXPECT_EQ(lapic_exits, 0u);
  EXPECT_EQ(lanes, (std::set<uint32_t>{0, 1}));
}

// `parallel` prints the same on 2 and 4 vCPUs as its manifest says (the
// text the emulation and QEMU -smp runs are held to), and ring 3 runs on
// more than one of them.
TEST(KvmSmp, ParallelPrintsTheManifestOutputOnTwoAndFourVcpus) {
  RINGSCOPE_REQUIRE_KERNEL_IRQCHIP();
  auto s = find_builtin_scenario("parallel");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->expected_output.has_value());
  for (int n : {2, 4}) {
    SCOPED_TRACE(n);
    auto run = run_guest("parallel", smp_spec(n));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
    EXPECT_EQ(run->console, *s->expected_output);
    std::set<uint32_t> ring3;
    for (const auto& e : run->sink.events())
      if (e.kind == EventKind::Marker && e.name.starts_with("pid ")) ring3.insert(e.vcpu);
    EXPECT_GE(ring3.size(), 2u) << "progress markers from more than one vCPU";
  }
}

TEST(KvmSmp, SeveralVcpusWithTheVmmIrqchipAreRefusedWithAReason) {
  RINGSCOPE_REQUIRE_KVM();
  auto config = scenario_config("smp-hello", {}, DeviceSet::Legacy);
  ASSERT_TRUE(config);
  config->vcpus = 2;
  auto machine = Machine::create(*config);
  ASSERT_TRUE(machine.ok());
  RecordingSink sink;
  kvm::KvmBackend backend;
  auto r = backend.run(*machine.value(), sink, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--irqchip kernel"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ringscope::test
