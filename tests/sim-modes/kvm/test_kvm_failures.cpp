// Hostile and broken guests: the VMM must end every run with a typed result
// and a readable trace, never hang or crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "kvm_test_support.h"
#include "ringscope/trace.h"
#include "support/tiny_elf.h"

namespace ringscope::test {
namespace {

std::unique_ptr<GuestRun> run_code(std::vector<uint8_t> code, RunLimits limits, bool entry64 = true,
                                   IrqChip irqchip = IrqChip::Vmm) {
  TinyKernel k;
  k.code = std::move(code);
  k.entry64 = entry64;
  auto path = write_temp_file("tiny-kernel", make_tiny_kernel(k));
  MachineConfig config;
  config.kernel = path;
  config.irqchip = irqchip;
  auto machine = Machine::create(config);
  std::filesystem::remove(path);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<GuestRun>();
  kvm::KvmBackend backend;
  RunOptions options;
  options.limits = limits;
  auto r = backend.run(*machine.value(), run->sink, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->uart().transmitted();
  return run;
}

void expect_run_end_with_regs(const GuestRun& run, RunEndReason reason) {
  ASSERT_FALSE(run.sink.events().empty());
  const Event& last = run.sink.events().back();
  EXPECT_EQ(last.kind, EventKind::RunEnd);
  EXPECT_EQ(last.end_reason, reason);
  EXPECT_NE(last.regs, nullptr) << "a failed run records the guest registers";
  EXPECT_FALSE(last.text.empty()) << "and a one-line explanation";
}

TEST(KvmFailures, AGuestSpinningForeverIsStoppedByTheWallClockWatchdog) {
  RINGSCOPE_REQUIRE_KVM();
  RunLimits limits;
  limits.wall_ms = 300;
  auto t0 = std::chrono::steady_clock::now();
  auto run = run_code({0xeb, 0xfe}, limits);  // jmp $
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogTime) << run->result.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  expect_run_end_with_regs(*run, RunEndReason::WatchdogTime);
  EXPECT_EQ(run->result.regs->rip & ~0xfull, 0x100000u);
}

TEST(KvmFailures, AGuestStuckInsideKvmRunIsInterruptedToo) {
  RINGSCOPE_REQUIRE_KVM();
  // docs/hosts.md: a cpuid loop hangs inside KVM_RUN on PVM hosts; on VT-x it
  // is a storm of in-kernel exits. Either way only a signal stops it.
  RunLimits limits;
  limits.wall_ms = 300;
  auto run = run_code({0x0f, 0xa2, 0xeb, 0xfc}, limits);  // 1: cpuid; jmp 1b
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogTime) << run->result.message;
  expect_run_end_with_regs(*run, RunEndReason::WatchdogTime);
}

// hlt with IF clear: nothing can wake the vCPU, and the guest never
// reported a status, so the run is a failure (Halted), not a success. With
// the VMM's own PIC the hlt exits and the loop ends the run at once; with
// KVM's in-kernel irqchip KVM parks the vCPU itself, and the watchdog's
// periodic kick lets the loop see it: the run ends long before its
// wall-time limit.
TEST(KvmFailures, HltWithInterruptsOffIsAPromptFailureWithEitherIrqchip) {
  RINGSCOPE_REQUIRE_KVM();
  RunLimits limits;
  limits.wall_ms = 60'000;
  auto vmm = run_code({0xfa, 0xf4, 0xeb, 0xfd}, limits, true, IrqChip::Vmm);  // cli; 1: hlt; jmp 1b
  ASSERT_TRUE(vmm);
  EXPECT_EQ(vmm->result.end, RunEndReason::Halted) << vmm->result.message;
  EXPECT_FALSE(vmm->result.ok()) << "halting without a status is not success";
  auto kernel = run_code({0xfa, 0xf4, 0xeb, 0xfd}, limits, true, IrqChip::Kernel);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->result.end, RunEndReason::Halted) << kernel->result.message;
  EXPECT_FALSE(kernel->result.ok());
  EXPECT_NE(kernel->result.message.find("parked"), std::string::npos) << kernel->result.message;
  EXPECT_LT(kernel->result.wall_ns, limits.wall_ms * 1'000'000) << "it did not wait out the wall-time limit";
  expect_run_end_with_regs(*kernel, RunEndReason::Halted);
  // A busy guest under the in-kernel irqchip is still a watchdog failure.
  limits.wall_ms = 300;
  auto spin = run_code({0xeb, 0xfe}, limits, true, IrqChip::Kernel);
  ASSERT_TRUE(spin);
  EXPECT_EQ(spin->result.end, RunEndReason::WatchdogTime) << spin->result.message;
}

TEST(KvmFailures, ATripleFaultEndsTheRunWithRegisters) {
  RINGSCOPE_REQUIRE_KVM();
  // lidt [rip+2] (an IDT of limit 0), then ud2: #UD cannot be delivered,
  // neither can #GP nor #DF, so the CPU shuts down.
  std::vector<uint8_t> code = {0x0f, 0x01, 0x1d, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x0b};
  code.resize(code.size() + 10, 0);
  RunLimits limits;
  limits.wall_ms = 5000;
  auto run = run_code(code, limits);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::TripleFault) << run->result.message;
  expect_run_end_with_regs(*run, RunEndReason::TripleFault);
  bool exit2 = false;
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::VmExit && e.reason == 2) exit2 = true;
  EXPECT_TRUE(exit2) << "the shutdown is recorded as VT-x exit reason 2";
}

// mov dx, 0x3f8; mov al, 'A'; 1: out dx, al; jmp 1b
const std::vector<uint8_t> kFlood = {0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xeb, 0xfd};

TEST(KvmFailures, AnOutputFloodTripsTheOutputLimit) {
  RINGSCOPE_REQUIRE_KVM();
  RunLimits limits;
  limits.max_output_bytes = 500;
  auto run = run_code(kFlood, limits);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogOutput) << run->result.message;
  EXPECT_GT(run->console.size(), 500u);
  EXPECT_LT(run->console.size(), 510u);
  expect_run_end_with_regs(*run, RunEndReason::WatchdogOutput);
}

TEST(KvmFailures, AnExitStormTripsTheExitLimit) {
  RINGSCOPE_REQUIRE_KVM();
  RunLimits limits;
  limits.max_exits = 200;
  auto run = run_code(kFlood, limits);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::WatchdogExits);
  EXPECT_EQ(run->result.exits, 200u);
}

TEST(KvmFailures, UnclaimedPortsAreReportedAndTheProbeStatusEndsTheRun) {
  RINGSCOPE_REQUIRE_KVM();
  // out 0x80, al (nobody there); mov al, 7; out 0xf4, al
  auto run = run_code({0xe6, 0x80, 0xb0, 0x07, 0xe6, 0xf4, 0xf4}, {});
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit);
  EXPECT_EQ(run->result.guest_status, 7);
  int unclaimed = 0;
  for (const auto& e : run->sink.events())
    if (e.kind == EventKind::Device && e.device == "unclaimed" && e.port == 0x80) unclaimed++;
  EXPECT_EQ(unclaimed, 1);
}

TEST(KvmFailures, ThePvhEntryRunsAThirtyTwoBitGuest) {
  RINGSCOPE_REQUIRE_KVM();
  // Same bytes decode the same in 32-bit mode: mov al, 9; out 0xf4, al
  auto run = run_code({0xb0, 0x09, 0xe6, 0xf4, 0xf4}, {}, /*entry64=*/false);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, 9);
}

TEST(KvmFailures, SigkillMidRunLeavesAReadablePartialTrace) {
  RINGSCOPE_REQUIRE_KVM();
  auto trace = std::filesystem::temp_directory_path() / ("killed." + std::to_string(getpid()) + ".rtrace");
  std::filesystem::remove(trace);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(RINGSCOPE_BIN, RINGSCOPE_BIN, "run", "io-burst", "--param", "bytes=400000", "--trace", trace.c_str(),
          "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until several chunks are on disk, then kill without warning.
  for (int i = 0; i < 400; i++) {
    std::error_code ec;
    auto size = std::filesystem::file_size(trace, ec);
    if (!ec && size > 300000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed; make it longer";
  auto t = read_trace(trace.string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->complete);
  EXPECT_GT(t->events.size(), 1000u);
  EXPECT_FALSE(t->warning.empty());
  EXPECT_EQ(t->header.scenario, "io-burst");
  std::filesystem::remove(trace);
}

}  // namespace
}  // namespace ringscope::test
