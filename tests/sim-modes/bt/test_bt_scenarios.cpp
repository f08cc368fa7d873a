// Mode bt against full-virt: every scenario full-virt runs gives the same
// console output and exit status under binary translation; the world
// switches of `syscalls` are the kernel's system calls, one pair each; and
// the translator never runs a ring-3 instruction (user code only ever runs
// directly, under KVM).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bt/bt_backend.h"
#include "bt_test_support.h"
#include "emulation/emulation_backend.h"

namespace ringscope::test {
namespace {

// Every single-CPU scenario this host's full-virt runs (syscall-insn and
// hypercall-vmcall need VT-x/AMD-V; ipi and smp-hello several vCPUs).
class BtSameAsFullVirt : public ::testing::TestWithParam<const char*> {};

TEST_P(BtSameAsFullVirt, SameOutputAndStatus) {
  RINGSCOPE_REQUIRE_KVM();
  std::string name = GetParam();
  std::string input = name == "echo" ? "binary translation\n" : "";
  GuestSpec spec;
  spec.input = input;
  auto kvm = run_guest(name, spec);
  auto bt = run_bt(name, {}, input);
  ASSERT_TRUE(kvm && bt);
  EXPECT_EQ(bt->result.end, kvm->result.end) << bt->result.message;
  EXPECT_EQ(bt->result.guest_status, kvm->result.guest_status) << bt->result.message;
  EXPECT_EQ(bt->console, kvm->console);
  EXPECT_EQ(bt->figures.ring3_instructions, 0u) << "the translator ran ring-3 code";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, BtSameAsFullVirt,
                         ::testing::Values("hello", "compute", "console-write", "disk-io", "echo", "hypercall",
                                           "io-burst", "pagefault", "parallel", "privileged", "syscalls", "tick"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// Two scenarios full-virt cannot run on a PVM host run under bt: the
// kernel's vmcall is translated (answered as KVM answers it), and the
// monitor turns PVM's ring-3 SYSCALL back into the architecture's
// (bt_quirks.h). Compared with emulation, which needs no KVM.
class BtBeyondPvm : public ::testing::TestWithParam<const char*> {};

TEST_P(BtBeyondPvm, SameAsEmulation) {
  RINGSCOPE_REQUIRE_KVM();
  std::string name = GetParam();
  std::optional<MachineConfig> config = scenario_config(name, {}, DeviceSet::Legacy);
  ASSERT_TRUE(config);
  auto machine = Machine::create(*config);
  ASSERT_TRUE(machine.ok());
  RecordingSink sink;
  emulation::EmulationBackend emu;
  auto er = emu.run(*machine.value(), sink, RunOptions{});
  ASSERT_TRUE(er.ok());
  auto bt = run_bt(name);
  ASSERT_TRUE(bt);
  EXPECT_EQ(bt->result.end, er.value().end) << bt->result.message;
  EXPECT_EQ(bt->result.guest_status, er.value().guest_status);
  EXPECT_EQ(bt->console, machine.value()->console_text());
  EXPECT_EQ(bt->figures.ring3_instructions, 0u);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, BtBeyondPvm, ::testing::Values("syscall-insn", "hypercall-vmcall"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// Each world switch out of direct execution is a trap from ring 3 that the
// kernel then handles in the translator; in `syscalls` those are its
// system calls (and any timer tick that landed in ring 3).
TEST(BtWorldSwitches, OnePairPerSystemCall) {
  RINGSCOPE_REQUIRE_KVM();
  auto bt = run_bt("syscalls", {{"n", "40"}});
  ASSERT_TRUE(bt);
  ASSERT_TRUE(bt->result.ok()) << bt->result.message;
  uint64_t from_ring3 = 0, syscalls = 0, returns_to_ring3 = 0, to_direct = 0, to_translated = 0, syscall_switches = 0;
  for (const auto& e : bt->sink.events()) {
    if (e.kind == EventKind::Trap && e.from_cpl == 3) {
      from_ring3++;
      if (e.vector == 0x40 && e.cause == TrapCause::SoftInt) syscalls++;
    }
    if (e.kind == EventKind::TrapReturn && e.to_cpl == 3) returns_to_ring3++;
    if (e.kind == EventKind::WorldSwitch && e.to_world == BtWorld::Direct) {
      to_direct++;
      EXPECT_EQ(e.cause, TrapCause::Iret) << "the kernel returns to ring 3 with iretq";
    }
    if (e.kind == EventKind::WorldSwitch && e.from_world == BtWorld::Direct) {
      to_translated++;
      if (e.cause == TrapCause::SoftInt && e.vector == 0x40) syscall_switches++;
    }
  }
  // What the kernel did (its traps from ring 3 and returns to it) is what
  // the monitor switched for: one pair per system call.
  EXPECT_EQ(to_direct, returns_to_ring3);
  EXPECT_EQ(to_translated, from_ring3);
  EXPECT_EQ(syscall_switches, syscalls);
  EXPECT_EQ(bt->figures.world_switches, to_direct);
  EXPECT_EQ(bt->result.exits, to_translated) << "the exits that reached the VMM are the switches out of ring 3";
  // 40 write() calls, plus the program's own (markers, exit): all int $0x40.
  EXPECT_GE(syscalls, 40u);
  EXPECT_LE(from_ring3 - syscalls, 2u) << "only a timer tick may add a switch";
  EXPECT_EQ(bt->figures.ring3_instructions, 0u);
  EXPECT_GT(bt->figures.kernel_instructions, 0u);
}

// The translation cache sees every port access as a callout: the I/O
// callouts counted from the translated blocks are the device accesses the
// bus answered. Blocks are reused (translated once, run many times).
TEST(BtTranslationCache, IoCalloutsAreTheDeviceAccesses) {
  RINGSCOPE_REQUIRE_KVM();
  auto bt = run_bt("syscalls");
  ASSERT_TRUE(bt);
  ASSERT_TRUE(bt->result.ok()) << bt->result.message;
  uint64_t device_accesses = 0;
  for (const auto& e : bt->sink.events())
    if (e.kind == EventKind::Counter && e.name == "device_accesses") device_accesses = e.value;
  EXPECT_GT(device_accesses, 0u);
  EXPECT_EQ(bt->figures.io_callouts, device_accesses);
  EXPECT_GT(bt->figures.tc_blocks, 0u);
  EXPECT_GT(bt->figures.tc_block_runs, 2 * bt->figures.tc_blocks) << "translated blocks are reused";
  EXPECT_GT(bt->figures.hottest_callout.second, 0u);
}

// `hello` never leaves ring 0: no world switch at all.
TEST(BtWorldSwitches, KernelOnlyScenarioNeverSwitches) {
  RINGSCOPE_REQUIRE_KVM();
  auto bt = run_bt("hello");
  ASSERT_TRUE(bt);
  EXPECT_TRUE(bt->result.ok()) << bt->result.message;
  EXPECT_EQ(bt->figures.world_switches, 0u);
  EXPECT_EQ(bt->result.exits, 0u);
}

}  // namespace
}  // namespace ringscope::test
