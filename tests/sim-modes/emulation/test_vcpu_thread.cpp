// The host's view of a VM: the thread that runs the guest's CPU is named
// "vcpu0", in both backends, so `ps -L` and `top -H` show which thread is
// the vCPU (lab 7). Checked from inside: the sink is called on the vCPU's
// own thread, and asks that thread its name.
#include <gtest/gtest.h>
#include <pthread.h>

#include <mutex>
#include <set>
#include <string>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/machine.h"
#include "support/qemu.h"
#include "support/scenario_config.h"

namespace ringscope::test {
namespace {

// Records the name of every thread that emitted a vm_exit or run_end.
class ThreadNameSink final : public EventSink {
 public:
  void emit(Event& e) override {
    e.seq = next_++;
    if (e.kind != EventKind::VmExit && e.kind != EventKind::RunEnd) return;
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    std::lock_guard<std::mutex> g(mu_);
    names_.insert(name);
  }
  std::set<std::string> names() {
    std::lock_guard<std::mutex> g(mu_);
    return names_;
  }

 private:
  uint64_t next_ = 0;
  std::mutex mu_;
  std::set<std::string> names_;
};

std::set<std::string> vcpu_thread_names(bool kvm) {
  std::optional<MachineConfig> config = scenario_config("hello", {}, DeviceSet::Legacy);
  EXPECT_TRUE(config.has_value());
  if (!config) return {};
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return {};
  ThreadNameSink sink;
  RunOptions options;
  Result<RunResult> r = RunResult{};
  if (kvm) {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), sink, options);
  } else {
    emulation::EmulationBackend backend;
    r = backend.run(*machine.value(), sink, options);
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (r.ok()) {
    EXPECT_EQ(r.value().end, RunEndReason::GuestExit) << r.value().message;
  }
  return sink.names();
}

TEST(VcpuThread, IsNamedVcpu0UnderEmulation) { EXPECT_EQ(vcpu_thread_names(false), std::set<std::string>{"vcpu0"}); }

TEST(VcpuThread, IsNamedVcpu0UnderKvm) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << probe_host().kvm_open_error;
  EXPECT_EQ(vcpu_thread_names(true), std::set<std::string>{"vcpu0"});
}

}  // namespace
}  // namespace ringscope::test
