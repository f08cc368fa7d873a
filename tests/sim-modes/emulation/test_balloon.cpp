// test_balloon.cpp — the virtio-balloon end to end: the balloon scenario
// touches pages, frees them, and the PV kernel's driver hands them to the
// device when the host's target arrives (at the end of the "balloon: free"
// phase). The host's resident guest RAM (mincore over the RAM mapping,
// as host.ram_resident_bytes counts it) must end far lower than in the
// same run without a target: relative numbers only. Under emulation
// always, under KVM where the host has it.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "support/scenario_config.h"

namespace ringscope::test {
namespace {

constexpr uint64_t kPages = 256;  // 1 MiB touched and freed
constexpr uint64_t kRam = 64ull << 20;

struct BalloonRun {
  RunResult result;
  RecordingSink sink;
  std::string console;
  uint64_t resident_pages = 0;  // guest RAM the host still backs at the end
  uint32_t actual = 0;          // what the driver reported
  uint64_t inflated = 0;
};

uint64_t resident(GuestMemory& mem) {
  const long page = sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> v((mem.size() + page - 1) / page);
  EXPECT_EQ(mincore(mem.host_base(), mem.size(), v.data()), 0);
  uint64_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n * static_cast<uint64_t>(page) / VirtioBalloon::kPageSize;
}

// target_mib 0: a balloon, but the host never asks for anything.
std::unique_ptr<BalloonRun> run_balloon(bool kvm, uint64_t target_mib) {
  auto config = scenario_config("balloon", {{"pages", std::to_string(kPages)}}, DeviceSet::Virtio);
  if (!config) return nullptr;
  config->ram_bytes = kRam;
  config->balloon = true;
  config->balloon_target_bytes = target_mib << 20;
  config->balloon_after = "balloon: free";
  if (kvm) config->irqchip = IrqChip::Kernel;  // paravirt's default: the config interrupt through an irqfd
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<BalloonRun>();
  RunOptions options;
  options.limits.wall_ms = 120000;
  Result<RunResult> r = RunResult{};
  if (kvm) {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), run->sink, options);
  } else {
    emulation::EmulationBackend backend;
    r = backend.run(*machine.value(), run->sink, options);
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  run->resident_pages = resident(machine.value()->memory());
  run->actual = machine.value()->virtio_balloon()->actual_pages();
  run->inflated = machine.value()->virtio_balloon()->pages_inflated();
  return run;
}

size_t markers(const BalloonRun& run, std::string_view label) {
  size_t n = 0;
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::Marker && e.name == label) n++;
  return n;
}

void check_gives_back(bool kvm) {
  auto without = run_balloon(kvm, 0);
  ASSERT_TRUE(without);
  // Ask for what lies above (RAM - kPages pages): exactly the pages the program freed.
  const uint64_t target_mib = (kRam - kPages * VirtioBalloon::kPageSize) >> 20;
  auto with = run_balloon(kvm, target_mib);
  ASSERT_TRUE(with);
  EXPECT_EQ(with->result.guest_status, 0) << with->result.message;
  EXPECT_EQ(with->console, without->console);  // the balloon changes nothing the guest prints
  EXPECT_EQ(without->actual, 0u);
  EXPECT_EQ(markers(*without, "balloon: inflate"), 0u);
  EXPECT_EQ(with->actual, kPages);
  EXPECT_EQ(with->inflated, kPages);
  EXPECT_EQ(markers(*with, "balloon: inflate"), 2u);
  // The freed pages went back to the host: at least 80 % of them.
  EXPECT_LT(with->resident_pages + kPages * 8 / 10, without->resident_pages)
      << "resident guest pages: " << with->resident_pages << " with the balloon, " << without->resident_pages
      << " without";
}

TEST(Balloon, GivesFreedPagesBackToTheHostUnderEmulation) { check_gives_back(false); }

TEST(Balloon, GivesFreedPagesBackToTheHostUnderKvm) {
  HostInfo host = probe_host();
  if (!host.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host.kvm_open_error;
  check_gives_back(true);
}

TEST(Balloon, OnlyOnAVirtioMachine) {
  auto config = scenario_config("balloon", {}, DeviceSet::Legacy);
  ASSERT_TRUE(config);
  config->balloon = true;
  auto machine = Machine::create(*config);
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.error().message.find("paravirt"), std::string::npos) << machine.error().message;
  config->balloon = false;
  auto plain = Machine::create(*config);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.value()->virtio_balloon(), nullptr);
  DeviceContext ctx;
  EXPECT_FALSE(plain.value()->set_balloon_target(ctx, 1).ok());
}

}  // namespace
}  // namespace ringscope::test
