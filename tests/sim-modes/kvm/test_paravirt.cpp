// test_paravirt.cpp — end-to-end runs of the paravirtual path under KVM on
// this host: the PV kernel build, virtio-console, virtio-blk with its
// completion interrupt, the hypercall doorbell, and the legacy ATA disk
// it is compared with. Each scenario runs in full-virt and paravirt and
// must print the same thing.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "kvm/kvm_backend.h"
#include "kvm_test_support.h"
#include "ringscope/devices/virtio_mmio.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "ringscope/scenario.h"

namespace ringscope::test {
namespace {

struct ModeRun : GuestRun {
  uint64_t exits_between_markers = 0;
  uint64_t notifies = 0, irq_injects = 0, hypercalls = 0, ata_events = 0;
};

// Runs a built-in scenario the way `ringscope run --mode M` does: paravirt
// boots the manifest's kernel_pv on a machine with the virtio device set.
std::unique_ptr<ModeRun> run_mode(const std::string& name, DeviceSet devices,
                                  const std::map<std::string, std::string>& params = {},
                                  const std::filesystem::path& disk = {}, const std::string& input = {}) {
  GuestSpec spec;
  spec.params = params;
  spec.wall_ms = 30000;
  spec.devices = devices;
  spec.disk = disk;
  spec.input = input;
  auto run = run_guest<ModeRun>(name, spec);
  if (!run) return nullptr;
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

// echo: a line of input through the UART (full-virt: LSR, RBR per byte)
// and through virtio-console's receive queue (paravirt); same output.
TEST(Paravirt, EchoReadsTheSameInputThroughTheUartAndTheReceiveQueue) {
  RINGSCOPE_REQUIRE_KVM();
  for (DeviceSet devices : {DeviceSet::Legacy, DeviceSet::Virtio}) {
    SCOPED_TRACE(devices == DeviceSet::Legacy ? "full-virt" : "paravirt");
    auto run = run_mode("echo", devices, {}, {}, "ring three\n");
    ASSERT_TRUE(run);
    EXPECT_EQ(run->result.guest_status, 0) << run->result.message;
    EXPECT_EQ(run->console, "echo: RING THREE\n");
    auto none = run_mode("echo", devices);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->console, "echo: no input (read returned 0: end of file)\n");
  }
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
  EXPECT_GE(pv->irq_injects, 2u);        // completion interrupts (the VMM's PIC: KVM_INTERRUPT)
  // The sectors are in the files, and both disks hold the same bytes.
  std::ifstream a(dir / "ata.img", std::ios::binary), b(dir / "virtio.img", std::ios::binary);
  std::string da((std::istreambuf_iterator<char>(a)), {}), db((std::istreambuf_iterator<char>(b)), {});
  ASSERT_GE(da.size(), 16u * 512);
  EXPECT_EQ(da.substr(0, 16 * 512), db.substr(0, 16 * 512));
  EXPECT_NE(da.substr(0, 512), std::string(512, '\0'));
  std::filesystem::remove_all(dir);
}

// The same completion interrupts two ways: the VMM's own PIC model with
// KVM_INTERRUPT (every EOI an exit), and KVM's in-kernel irqchip with an
// irqfd per line (the EOIs never leave the kernel). Same output, same data.
TEST(Paravirt, DiskIoCompletionInterruptsThroughEitherIrqchip) {
  RINGSCOPE_REQUIRE_KVM();
  GuestSpec spec;
  spec.devices = DeviceSet::Virtio;
  spec.wall_ms = 30000;
  spec.irqchip = IrqChip::Vmm;
  auto vmm = run_guest("disk-io", spec);
  spec.irqchip = IrqChip::Kernel;
  auto kernel = run_guest("disk-io", spec);
  ASSERT_TRUE(vmm && kernel);
  auto s = find_builtin_scenario("disk-io");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(vmm->console, *s->expected_output) << vmm->result.message;
  EXPECT_EQ(kernel->console, *s->expected_output) << kernel->result.message;

  constexpr uint8_t kBlkIrq = kVirtioIrqBase + 1;
  size_t injected = 0, irqfds = 0;
  for (const auto& e : vmm->sink.events())
    if (e.kind == EventKind::IrqInject) {
      injected++;
      EXPECT_EQ(e.via, IrqVia::KvmInterrupt) << "the VMM's PIC model, through KVM_INTERRUPT";
      EXPECT_EQ(e.vector, 32 + kBlkIrq) << "the kernel programs the PIC to deliver IRQ n at 32 + n";
    }
  for (const auto& e : kernel->sink.events())
    if (e.kind == EventKind::IrqInject) {
      irqfds++;
      EXPECT_EQ(e.via, IrqVia::Irqfd) << "KVM's in-kernel irqchip, through an irqfd";
      EXPECT_EQ(e.value, kBlkIrq);
      EXPECT_EQ(e.device, "virtio-blk");
    }
  EXPECT_GE(injected, 2u) << "one completion interrupt per request (write, read)";
  EXPECT_EQ(irqfds, injected) << "the same interrupts, raised through irqfds";
  EXPECT_GE(last_counter(*kernel, "irq_injections"), irqfds) << "KVM delivered every one";
  EXPECT_TRUE(exited_on_port(*vmm, {0x20})) << "with the VMM's PIC, each EOI is an exit";
  EXPECT_FALSE(exited_on_port(*kernel, {0x20, 0x21, 0xa0, 0xa1})) << "KVM's PIC answers its ports in the kernel";
  EXPECT_LT(kernel->result.exits, vmm->result.exits);
}

// Single-stepped, the completion interrupt must land after the `hlt` of the
// kernel's `sti; hlt`, never between them (the STI shadow): injected there,
// the handler runs first and the hlt then sleeps for good. PVM's own
// ready_for_interrupt_injection allows it after a step, and PVM reports a
// stepped hlt's HLT exit late; the VMM handles both (step_tracer.h).
TEST(Paravirt, DiskIoAtLevelFullTakesEachCompletionInterruptAfterTheHlt) {
  RINGSCOPE_REQUIRE_KVM();
  GuestSpec spec;
  spec.devices = DeviceSet::Virtio;
  spec.level = TraceLevel::Full;
  spec.wall_ms = 60000;
  auto run = run_guest("disk-io", spec);
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  auto s = find_builtin_scenario("disk-io");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(run->console, *s->expected_output);
  size_t interrupts = 0;
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::Trap && e.cause == TrapCause::Interrupt) interrupts++;
  EXPECT_GE(interrupts, 2u) << "one completion interrupt per request, seen by the step tracer";
}

TEST(Paravirt, ExistingScenariosPrintTheSameUnderThePvKernel) {
  RINGSCOPE_REQUIRE_KVM();
  for (const char* name : {"hello", "syscalls", "nanobench"}) {
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

// hypercall: time() through the CMOS clock (native) or one hypercall (PV).
// Same console, and the trace shows the difference: between the `time()`
// markers, 28 port exits on 0x70/0x71 against one hypercall exit.
struct TimeQuery {
  uint64_t exits = 0, rtc_exits = 0, hypercalls = 0, time_ns_calls = 0;
  int64_t reported = -1;  // the `time` marker's value
  uint64_t rtc_exits_in_run = 0, queries_waiting = 0;
};

TimeQuery time_query(const ModeRun& run) {
  TimeQuery q;
  bool inside = false;
  for (const auto& e : run.sink.events()) {
    if (e.kind == EventKind::Marker) {
      if (e.name == "time()") inside = e.phase == MarkerPhase::Begin;
      if (e.name == "time") q.reported = static_cast<int64_t>(e.value);
      if (e.name == "wait for the next second" && e.phase == MarkerPhase::End) q.queries_waiting = e.value;
      continue;
    }
    bool rtc = e.kind == EventKind::VmExit && (e.port == 0x70 || e.port == 0x71);
    q.rtc_exits_in_run += rtc;
    if (!inside) continue;
    q.exits += e.kind == EventKind::VmExit;
    q.rtc_exits += rtc;
    q.hypercalls += e.kind == EventKind::Hypercall;
    q.time_ns_calls += e.kind == EventKind::Hypercall && e.number == static_cast<uint64_t>(Hypercall::TimeNs);
  }
  return q;
}

TEST(Paravirt, HypercallScenarioOneHypercallAgainstTheRtcsPortExits) {
  RINGSCOPE_REQUIRE_KVM();
  auto fv = run_mode("hypercall", DeviceSet::Legacy);
  auto pv = run_mode("hypercall", DeviceSet::Virtio);
  ASSERT_TRUE(fv && pv);
  auto s = find_builtin_scenario("hypercall");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(fv->console, *s->expected_output) << fv->result.message;
  EXPECT_EQ(pv->console, *s->expected_output) << pv->result.message;
  EXPECT_EQ(fv->result.guest_status, 0);
  EXPECT_EQ(pv->result.guest_status, 0);

  TimeQuery f = time_query(*fv), p = time_query(*pv);
  // Native: status B, status A (UIP), then six registers twice; two port
  // accesses each. Exactly that: the program makes the measured query just
  // after the clock ticked, so no update gets in the way (no retry), and
  // lab 8's answer is the same in every run.
  EXPECT_EQ(f.rtc_exits, 28u);
  EXPECT_EQ(f.hypercalls, 0u);
  EXPECT_EQ(fv->hypercalls, 0u);
  // PV: one hypercall, time_ns, and not a single RTC access in the whole run.
  EXPECT_EQ(p.hypercalls, 1u);
  EXPECT_EQ(p.time_ns_calls, 1u);
  EXPECT_EQ(p.rtc_exits, 0u);
  EXPECT_EQ(p.rtc_exits_in_run, 0u);
  EXPECT_LE(p.exits, 2u);  // the hypercall's exit and the end marker's
  EXPECT_GE(f.exits, 28u);
  std::printf(
      "[ hypercall ] exits per time query: full-virt %llu (%llu on the RTC ports), paravirt %llu (%llu "
      "hypercall); queries while waiting for the next second: %llu / %llu\n",
      (unsigned long long)f.exits, (unsigned long long)f.rtc_exits, (unsigned long long)p.exits,
      (unsigned long long)p.hypercalls, (unsigned long long)f.queries_waiting, (unsigned long long)p.queries_waiting);
  // Both kernels told the program the host's time (UTC), to the second.
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  EXPECT_NEAR(static_cast<double>(f.reported), static_cast<double>(now), 30.0);
  EXPECT_NEAR(static_cast<double>(p.reported), static_cast<double>(now), 30.0);
}

// `ringscope run --disk IMAGE`: a missing image is created at the stated
// size, the sectors are in the file after the run, an existing image is
// used as it is, and a disk too small for the request gets the protocol's
// error (the guest reports the failure; the VMM is fine).
struct Cli {
  int rc = -1;
  std::string err;
};

Cli run_cli(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  std::string cmd = std::string(RINGSCOPE_BIN);
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >/dev/null 2>'" + (dir / "stderr.txt").string() + "'";
  Cli c;
  int st = std::system(cmd.c_str());
  c.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream in(dir / "stderr.txt");
  c.err.assign(std::istreambuf_iterator<char>(in), {});
  return c;
}

bool has_disk_io_pattern(const std::string& disk, uint64_t sectors) {
  if (disk.size() < sectors * 512) return false;
  for (uint64_t i = 0; i < sectors * 512 / 8; i++) {
    uint64_t want = 0x0101010101010101ULL * ((i / 64) + 1) ^ (i * 0x9e3779b97f4a7c15ULL), got = 0;
    std::memcpy(&got, disk.data() + i * 8, 8);
    if (got != want) return false;
  }
  return true;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Paravirt, RunDiskCreatesTheImageAndLeavesTheSectorsInIt) {
  RINGSCOPE_REQUIRE_KVM();
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("ringscope-run-disk-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto pv_img = dir / "pv.img", fv_img = dir / "fv.img", trace = dir / "t.rtrace";

  Cli c = run_cli({"run", "disk-io", "--mode", "paravirt", "--param", "sectors=40", "--disk", pv_img.string(),
                   "--disk-size", "64K", "--trace", trace.string(), "--quiet"},
                  dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.err.find("created disk image"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("40 sectors written, 40 read"), std::string::npos) << c.err;
  ASSERT_EQ(fs::file_size(pv_img), 64u * 1024);
  EXPECT_TRUE(has_disk_io_pattern(slurp(pv_img), 40));

  // full-virt on an image that exists: used as it is, same bytes written.
  std::ofstream(fv_img, std::ios::binary).close();
  fs::resize_file(fv_img, 32 * 1024);
  c = run_cli(
      {"run", "disk-io", "--param", "sectors=40", "--disk", fv_img.string(), "--trace", trace.string(), "--quiet"},
      dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_EQ(c.err.find("created disk image"), std::string::npos) << c.err;
  EXPECT_EQ(fs::file_size(fv_img), 32u * 1024);
  EXPECT_TRUE(has_disk_io_pattern(slurp(fv_img), 40));
  EXPECT_EQ(slurp(fv_img).substr(0, 40 * 512), slurp(pv_img).substr(0, 40 * 512));

  // A stated size that disagrees with an existing image is refused (64).
  c = run_cli({"run", "disk-io", "--disk", fv_img.string(), "--disk-size", "1M", "--trace", trace.string()}, dir);
  EXPECT_EQ(c.rc, 64) << c.err;
  EXPECT_NE(c.err.find("truncate"), std::string::npos) << c.err;
  c = run_cli({"run", "disk-io", "--disk-size", "1000", "--trace", trace.string()}, dir);
  EXPECT_EQ(c.rc, 64) << c.err;

  // 40 sectors fit on a 32 KiB (64-sector) disk; 16 sectors on a 4 KiB disk
  // do not: ATA IDNF / VIRTIO_BLK_S_IOERR, the guest says so, exit status 1.
  for (const char* mode : {"full-virt", "paravirt"}) {
    auto small = dir / (std::string(mode) + "-small.img");
    c = run_cli({"run", "disk-io", "--mode", mode, "--disk", small.string(), "--disk-size", "4K", "--trace",
                 trace.string(), "--quiet"},
                dir);
    EXPECT_EQ(c.rc, 1) << mode << ": " << c.err;
    EXPECT_EQ(fs::file_size(small), 4096u) << mode;
  }
  fs::remove_all(dir);
}

// --mode paravirt on a scenario with a kernel of its own and no kernel_pv:
// refused with a sentence that says why and what to do.
// `run --irqchip`: paravirt takes KVM's in-kernel irqchip by default (the
// summary says so), either mode may pick either, and emulation, which has
// no KVM, refuses the in-kernel one with a sentence.
TEST(Paravirt, RunIrqchipDefaultsAndChoices) {
  RINGSCOPE_REQUIRE_KVM();
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("ringscope-run-irqchip-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto trace = (dir / "t.rtrace").string();
  Cli c = run_cli({"run", "disk-io", "--mode", "paravirt", "--trace", trace, "--quiet"}, dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.err.find("in-kernel irqchip"), std::string::npos) << c.err;
  c = run_cli({"run", "disk-io", "--mode", "paravirt", "--irqchip", "vmm", "--trace", trace, "--quiet"}, dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_EQ(c.err.find("in-kernel irqchip"), std::string::npos) << c.err;
  c = run_cli({"run", "tick", "--irqchip", "kernel", "--trace", trace, "--quiet"}, dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.err.find("in-kernel irqchip"), std::string::npos) << c.err;
  c = run_cli({"run", "disk-io", "--mode", "paravirt", "--level", "full", "--trace", trace, "--quiet"}, dir);
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.err.find("at --level full interrupts go through ringscope's own PIC"), std::string::npos) << c.err;
  c = run_cli({"run", "tick", "--mode", "emulation", "--irqchip", "kernel", "--trace", trace, "--quiet"}, dir);
  EXPECT_EQ(c.rc, 64) << c.err;
  EXPECT_NE(c.err.find("no in-kernel irqchip"), std::string::npos) << c.err;
  c = run_cli({"run", "tick", "--irqchip", "apic", "--trace", trace, "--quiet"}, dir);
  EXPECT_NE(c.rc, 0);
  EXPECT_NE(c.err.find("--irqchip"), std::string::npos) << c.err;
  fs::remove_all(dir);
}

TEST(Paravirt, AScenarioWithoutAPvKernelSaysSo) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("ringscope-no-pv-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::copy_file(guest_dir() / "kernel.elf", dir / "my-kernel.elf", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "scenario.json") << R"({"name": "mine", "title": "t", "kernel": "my-kernel.elf",
                                              "kernel_args": "task=hello"})";
  Cli c = run_cli({"run", dir.string(), "--mode", "paravirt", "--trace", (dir / "t.rtrace").string()}, dir);
  EXPECT_EQ(c.rc, 64) << c.err;
  EXPECT_NE(c.err.find("no PV kernel"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("kernel_pv"), std::string::npos) << c.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ringscope::test
