// Helpers for tests that run guests under the emulation backend (and, for
// the cross-checks, under KVM too).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "ringscope/scenario.h"
#include "ringscope/vmx/profile.h"
#include "support/scenario_config.h"

namespace ringscope::test {

struct EmuRun {
  RunResult result;
  RecordingSink sink;
  std::string console;
  uint64_t instructions = 0;
};

struct RunSpec {
  TraceLevel level = TraceLevel::Exits;
  RunLimits limits{};
  bool kvm = false;  // run under the KVM backend instead
  emulation::EmulationOptions emu{};
  std::shared_ptr<const vmx::Profile> vmx_profile;  // emulation: the VT-x model's controls (null: kvm-default)
  DeviceSet devices = DeviceSet::Legacy;            // Virtio: the scenario's PV kernel, virtio devices and the doorbell
  std::string input;                                // what the guest console receives (`run --input`)
  int vcpus = 1;                                    // emulation: several run in round-robin turns (emu_smp.cpp)
};

inline std::unique_ptr<EmuRun> run_guest(const std::string& name, const std::map<std::string, std::string>& params,
                                         RunSpec spec) {
  std::optional<MachineConfig> config = scenario_config(name, params, spec.devices);
  if (!config) return nullptr;
  config->console_input = spec.input;
  config->vcpus = spec.vcpus;
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<EmuRun>();
  RunOptions options;
  options.level = spec.level;
  options.limits = spec.limits;
  options.vmx_profile = spec.vmx_profile;
  Result<RunResult> r = RunResult{};
  if (spec.kvm) {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), run->sink, options);
  } else {
    emulation::EmulationBackend backend(spec.emu);
    r = backend.run(*machine.value(), run->sink, options);
    run->instructions = backend.instructions();
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  return run;
}

inline std::unique_ptr<EmuRun> run_emulated(const std::string& name,
                                            const std::map<std::string, std::string>& params = {},
                                            TraceLevel level = TraceLevel::Exits) {
  RunSpec spec;
  spec.level = level;
  return run_guest(name, params, spec);
}

}  // namespace ringscope::test
