// Helpers for tests that run guests under KVM on this host.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "ringscope/scenario.h"
#include "support/scenario_config.h"

namespace ringscope::test {

// Skips the calling test (with the reason printed) when /dev/kvm is unusable.
#define RINGSCOPE_REQUIRE_KVM()                                                          \
  do {                                                                                   \
    HostInfo host_ = probe_host();                                                       \
    if (!host_.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host_.kvm_open_error; \
  } while (0)

struct GuestRun {
  RunResult result;
  RecordingSink sink;
  std::string console;
};

// How to run a built-in scenario: the machine a mode builds (virtio devices
// boot the manifest's kernel_pv, as `ringscope run --mode paravirt` does).
struct GuestSpec {
  std::map<std::string, std::string> params;
  TraceLevel level = TraceLevel::Exits;
  uint64_t wall_ms = 60000;
  bool force_pvh = false;
  DeviceSet devices = DeviceSet::Legacy;
  IrqChip irqchip = IrqChip::Vmm;  // Kernel: KVM's in-kernel irqchip, device IRQs through irqfds
  std::filesystem::path disk;
  std::string input;
  int vcpus = 1;             // more than one: give irqchip = IrqChip::Kernel too
  bool hvm_pv = false;       // boot the manifest's kernel_hvm_pv (--mode hvm-pv; give devices Virtio)
  IoPath io = IoPath::Vcpu;  // Offload: run --io offload (give irqchip Kernel)
};

// Runs a built-in scenario under KVM; nullptr (with the failure recorded) if
// it could not run. `Run` may extend GuestRun with counters of its own.
template <typename Run = GuestRun>
std::unique_ptr<Run> run_guest(const std::string& name, const GuestSpec& spec) {
  std::optional<MachineConfig> config = scenario_config(name, spec.params, spec.devices);
  if (!config) return nullptr;
  config->force_pvh = spec.force_pvh;
  config->irqchip = spec.irqchip;
  config->disk_image = spec.disk;
  config->console_input = spec.input;
  config->vcpus = spec.vcpus;
  config->io = spec.io;
  if (spec.hvm_pv) {
    auto s = find_builtin_scenario(name);
    if (s.ok()) config->kernel = s->kernel_hvm_pv;
  }
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<Run>();
  kvm::KvmBackend backend;
  RunOptions options;
  options.level = spec.level;
  options.limits.wall_ms = spec.wall_ms;
  auto r = backend.run(*machine.value(), run->sink, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  return run;
}

// The last value a stats-fd counter took in a run (0 if it never moved).
inline uint64_t last_counter(const GuestRun& run, std::string_view name) {
  uint64_t v = 0;
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::Counter && e.name == name) v = e.value;
  return v;
}

// Did any user-space exit touch one of these I/O ports?
inline bool exited_on_port(const GuestRun& run, std::initializer_list<uint16_t> ports) {
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::VmExit && e.reason == 30)
      for (uint16_t p : ports)
        if (e.port == p) return true;
  return false;
}

inline std::unique_ptr<GuestRun> run_scenario(const std::string& name,
                                              const std::map<std::string, std::string>& params = {},
                                              TraceLevel level = TraceLevel::Exits, uint64_t wall_ms = 60000,
                                              bool force_pvh = false) {
  GuestSpec spec;
  spec.params = params;
  spec.level = level;
  spec.wall_ms = wall_ms;
  spec.force_pvh = force_pvh;
  return run_guest(name, spec);
}

}  // namespace ringscope::test
