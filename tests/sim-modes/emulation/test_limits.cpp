// Bounded and contained: the emulation backend under interrupt load and at
// its limits, with the bare guests in guests/*.S (guest.h says how they are
// built and report). Everything here is counted, nothing timed: the PIT
// runs on guest time under emulation (docs/interrupts.md), so each run is
// the same on every host.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "support/tiny_elf.h"

namespace ringscope::test {
namespace {

constexpr uint64_t kCounters = 0x180000;  // guest.h: COUNTERS

// Counts events by kind and cause instead of keeping them: the storm's
// trace has hundreds of thousands.
class CountingSink final : public EventSink {
 public:
  void emit(Event& e) override {
    total++;
    by_kind[e.kind]++;
    if (e.kind == EventKind::Trap) traps[{e.cause, e.vector}]++;
    if (e.kind == EventKind::RunEnd) end_text = std::string(e.text);
  }
  uint64_t total = 0;
  std::map<EventKind, uint64_t> by_kind;
  std::map<std::pair<TrapCause, uint8_t>, uint64_t> traps;
  std::string end_text;
};

struct BareRun {
  RunResult result;
  CountingSink sink;
  uint64_t counters[3] = {};
  uint64_t instructions = 0;
};

std::vector<uint8_t> guest_code(const std::string& name) {
  std::ifstream in(std::string(RINGSCOPE_EMU_GUESTS) + "/" + name + ".bin", std::ios::binary);
  EXPECT_TRUE(in) << "guest " << name << " was not built";
  return {std::istreambuf_iterator<char>(in), {}};
}

enum class On : uint8_t { Emulation, Kvm };

std::unique_ptr<BareRun> run_bare(const std::string& name, RunLimits limits = {}, TraceLevel level = TraceLevel::Exits,
                                  On on = On::Emulation) {
  TinyKernel k;
  k.code = guest_code(name);
  if (k.code.empty()) return nullptr;
  k.pvh = false;  // only the 64-bit entry: the guests are 64-bit code
  auto path = write_temp_file("emu-" + name, make_tiny_kernel(k));
  MachineConfig config;
  config.kernel = path;
  auto machine = Machine::create(config);
  std::filesystem::remove(path);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<BareRun>();
  RunOptions options;
  options.level = level;
  options.limits = limits;
  Result<RunResult> r = RunResult{};
  if (on == On::Kvm) {
    kvm::KvmBackend backend;
    r = backend.run(**machine, run->sink, options);
  } else {
    emulation::EmulationBackend backend;
    r = backend.run(**machine, run->sink, options);
    run->instructions = backend.instructions();
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = *r;
  (*machine)->memory().read(kCounters, run->counters, sizeof run->counters);
  return run;
}

uint64_t interrupts(const CountingSink& s, uint8_t vector) {
  auto it = s.traps.find({TrapCause::Interrupt, vector});
  return it == s.traps.end() ? 0 : it->second;
}
uint64_t exceptions(const CountingSink& s, uint8_t vector) {
  auto it = s.traps.find({TrapCause::Exception, vector});
  return it == s.traps.end() ? 0 : it->second;
}

// spin.S: `sti; jmp .` — only the timer can end the run.
TEST(EmulationLimits, ASpinningGuestReceivesTimerTicks) {
  for (TraceLevel level : {TraceLevel::Off, TraceLevel::Exits, TraceLevel::Full}) {
    auto run = run_bare("spin", {}, level);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
    EXPECT_EQ(run->result.guest_status, 0);
    EXPECT_EQ(run->counters[0], 50u) << "ticks the guest counted";
    if (level != TraceLevel::Off) {
      EXPECT_EQ(interrupts(run->sink, 32), 50u) << "ticks the trace shows";
    }
  }
}

TEST(EmulationLimits, TheSameSpinningGuestTicksUnderKvm) {
  if (!probe_host().kvm_openable) GTEST_SKIP() << "needs /dev/kvm for the KVM half of the cross-check";
  auto run = run_bare("spin", {}, TraceLevel::Exits, On::Kvm);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->counters[0], 50u);
}

TEST(EmulationLimits, GuestTimeIsInstructionCountSoRunsRepeat) {
  // Guest time is the instruction count: the same guest takes its ticks at
  // the same instructions, run after run.
  auto a = run_bare("spin");
  auto b = run_bare("spin");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->instructions, b->instructions);
  EXPECT_GT(a->instructions, 50u * 99000) << "50 ticks of ~100 us at one instruction per guest ns";
}

// storm.S: the PIT at count 2, `sti; hlt`, a handler that spins past the
// next tick. 200,000 interrupts, each one counted by the guest and traced.
TEST(EmulationLimits, SurvivesATwoHundredThousandInterruptStorm) {
  RunLimits limits;
  limits.wall_ms = 280'000;  // a backstop only (ctest allows 300 s): the run ends by the guest's own count
  auto run = run_bare("storm", limits);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, 0);
  EXPECT_EQ(run->counters[0], 200000u);
  EXPECT_EQ(interrupts(run->sink, 32), 200000u) << "one trap per interrupt the guest counted";
  for (const auto& [what, n] : run->sink.traps)
    EXPECT_EQ(what.second, 32) << n << " traps of cause " << cause_name(what.first) << " at vector " << int(what.second)
                               << ": nothing but IRQ 0 (no #DF, no other exception); the run ended: "
                               << run->sink.end_text;
}

// msr.S: rdmsr and wrmsr of an MSR nobody implements raise #GP(0) with the
// registers untouched; IA32_LSTAR and IA32_EFER work.
TEST(EmulationLimits, UnknownMsrRaisesGeneralProtection) {
  auto run = run_bare("msr");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, 2) << "two #GPs (0xbd: a register changed, 0xee: another exception)";
  EXPECT_EQ(run->counters[1], 0u) << "error code 0";
  EXPECT_EQ(exceptions(run->sink, 13), 2u);
}

TEST(EmulationLimits, UnknownMsrFaultsTheSameUnderKvm) {
  if (!probe_host().kvm_openable) GTEST_SKIP() << "needs /dev/kvm for the KVM half of the cross-check";
  auto emu = run_bare("msr");
  auto kvm = run_bare("msr", {}, TraceLevel::Exits, On::Kvm);
  ASSERT_TRUE(emu && kvm);
  EXPECT_EQ(kvm->result.end, RunEndReason::GuestExit) << kvm->result.message;
  EXPECT_EQ(emu->result.guest_status, kvm->result.guest_status);
  EXPECT_EQ(emu->counters[1], kvm->counters[1]);
  EXPECT_EQ(emu->counters[2], kvm->counters[2]) << "the #GP's RIP is the rdmsr's";
}

long max_rss_kb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// udloop.S: a #UD handler that returns to the ud2. The exit limit (here a
// count of faults, as every fault would be an exit under KVM) ends it with a
// typed failure and a trace whose size follows the limit.
TEST(EmulationLimits, AFaultLoopEndsAtItsLimitWithBoundedEvents) {
  RunLimits limits;
  limits.max_exits = 20000;
  long before = max_rss_kb();
  auto run = run_bare("udloop", limits);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogExits) << run->result.message;
  EXPECT_TRUE(run->result.regs.has_value());
  EXPECT_EQ(exceptions(run->sink, 6), 20000u);
  EXPECT_EQ(run->counters[0], 20000u) << "the guest's own count of #UD";
  EXPECT_LE(run->sink.total, 4u * 20000 + 100) << "a bounded number of events per fault";
  // The process's peak RSS: a leak of even a few KiB per fault shows at this count.
  EXPECT_LT(max_rss_kb() - before, 200 * 1024) << "KiB of peak RSS growth";
}

TEST(EmulationLimits, AFaultLoopAtLevelOffEndsAtItsLimitToo) {
  RunLimits limits;
  limits.max_exits = 20000;
  auto run = run_bare("udloop", limits, TraceLevel::Off);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogExits) << run->result.message;
  EXPECT_EQ(run->counters[0], 20000u);
}

// halt.S: cli; hlt. Nothing can wake it and it never reported a status.
TEST(EmulationLimits, HltWithInterruptsOffIsATypedFailure) {
  auto run = run_bare("halt");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::Halted) << run->result.message;
  EXPECT_NE(run->result.message.find("interrupts off"), std::string::npos) << run->result.message;
  EXPECT_LT(run->instructions, 10u) << "ended at the first hlt, not by a watchdog";
  EXPECT_TRUE(run->result.regs.has_value()) << "a failed run records the guest registers";
  EXPECT_NE(run->result.end, RunEndReason::GuestExit) << "never a reported status";
}

}  // namespace
}  // namespace ringscope::test
