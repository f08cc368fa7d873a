// Every built-in scenario under the emulation backend: console output, exit
// status, and the events that show the CPU's rules at work (traps through
// the IDT, SYSCALL/SYSRET, page faults with their error codes), plus the
// limits and the watchdog.
#include <gtest/gtest.h>

#include <algorithm>

#include "emulation_test_support.h"

namespace ringscope::test {
namespace {

size_t count(const EmuRun& run, auto pred) {
  const auto& ev = run.sink.events();
  return static_cast<size_t>(std::count_if(ev.begin(), ev.end(), pred));
}

class EmulatedScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(EmulatedScenario, PrintsTheExpectedOutputAndExitsAsExpected) {
  auto s = find_builtin_scenario(GetParam());
  ASSERT_TRUE(s.ok());
  RunSpec spec;
  spec.vcpus = s->vcpus;  // its expected output is for that many CPUs
  auto run = run_guest(GetParam(), {}, spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, s->expected_status);
  ASSERT_TRUE(s->expected_output.has_value());
  EXPECT_EQ(run->console, *s->expected_output);
  ASSERT_FALSE(run->sink.events().empty());
  EXPECT_EQ(run->sink.events().back().kind, EventKind::RunEnd);
  // Emulation has no VM exits: the only ones recorded are the VT-x model's
  // (what would have exited), and they say so.
  EXPECT_EQ(count(*run, [](const Event& e) { return e.kind == EventKind::VmExit && e.source != Source::VmxModel; }),
            0u);
  EXPECT_GT(count(*run, [](const Event& e) { return e.kind == EventKind::VmExit && e.source == Source::VmxModel; }),
            0u);
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn || e.kind == EventKind::Step) {
      EXPECT_EQ(e.source, Source::Emulator);
    }
  }
  EXPECT_GT(run->instructions, 1000u);
}

INSTANTIATE_TEST_SUITE_P(AllBuiltIn, EmulatedScenario, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& s : builtin_scenarios()) names.push_back(s.name);
                           return names;
                         }()));

// echo: the program reads the console's input with read(0, ...): from
// the UART's RBR (native kernel) or virtio-console's receive queue (PV
// kernel, --devices virtio). Same output either way; a line longer than
// the PV driver's 64-byte buffer takes several.
TEST(EmulatedEcho, ReadsTheInputThroughTheUartAndThroughVirtioAndPrintsItInCapitals) {
  std::string word(100, 'x');
  for (DeviceSet devices : {DeviceSet::Legacy, DeviceSet::Virtio}) {
    SCOPED_TRACE(devices == DeviceSet::Legacy ? "legacy" : "virtio");
    RunSpec spec;
    spec.devices = devices;
    spec.input = "hello, World 42\nsecond line\n";
    auto run = run_guest("echo", {}, spec);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->result.guest_status, 0) << run->result.message;
    EXPECT_EQ(run->console, "echo: HELLO, WORLD 42\n");
    size_t rx = count(*run, [&](const Event& e) {
      return e.kind == EventKind::Device &&
             (devices == DeviceSet::Legacy ? e.device == "uart" && e.reg == "RBR" : e.reg == "receiveq");
    });
    if (devices == DeviceSet::Legacy)
      EXPECT_EQ(rx, 16u) << "one RBR read per byte of the first line";
    else
      EXPECT_GE(rx, 1u) << "the device filled a receive buffer";

    spec.input = word;  // no newline: the line ends with the input
    run = run_guest("echo", {}, spec);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->console, "echo: " + std::string(100, 'X') + "\n");

    spec.input.clear();
    run = run_guest("echo", {}, spec);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->console, "echo: no input (read returned 0: end of file)\n");
  }
}

// vmcall: Unicorn raises #UD (no VMX); the loop answers as KVM would and
// records a hypercall event with transport vmcall, and the VT-x model an
// exit 18 handled in the kernel, for every call.
TEST(EmulatedHypercallVmcall, EveryVmcallIsAnsweredAsKvmWouldAndIsAKernelHandledExit18) {
  auto run = run_emulated("hypercall-vmcall", {{"calls", "5"}});
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, 0);
  EXPECT_EQ(count(*run,
                  [](const Event& e) {
                    return e.kind == EventKind::Hypercall && e.transport == Transport::Vmcall && e.number == 1 &&
                           e.result == 0 && e.cpl == 0;
                  }),
            5u);
  EXPECT_EQ(count(*run,
                  [](const Event& e) {
                    return e.kind == EventKind::Hypercall && e.transport == Transport::Vmcall && e.number == 0x7f &&
                           e.result == static_cast<uint64_t>(-1000);
                  }),
            1u);
  EXPECT_EQ(count(*run,
                  [](const Event& e) {
                    return e.kind == EventKind::VmExit && e.source == Source::VmxModel && e.reason == 18 &&
                           e.handled_by == HandledBy::Kernel;
                  }),
            6u);
  EXPECT_EQ(
      count(*run, [](const Event& e) { return e.kind == EventKind::Hypercall && e.transport != Transport::Vmcall; }),
      0u)
      << "no doorbell hypercalls in this scenario";
}

TEST(EmulatedSyscalls, EveryIntGoesToVector0x40AndEveryReturnIsAnIretqToRing3) {
  auto run = run_emulated("syscalls", {{"n", "5"}});
  ASSERT_TRUE(run);
  size_t ints = count(*run, [](const Event& e) {
    return e.kind == EventKind::Trap && e.cause == TrapCause::SoftInt && e.vector == 0x40 && e.from_cpl == 3 &&
           e.to_cpl == 0;
  });
  EXPECT_GE(ints, 5u + 2) << "5 writes, plus marker and exit calls";
  size_t rets = count(*run, [](const Event& e) {
    return e.kind == EventKind::TrapReturn && e.cause == TrapCause::Iret && e.from_cpl == 0 && e.to_cpl == 3;
  });
  EXPECT_EQ(rets, ints) << "the first entry to ring 3 is an iretq too, the exit call never returns";
  // int $0x40 really arrives as vector 0x40 here, never as #UD.
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::Marker && e.name == "int40-via-ud") {
      EXPECT_EQ(e.value, 0u);
    }
  }
}

TEST(EmulatedSyscallInsn, SyscallGoesToLstarAndSysretqComesBack) {
  auto run = run_emulated("syscall-insn");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.guest_status, 0) << run->console;
  size_t calls = count(*run, [](const Event& e) {
    return e.kind == EventKind::Trap && e.cause == TrapCause::Syscall && e.from_cpl == 3 && e.to_cpl == 0;
  });
  size_t rets = count(*run, [](const Event& e) {
    return e.kind == EventKind::TrapReturn && e.cause == TrapCause::Sysret && e.from_cpl == 0 && e.to_cpl == 3;
  });
  EXPECT_EQ(calls, 6u) << "marker, write, getpid, write, marker, exit";
  EXPECT_EQ(rets, 5u) << "every call but exit returns";
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::Trap && e.cause == TrapCause::Syscall) {
      EXPECT_NE(e.rip_to, 0u) << "LSTAR";
    }
  }
}

TEST(EmulatedPagefault, OnePageFaultPerPageWithTheWriteUserNotPresentErrorCode) {
  auto run = run_emulated("pagefault", {{"pages", "5"}}, TraceLevel::Full);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, 0) << run->console;
  size_t pf = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind != EventKind::Trap || e.vector != 14) continue;
    pf++;
    EXPECT_EQ(e.from_cpl, 3);
    EXPECT_TRUE(e.has_error_code);
    EXPECT_EQ(e.error_code, 0x6u) << "W=1 U=1 P=0 (SDM §4.7)";
    EXPECT_GE(e.cr2, 0x8000000000u);
  }
  EXPECT_EQ(pf, 5u);
  size_t steps = count(*run, [](const Event& e) { return e.kind == EventKind::Step; });
  EXPECT_EQ(steps, run->result.steps);
  EXPECT_GT(steps, 1000u);
}

TEST(EmulatedPrivileged, HltInRing3IsAGeneralProtectionFault) {
  auto run = run_emulated("privileged", {}, TraceLevel::Full);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.guest_status, 141);
  size_t gp = count(*run, [](const Event& e) {
    return e.kind == EventKind::Trap && e.vector == 13 && e.from_cpl == 3 && e.has_error_code && e.error_code == 0;
  });
  EXPECT_EQ(gp, 1u);
  // The step before the #GP is the hlt itself (f4).
  const auto& ev = run->sink.events();
  for (size_t i = 1; i < ev.size(); i++)
    if (ev[i].kind == EventKind::Trap && ev[i].vector == 13) {
      ASSERT_EQ(ev[i - 1].kind, EventKind::Step);
      EXPECT_EQ(ev[i - 1].text, std::string_view("\xf4", 1));
    }
}

TEST(EmulatedIoBurst, EveryByteIsAnLsrReadAndAThrWrite) {
  auto run = run_emulated("io-burst", {{"bytes", "300"}});
  ASSERT_TRUE(run);
  size_t thr = count(*run, [](const Event& e) { return e.kind == EventKind::Device && e.reg == "THR"; });
  size_t lsr = count(*run, [](const Event& e) { return e.kind == EventKind::Device && e.reg == "LSR"; });
  EXPECT_GE(thr, 300u);
  EXPECT_GE(lsr, 300u);
}

TEST(EmulatedHooks, BlockAndInstructionHooksSeeTheSameTransitions) {
  RunSpec block, insn;
  insn.emu.granularity = emulation::HookGranularity::Instruction;
  auto a = run_guest("syscalls", {{"n", "3"}}, block);
  auto b = run_guest("syscalls", {{"n", "3"}}, insn);
  ASSERT_TRUE(a && b);
  auto transitions = [](const EmuRun& r) {
    std::vector<std::tuple<int, int, int, int, uint64_t, uint64_t>> out;
    for (const auto& e : r.sink.events())
      if (e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn)
        out.emplace_back(int(e.kind), e.vector, e.from_cpl, e.to_cpl, e.rip, e.rip_to);
    return out;
  };
  EXPECT_EQ(transitions(*a), transitions(*b));
  // Block counts come from decoded blocks (over-counting where a fault cut a
  // block short); the per-instruction hook also counts a faulting
  // instruction again when it is retried. Both stay within 1%.
  EXPECT_NEAR(double(a->instructions), double(b->instructions), b->instructions / 100.0);
}

TEST(EmulatedLimits, TheDeviceAccessLimitStopsTheRun) {
  RunSpec spec;
  spec.limits.max_exits = 50;
  auto run = run_guest("io-burst", {}, spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogExits) << run->result.message;
  EXPECT_TRUE(run->result.regs.has_value());
  EXPECT_EQ(run->sink.events().back().kind, EventKind::RunEnd);
}

TEST(EmulatedLimits, TheOutputLimitStopsTheRun) {
  RunSpec spec;
  spec.limits.max_output_bytes = 100;
  auto run = run_guest("io-burst", {}, spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogOutput) << run->result.message;
}

TEST(EmulatedLimits, TheStepLimitStopsALevelFullRun) {
  RunSpec spec;
  spec.level = TraceLevel::Full;
  spec.limits.max_exits = 2000;
  auto run = run_guest("syscalls", {}, spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogExits) << run->result.message;
  EXPECT_EQ(run->result.steps, 2000u);
}

TEST(EmulatedLimits, TheWallClockWatchdogStopsALongRun) {
  RunSpec spec;
  spec.level = TraceLevel::Full;
  spec.limits.wall_ms = 1;
  auto run = run_guest("io-burst", {{"bytes", "200000"}}, spec);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogTime) << run->result.message;
  EXPECT_EQ(run->sink.events().back().kind, EventKind::RunEnd);
}

}  // namespace
}  // namespace ringscope::test
