// test_paravirt.cpp — end-to-end runs of the paravirtual path under KVM on
// this host: the PV kernel build, virtio-console, virtio-blk with its
// completion interrupt, the hypercall doorbell, and the legacy ATA disk
// it is compared with. Each scenario runs in full-virt and paravirt and
// must print the same thing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "kvm/kvm_backend.h"
#include "kvm_test_support.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "ringscope/scenario.h"

namespace ringscope::test {
namespace {

struct ModeRun {
  RunResult result;
  RecordingSink sink;
  std::string console;
  uint64_t exits_between_markers = 0;
  uint64_t notifies = 0, irq_injects = 0, hypercalls = 0, ata_events = 0;
};

// Runs a built-in scenario the way `ringscope run --mode M` does: paravirt
// boots kernel-pv.elf on a machine with the virtio device set.
std::unique_ptr<ModeRun> run_mode(const std::string& name, DeviceSet devices,
                                  const std::map<std::string, std::string>& params = {},
                                  const std::filesystem::path& disk = {}) {
  auto s = find_builtin_scenario(name);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return nullptr;
  MachineConfig config;
  config.kernel = s->kernel;
  if (devices == DeviceSet::Virtio) config.kernel.replace_filename("kernel-pv.elf");
  config.modules = s->programs;
  config.devices = devices;
  config.disk_image = disk;
  auto cmdline = build_cmdline(*s, params);
  EXPECT_TRUE(cmdline.ok());
  if (!cmdline.ok()) return nullptr;
  config.cmdline = cmdline.value();
  auto machine = Machine::create(config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<ModeRun>();
  kvm::KvmBackend backend;
  RunOptions options;
  options.limits.wall_ms = 30000;
  auto r = backend.run(*machine.value(), run->sink, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  int depth = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::Marker && e.name.find(name) == 0) {
      depth += e.phase == MarkerPhase::Begin ? 1 : e.phase == MarkerPhase::End ? -1 : 0;
      continue;
    }
    if (e.kind == EventKind::VmExit && depth > 0) run->exits_between_markers++;
    if (e.kind == EventKind::Device && e.reg == "QueueNotify") run->notifies++;
    if (e.kind == EventKind::Device && e.device == "ata") run->ata_events++;
    if (e.kind == EventKind::IrqInject) run->irq_injects++;
    if (e.kind == EventKind::Hypercall) run->hypercalls++;
  }
  return run;
}

TEST(Paravirt, ConsoleWriteSameOutputFarFewerExits) {
  RINGSCOPE_REQUIRE_KVM();
  // 8 KiB keeps the full-virt run short (two exits per byte); the scenario's
  // default is 64 KiB.
  const std::map<std::string, std::string> params = {{"bytes", "8192"}};
  auto fv = run_mode("console-write", DeviceSet::Legacy, params);
  auto pv = run_mode("console-write", DeviceSet::Virtio, params);
  ASSERT_TRUE(fv && pv);
  EXPECT_EQ(fv->result.end, RunEndReason::GuestExit) << fv->result.message;
  EXPECT_EQ(pv->result.end, RunEndReason::GuestExit) << pv->result.message;
  ASSERT_EQ(fv->console.size(), 8192u);
  EXPECT_EQ(fv->console, pv->console);
  EXPECT_GE(fv->exits_between_markers, 2u * 8192);
  // Far fewer notifies than KiB written, and at least 50x fewer exits.
  EXPECT_GE(pv->notifies, 1u);
  EXPECT_LT(pv->notifies, 8u);
  EXPECT_LE(pv->exits_between_markers * 50, fv->exits_between_markers);
  // The transmit queue is polled (VIRTQ_AVAIL_F_NO_INTERRUPT): no interrupts.
  EXPECT_EQ(pv->irq_injects, 0u);
  // The PV kernel found the hypervisor through the doorbell, not cpuid.
  EXPECT_GE(pv->hypercalls, 1u);
  EXPECT_EQ(fv->hypercalls, 0u);
}

TEST(Paravirt, ConsoleWriteDefaultIs64KiBAndMatchesExpected) {
  RINGSCOPE_REQUIRE_KVM();
  auto pv = run_mode("console-write", DeviceSet::Virtio);
  ASSERT_TRUE(pv);
  auto s = find_builtin_scenario("console-write");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(pv->console, *s->expected_output);
  EXPECT_LT(pv->exits_between_markers, 64u);  // 64 KiB: well under one exit per KiB
}

TEST(Paravirt, DiskIoBothWaysWithImageFiles) {
  RINGSCOPE_REQUIRE_KVM();
  auto dir = std::filesystem::temp_directory_path() / ("ringscope-disk-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto fv = run_mode("disk-io", DeviceSet::Legacy, {}, dir / "ata.img");
  auto pv = run_mode("disk-io", DeviceSet::Virtio, {}, dir / "virtio.img");
  ASSERT_TRUE(fv && pv);
  auto s = find_builtin_scenario("disk-io");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(fv->console, *s->expected_output) << fv->result.message;
  EXPECT_EQ(pv->console, *s->expected_output) << pv->result.message;
  EXPECT_EQ(fv->result.guest_status, 0);
  EXPECT_EQ(pv->result.guest_status, 0);
  EXPECT_GT(fv->ata_events, 16u * 128);  // a port access per 4 bytes of every sector
  EXPECT_EQ(pv->notifies, 2u + 2u);      // one write, one read request (+ the console's two)
  EXPECT_GE(pv->irq_injects, 2u);        // completion interrupts, injected with KVM_INTERRUPT
  // The sectors are in the files, and both disks hold the same bytes.
  std::ifstream a(dir / "ata.img", std::ios::binary), b(dir / "virtio.img", std::ios::binary);
  std::string da((std::istreambuf_iterator<char>(a)), {}), db((std::istreambuf_iterator<char>(b)), {});
  ASSERT_GE(da.size(), 16u * 512);
  EXPECT_EQ(da.substr(0, 16 * 512), db.substr(0, 16 * 512));
  EXPECT_NE(da.substr(0, 512), std::string(512, '\0'));
  std::filesystem::remove_all(dir);
}

TEST(Paravirt, ExistingScenariosPrintTheSameUnderThePvKernel) {
  RINGSCOPE_REQUIRE_KVM();
  for (const char* name : {"hello", "syscalls"}) {
    auto pv = run_mode(name, DeviceSet::Virtio);
    ASSERT_TRUE(pv);
    auto s = find_builtin_scenario(name);
    ASSERT_TRUE(s.ok() && s->expected_output);
    EXPECT_EQ(pv->console, *s->expected_output) << name;
    EXPECT_EQ(pv->result.guest_status, s->expected_status) << name;
  }
}

TEST(Paravirt, HypercallEventsCarryNumberArgsResultAndTransport) {
  RINGSCOPE_REQUIRE_KVM();
  auto pv = run_mode("hello", DeviceSet::Virtio);
  ASSERT_TRUE(pv);
  bool version = false;
  for (const auto& e : pv->sink.events())
    if (e.kind == EventKind::Hypercall && e.number == 0)
      version = e.result == kHypercallAbiVersion && e.transport == Transport::Port && e.cpl == 0;
  EXPECT_TRUE(version);
}

}  // namespace
}  // namespace ringscope::test
