// The HVM kernel with PV drivers (--mode hvm-pv) and offloaded virtio I/O
// (--io offload: KVM_IOEVENTFD doorbells, a device thread, irqfd
// completions), under KVM on this host.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kvm_test_support.h"
#include "ringscope/devices/probe.h"
#include "ringscope/devices/virtio_mmio.h"

namespace ringscope::test {
namespace {

// virtio-blk is device 1 of the virtio-mmio windows (machine.cpp).
constexpr uint64_t kBlkNotify = kVirtioMmioBase + kVirtioMmioStride + VirtioMmioDevice::kQueueNotify;

GuestSpec hvm_pv(std::map<std::string, std::string> params, IoPath io = IoPath::Vcpu) {
  GuestSpec g;
  g.params = std::move(params);
  g.devices = DeviceSet::Virtio;
  g.irqchip = IrqChip::Kernel;
  g.hvm_pv = true;
  g.io = io;
  return g;
}

size_t count(const GuestRun& run, const std::function<bool(const Event&)>& pred) {
  size_t n = 0;
  for (const auto& e : run.sink.events()) n += pred(e) ? 1 : 0;
  return n;
}

bool blk_notify_exit(const Event& e) { return e.kind == EventKind::VmExit && e.gpa == kBlkNotify; }

TEST(HvmPv, TheNativeKernelWithVirtioDriversGivesTheSameOutputAndNoHypercalls) {
  RINGSCOPE_REQUIRE_KVM();
  for (const auto& [scenario, params] : std::vector<std::pair<std::string, std::map<std::string, std::string>>>{
           {"disk-io", {{"sectors", "16"}}}, {"console-write", {{"bytes", "4096"}}}}) {
    GuestSpec legacy;
    legacy.params = params;
    auto native = run_guest(scenario, legacy);
    auto hvmpv = run_guest(scenario, hvm_pv(params));
    ASSERT_TRUE(native && hvmpv) << scenario;
    EXPECT_TRUE(hvmpv->result.ok()) << scenario << ": " << hvmpv->result.message;
    EXPECT_EQ(hvmpv->console, native->console) << scenario << ": the same output as the native kernel's";
    EXPECT_EQ(count(*hvmpv, [](const Event& e) { return e.kind == EventKind::Hypercall; }), 0u)
        << scenario << ": an HVM kernel makes no hypercalls";
    EXPECT_GT(count(*hvmpv, [](const Event& e) { return e.kind == EventKind::Device && e.reg == "QueueNotify"; }), 0u)
        << scenario << ": its virtio drivers found their devices";
  }
}

TEST(Offload, DoorbellsGoToTheDeviceThreadAndCompletionsArrive) {
  RINGSCOPE_REQUIRE_KVM();
  auto vcpu = run_guest("disk-io", hvm_pv({{"sectors", "32"}}));
  auto off = run_guest("disk-io", hvm_pv({{"sectors", "32"}}, IoPath::Offload));
  ASSERT_TRUE(vcpu && off);
  ASSERT_TRUE(off->result.ok()) << off->result.message;
  EXPECT_EQ(off->console, vcpu->console);
  if (!off->result.note.empty()) {
    // KVM refused KVM_IOEVENTFD: the run says so, in its result and its trace.
    EXPECT_EQ(count(*off, [](const Event& e) { return e.kind == EventKind::Device && e.device == "ioeventfd"; }), 1u);
    GTEST_SKIP() << "this host's KVM refused the doorbells: " << off->result.note;
  }
  // Without offload every request's notify is an exit to the vCPU thread.
  const size_t requests = 4;  // 32 sectors each way, 16 a request
  EXPECT_EQ(count(*vcpu, blk_notify_exit), requests);
  // With it, none is; each reached the device thread instead, as an exit KVM handled.
  EXPECT_EQ(count(*off, [](const Event& e) { return blk_notify_exit(e) && e.source == Source::KvmExit; }), 0u);
  EXPECT_EQ(count(*off,
                  [](const Event& e) {
                    return blk_notify_exit(e) && e.source == Source::DeviceThread && e.handled_by == HandledBy::Kernel;
                  }),
            requests);
  // The device thread served them and raised the completions through irqfds.
  EXPECT_EQ(count(*off,
                  [](const Event& e) {
                    return e.kind == EventKind::Device && e.device == "virtio-blk" && e.reg == "QueueNotify" &&
                           e.source == Source::DeviceThread && e.count == 1;
                  }),
            requests);
  EXPECT_EQ(
      count(*off, [](const Event& e) { return e.kind == EventKind::IrqInject && e.source == Source::DeviceThread; }),
      requests);
  // The vCPU thread kept fewer exits than without offload.
  auto to_vcpu = [](const Event& e) { return e.kind == EventKind::VmExit && e.source == Source::KvmExit; };
  EXPECT_LT(count(*off, to_vcpu), count(*vcpu, to_vcpu));
}

TEST(Offload, ThePolledConsoleLeavesTheVcpuThreadNothingPerWrite) {
  RINGSCOPE_REQUIRE_KVM();
  auto off = run_guest("console-write", hvm_pv({{"bytes", "4096"}}, IoPath::Offload));
  ASSERT_TRUE(off);
  ASSERT_TRUE(off->result.ok()) << off->result.message;
  if (!off->result.note.empty()) GTEST_SKIP() << "this host's KVM refused the doorbells: " << off->result.note;
  // Inside the write phase: nothing but the closing marker reached the vCPU
  // thread; the doorbell went to the device thread.
  bool inside = false;
  size_t vcpu_exits = 0, device_thread = 0;
  std::string seen;
  for (const auto& e : off->sink.events()) {
    if (e.kind == EventKind::Marker && e.name == "console-write: 4096 bytes") {
      inside = e.phase == MarkerPhase::Begin;
      continue;
    }
    if (!inside || e.kind != EventKind::VmExit) continue;
    // The end marker's own label write (the probe port), not the work.
    if (e.access == AccessKind::Port && e.port >= kProbeBase && e.port < kProbeBase + kProbeWindow) continue;
    (e.source == Source::DeviceThread ? device_thread : vcpu_exits)++;
    if (e.source != Source::DeviceThread)
      seen += fmt::format(" reason {} port {:#x} gpa {:#x} value {:#x};", e.reason, e.port, e.gpa, e.value);
  }
  EXPECT_EQ(vcpu_exits, 0u) << seen;
  EXPECT_GE(device_thread, 1u);
}

TEST(Offload, NeedsTheInKernelIrqchip) {
  RINGSCOPE_REQUIRE_KVM();
  auto config = scenario_config("disk-io", {}, DeviceSet::Virtio);
  ASSERT_TRUE(config);
  config->io = IoPath::Offload;
  config->irqchip = IrqChip::Vmm;
  auto machine = Machine::create(*config);
  ASSERT_TRUE(machine.ok());
  RecordingSink sink;
  kvm::KvmBackend backend;
  auto r = backend.run(*machine.value(), sink, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("irqchip"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ringscope::test
