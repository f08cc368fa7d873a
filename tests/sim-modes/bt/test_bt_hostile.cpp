// A hostile guest under mode bt: one that leaves the monitor no room in its
// address space gets a clear error naming the reason, not a crash or a hang.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "bt/bt_backend.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "sim-modes/kvm/kvm_test_support.h"
#include "support/scenario_config.h"
#include "support/tiny_elf.h"

namespace ringscope::test {
namespace {

std::vector<uint8_t> guest_code(const std::string& name) {
  std::ifstream in(std::string(RINGSCOPE_BT_GUESTS) + "/" + name + ".bin", std::ios::binary);
  EXPECT_TRUE(in) << "guest " << name << " was not built";
  return {std::istreambuf_iterator<char>(in), {}};
}

struct BareRun {
  Result<RunResult> result = RunResult{};
  RecordingSink sink;
  bt::BtFigures figures;
};

// A bare guest (guests/NAME.S) under mode bt.
std::unique_ptr<BareRun> run_bare(const std::string& name) {
  TinyKernel k;
  k.code = guest_code(name);
  if (k.code.empty()) return nullptr;
  k.pvh = false;  // 64-bit code: the ringscope 64-bit entry only
  auto path = write_temp_file("bt-" + name, make_tiny_kernel(k));
  MachineConfig config;
  config.kernel = path;
  auto machine = Machine::create(config);
  std::filesystem::remove(path);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<BareRun>();
  RunOptions options;
  options.limits.wall_ms = 60000;
  bt::BtBackend backend;
  run->result = backend.run(**machine, run->sink, options);
  run->figures = backend.figures();
  return run;
}

// The timer interrupts ring 3: each tick kicks direct execution out and is
// delivered to the kernel in the translator (a world switch with cause
// interrupt, then the trap from ring 3).
TEST(BtInterrupts, TimerTicksReachRing0FromDirectExecution) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_bare("usertick");
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.error().message;
  EXPECT_TRUE(run->result->ok()) << run->result->message;
  uint64_t interrupts_from_ring3 = 0, kicked = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::Trap && e.cause == TrapCause::Interrupt && e.from_cpl == 3) interrupts_from_ring3++;
    if (e.kind == EventKind::WorldSwitch && e.from_world == BtWorld::Direct && e.cause == TrapCause::Interrupt)
      kicked++;
  }
  EXPECT_EQ(interrupts_from_ring3, 20u) << "every tick was taken in ring 3";
  EXPECT_GE(kicked, interrupts_from_ring3);
  EXPECT_EQ(run->figures.ring3_instructions, 0u);
}

TEST(BtHostile, AGuestThatUsesEveryPml4SlotIsRefusedClearly) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_bare("fullpml4");
  ASSERT_TRUE(run);
  auto& r = run->result;
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->end, RunEndReason::VmmError) << r->message;
  EXPECT_NE(r->message.find("all 512 PML4 slots"), std::string::npos) << r->message;
  EXPECT_NE(r->message.find("--mode full-virt"), std::string::npos) << r->message;
  EXPECT_EQ(run->figures.ring3_instructions, 0u);
  EXPECT_EQ(run->figures.world_switches, 1u);
}

// Ring 3 that does not trap before the limit (1e9 rounds of a dependent
// multiply chain) is stopped by
// the wall-time watchdog's kick out of KVM_RUN, with a typed failure.
TEST(BtWatchdog, StopsRing3ThatNeverTraps) {
  RINGSCOPE_REQUIRE_KVM();
  std::optional<MachineConfig> config = scenario_config("compute", {{"n", "1000000000"}}, DeviceSet::Legacy);
  ASSERT_TRUE(config);
  auto machine = Machine::create(*config);
  ASSERT_TRUE(machine.ok());
  RecordingSink sink;
  RunOptions options;
  options.limits.wall_ms = 300;  // 1e9 dependent multiplies take over 0.6 s on any CPU
  bt::BtBackend backend;
  auto r = backend.run(**machine, sink, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->end, RunEndReason::WatchdogTime) << r->message;
  EXPECT_GE(backend.figures().world_switches, 1u);
  EXPECT_EQ(backend.figures().ring3_instructions, 0u);
}

// What bt cannot do is refused up front, each with what to use instead.
TEST(BtRefuses, LevelFullAndSeveralVcpus) {
  std::optional<MachineConfig> config = scenario_config("hello", {}, DeviceSet::Legacy);
  ASSERT_TRUE(config);
  {
    auto machine = Machine::create(*config);
    ASSERT_TRUE(machine.ok());
    RecordingSink sink;
    RunOptions options;
    options.level = TraceLevel::Full;
    bt::BtBackend backend;
    auto r = backend.run(**machine, sink, options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Usage);
    EXPECT_NE(r.error().message.find("--mode emulation --level full"), std::string::npos) << r.error().message;
  }
  config->vcpus = 2;
  config->irqchip = IrqChip::Kernel;
  auto machine = Machine::create(*config);
  ASSERT_TRUE(machine.ok());
  RecordingSink sink;
  bt::BtBackend backend;
  auto r = backend.run(**machine, sink, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Usage);
  EXPECT_NE(r.error().message.find("one vCPU"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ringscope::test
