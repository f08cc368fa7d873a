// The timer interrupt (scenario `tick`: PIT + PIC) and the paravirtual
// guest (virtio devices, the hypercall doorbell) under the emulation
// backend, checked against the KVM backend on the same scenarios.
#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "emulation_test_support.h"
#include "ringscope/devices/virtio_mmio.h"
#include "ringscope/host.h"

namespace ringscope::test {
namespace {

// probe_host() honours RINGSCOPE_NO_KVM, as every /dev/kvm probe must.
bool kvm_usable() { return probe_host().kvm_openable; }
std::string why_no_kvm() { return probe_host().kvm_open_error; }

std::string expected_of(const std::string& name) {
  auto s = find_builtin_scenario(name);
  return s.ok() && s->expected_output ? *s->expected_output : std::string();
}

size_t count(const RecordingSink& sink, EventKind kind, TrapCause cause = TrapCause::None) {
  size_t n = 0;
  for (const auto& e : sink.events())
    if (e.kind == kind && (cause == TrapCause::None || e.cause == cause)) n++;
  return n;
}

TEST(Interrupts, TickUnderEmulationPrintsTheExpectedOutput) {
  auto run = run_emulated("tick");
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->result.ok()) << run->result.message;
  EXPECT_EQ(run->console, expected_of("tick"));
}

TEST(Interrupts, TickAtLevelFullHasOneExternalInterruptTrapPerTick) {
  auto run = run_emulated("tick", {{"ticks", "12"}, {"hz", "250"}}, TraceLevel::Full);
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  size_t traps = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind != EventKind::Trap || e.cause != TrapCause::Interrupt) continue;
    traps++;
    EXPECT_EQ(e.vector, 32) << "IRQ 0 at the PIC's vector base";
    EXPECT_EQ(e.source, Source::Emulator);
    EXPECT_EQ(e.from_cpl, 0);
    EXPECT_EQ(e.to_cpl, 0);
    EXPECT_NE(e.rip_to, 0u);
  }
  EXPECT_EQ(traps, 12u);
  EXPECT_NE(run->console.find("tick: 12 ticks counted"), std::string::npos) << run->console;
}

TEST(Interrupts, TickTrapsMatchKvmAtLevelFull) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << why_no_kvm();
  RunSpec spec;
  spec.level = TraceLevel::Full;
  auto emu = run_guest("tick", {{"ticks", "10"}}, spec);
  spec.kvm = true;
  auto kvm = run_guest("tick", {{"ticks", "10"}}, spec);
  ASSERT_TRUE(emu && kvm);
  ASSERT_TRUE(kvm->result.ok()) << kvm->result.message;
  EXPECT_EQ(emu->console, kvm->console);
  // The pushed RIP is the hlt when the tick was already due at the sti (a
  // loaded host), the instruction after it when the tick woke the hlt;
  // both backends deliver at one of those two, nothing else.
  std::set<uint64_t> rips;
  auto traps = [&](const RecordingSink& sink) {
    std::vector<std::tuple<int, int, int, uint64_t>> out;
    for (const auto& e : sink.events())
      if (e.kind == EventKind::Trap && e.cause == TrapCause::Interrupt) {
        out.emplace_back(e.vector, e.from_cpl, e.to_cpl, e.rip_to);
        rips.insert(e.rip);
      }
    return out;
  };
  EXPECT_EQ(traps(emu->sink).size(), 10u);
  EXPECT_EQ(traps(emu->sink), traps(kvm->sink));
  ASSERT_FALSE(rips.empty());
  EXPECT_LE(*rips.rbegin() - *rips.begin(), 1u) << "interrupts taken only at the sti; hlt wait";
  EXPECT_EQ(count(kvm->sink, EventKind::IrqInject), 10u) << "one KVM_INTERRUPT per tick";
}

TEST(Interrupts, HltWithInterruptsOffStillEndsTheRun) {
  // Every other scenario keeps IF clear; `hello` ends by the probe port,
  // and nothing in it may take an interrupt.
  auto run = run_emulated("hello");
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->result.ok()) << run->result.message;
  EXPECT_EQ(count(run->sink, EventKind::Trap, TrapCause::Interrupt), 0u);
}

// The paravirtual guest in software: the same output as paravirt under KVM.
class PvUnderEmulation : public ::testing::TestWithParam<const char*> {};

TEST_P(PvUnderEmulation, SameOutputAsParavirtUnderKvm) {
  std::string name = GetParam();
  RunSpec spec;
  spec.devices = DeviceSet::Virtio;
  auto emu = run_guest(name, {}, spec);
  ASSERT_TRUE(emu);
  ASSERT_TRUE(emu->result.ok()) << emu->result.message;
  EXPECT_EQ(emu->result.guest_status, 0);
  EXPECT_EQ(emu->console, expected_of(name));
  size_t hypercalls = 0;
  for (const auto& e : emu->sink.events())
    if (e.kind == EventKind::Hypercall) {
      hypercalls++;
      EXPECT_EQ(e.source, Source::Emulator);
      EXPECT_EQ(e.transport, Transport::Port);
    }
  EXPECT_GE(hypercalls, 1u) << "the PV kernel detects the hypervisor with the version hypercall";
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm for the KVM half: " << why_no_kvm();
  spec.kvm = true;
  auto kvm = run_guest(name, {}, spec);
  ASSERT_TRUE(kvm);
  ASSERT_TRUE(kvm->result.ok()) << kvm->result.message;
  EXPECT_EQ(emu->console, kvm->console);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, PvUnderEmulation, ::testing::Values("console-write", "disk-io", "hypercall"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// virtio-blk is device 1: IRQ kVirtioIrqBase + 1 at the PIC, which the
// teaching kernel programs to deliver IRQ n at vector 32 + n.
constexpr uint8_t kBlkVector = 32 + kVirtioIrqBase + 1;

TEST(Interrupts, DiskIoUnderEmulationWithVirtioTakesCompletionInterrupts) {
  RunSpec spec;
  spec.devices = DeviceSet::Virtio;
  auto run = run_guest("disk-io", {}, spec);
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  size_t virtio_traps = 0;
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::Trap && e.cause == TrapCause::Interrupt && e.vector == kBlkVector) virtio_traps++;
  EXPECT_GE(virtio_traps, 2u) << "one used-buffer interrupt per request (write, read)";
}

}  // namespace
}  // namespace ringscope::test
