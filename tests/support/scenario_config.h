// scenario_config.h — the machine a built-in scenario boots on, as `ringscope
// run` builds it: virtio devices boot the manifest's PV kernel (kernel_pv),
// every other machine its kernel. For tests that run guests on any backend.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "ringscope/machine.h"
#include "ringscope/scenario.h"

namespace ringscope::test {

// nullopt (with the failure recorded) if the scenario or its parameters are bad.
inline std::optional<MachineConfig> scenario_config(const std::string& name,
                                                    const std::map<std::string, std::string>& params,
                                                    DeviceSet devices) {
  auto s = find_builtin_scenario(name);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return std::nullopt;
  auto cmdline = build_cmdline(*s, params);
  EXPECT_TRUE(cmdline.ok()) << (cmdline.ok() ? "" : cmdline.error().message);
  if (!cmdline.ok()) return std::nullopt;
  MachineConfig config;
  config.kernel = devices == DeviceSet::Virtio ? s->kernel_pv : s->kernel;
  config.devices = devices;
  config.modules = s->programs;
  config.cmdline = cmdline.value();
  return config;
}

}  // namespace ringscope::test
