// The emulation mode starts a kernel at its PVH 32-bit entry: 32-bit
// protected mode, paging off, EFER 0, EBX = start_info. The teaching kernel
// then switches itself to long mode (CR4.PAE, WRMSR EFER.LME, CR0.PG, a far
// jump to a 64-bit code segment) inside Unicorn, and must behave exactly as
// when it is started at ringscope's 64-bit entry.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "emulation/emulation_backend.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "ringscope/scenario.h"
#include "support/scenario_config.h"

namespace ringscope {
namespace {

struct Run {
  RunResult result;
  RecordingSink sink;
  std::string console;
  BootEntry entry = BootEntry::Long64;
};

std::unique_ptr<Run> run_emulated(const std::string& scenario, bool force_pvh) {
  auto config = test::scenario_config(scenario, {}, DeviceSet::Legacy);
  if (!config) return nullptr;
  config->force_pvh = force_pvh;
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<Run>();
  run->entry = machine.value()->boot().entry;
  emulation::EmulationBackend backend;
  RunOptions options;
  options.level = TraceLevel::Exits;
  auto r = backend.run(*machine.value(), run->sink, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  return run;
}

TEST(EmulationPvhEntry, TeachingKernelSwitchesItselfToLongMode) {
  for (const char* name : {"hello", "syscalls"}) {
    SCOPED_TRACE(name);
    auto s = find_builtin_scenario(name);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto pvh = run_emulated(name, /*force_pvh=*/true);
    ASSERT_TRUE(pvh);
    EXPECT_EQ(pvh->entry, BootEntry::Pvh32);
    EXPECT_EQ(pvh->result.end, RunEndReason::GuestExit) << pvh->result.message;
    EXPECT_EQ(pvh->result.guest_status, s->expected_status);
    if (s->expected_output) {
      EXPECT_EQ(pvh->console, *s->expected_output);
    }

    // The CPU started with paging off and EFER 0, and the guest turned on
    // long mode itself: one mode change from there to PG + LME|LMA.
    bool entered_long_mode = false;
    for (const Event& e : pvh->sink.events()) {
      if (e.kind != EventKind::ModeChange) continue;
      if ((e.prev_cr0 & 0x80000001ull) == 1 && e.prev_efer == 0 && (e.cr0 & 0x80000000ull) && (e.efer & 0x500) == 0x500)
        entered_long_mode = true;
    }
    EXPECT_TRUE(entered_long_mode) << "no mode_change from 32-bit protected mode to long mode in the trace";

    // And the run is the same as one started at the 64-bit entry.
    auto long64 = run_emulated(name, /*force_pvh=*/false);
    ASSERT_TRUE(long64);
    EXPECT_EQ(long64->entry, BootEntry::Long64);
    EXPECT_EQ(pvh->console, long64->console);
    EXPECT_EQ(pvh->result.guest_status, long64->result.guest_status);
  }
}

}  // namespace
}  // namespace ringscope
