// bt_test_support.h — a scenario run under mode bt, as the bt tests share it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "bt/bt_backend.h"
#include "sim-modes/kvm/kvm_test_support.h"

namespace ringscope::test {

struct BtRun {
  RunResult result;
  RecordingSink sink;
  std::string console;
  bt::BtFigures figures;
};

// The scenario on its legacy devices under bt, with `input` typed at its
// console; nullptr (and a test failure) when the machine or run fails.
inline std::unique_ptr<BtRun> run_bt(const std::string& name, const std::map<std::string, std::string>& params = {},
                                     const std::string& input = "") {
  std::optional<MachineConfig> config = scenario_config(name, params, DeviceSet::Legacy);
  if (!config) return nullptr;
  config->console_input = input;
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  auto run = std::make_unique<BtRun>();
  RunOptions options;
  options.limits.wall_ms = 120000;
  bt::BtBackend backend;
  auto r = backend.run(*machine.value(), run->sink, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  run->result = r.value();
  run->console = machine.value()->console_text();
  run->figures = backend.figures();
  return run;
}

}  // namespace ringscope::test
