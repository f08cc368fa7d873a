// bench_emulation — what emulation costs, printed side by side in one run:
//   1. emulated instructions per second: no tracing, level exits with block
//      hooks, level exits with per-instruction hooks, level full (a step
//      event per instruction);
//   2. emulation / KVM wall time for the same work (syscalls, io-burst), at
//      trace level exits and off.
// Each figure is the median of several runs. The ratios are what matter;
// which mode wins depends on the host (docs/hosts.md: on PVM, KVM emulates
// ring-0 code instruction by instruction), so nothing here assumes it.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/scenario.h"

namespace {

using namespace ringscope;

struct Sample {
  double ms = 0;
  uint64_t instructions = 0;
  bool ok = false;
};

Sample run_once(const std::string& scenario, const std::map<std::string, std::string>& params, bool kvm,
                TraceLevel level, emulation::HookGranularity granularity) {
  Sample out;
  auto s = find_builtin_scenario(scenario);
  if (!s.ok()) return out;
  MachineConfig config;
  config.kernel = s->kernel;
  config.modules = s->programs;
  auto cmdline = build_cmdline(*s, params);
  if (!cmdline.ok()) return out;
  config.cmdline = *cmdline;
  auto machine = Machine::create(config);
  if (!machine.ok()) return out;
  NullSink sink;
  RunOptions options;
  options.level = level;
  Result<RunResult> r = RunResult{};
  if (kvm) {
    kvm::KvmBackend backend;
    r = backend.run(**machine, sink, options);
  } else {
    emulation::EmulationBackend backend({granularity});
    r = backend.run(**machine, sink, options);
    out.instructions = backend.instructions();
  }
  if (!r.ok() || !r->ok()) return out;
  out.ok = true;
  out.ms = r->wall_ns / 1e6;
  return out;
}

Sample median(const std::string& scenario, const std::map<std::string, std::string>& params, bool kvm, TraceLevel level,
              emulation::HookGranularity g = emulation::HookGranularity::Block, int reps = 5) {
  std::vector<Sample> v;
  for (int i = 0; i < reps; i++) {
    Sample s = run_once(scenario, params, kvm, level, g);
    if (!s.ok) return s;
    v.push_back(s);
  }
  std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.ms < b.ms; });
  return v[v.size() / 2];
}

}  // namespace

int main() {
  using emulation::HookGranularity;
  const std::map<std::string, std::string> work = {{"n", "2000"}};
  fmt::print("emulated instructions per second (syscalls, n=2000; median of 5; events go to a NullSink)\n");
  fmt::print("  {:<36} {:>12} {:>10} {:>12}\n", "configuration", "instructions", "ms", "M insn/s");
  Sample block = median("syscalls", work, false, TraceLevel::Exits, HookGranularity::Block);
  Sample insn = median("syscalls", work, false, TraceLevel::Exits, HookGranularity::Instruction);
  Sample full = median("syscalls", work, false, TraceLevel::Full);
  Sample off = median("syscalls", work, false, TraceLevel::Off);
  off.instructions = insn.instructions;  // the same work; nothing counts it at level off
  auto row = [](const char* name, const Sample& s) {
    if (!s.ok) {
      fmt::print("  {:<36} failed\n", name);
      return;
    }
    fmt::print("  {:<36} {:>12} {:>10.2f} {:>12.1f}\n", name, s.instructions, s.ms, s.instructions / s.ms / 1e3);
  };
  row("off (no tracing hooks)", off);
  row("exits, block hooks", block);
  row("exits, per-instruction hooks", insn);
  row("full, a step event per instruction", full);
  if (block.ok && insn.ok)
    fmt::print("  per-instruction / block hooks: {:.2f}x the time; full / exits(block): {:.2f}x\n", insn.ms / block.ms,
               full.ms / block.ms);

  HostInfo host = probe_host();
  fmt::print("\nemulation / KVM wall time for the same work (median of 5; KVM flavour {})\n",
             flavour_name(host.flavour));
  fmt::print("  {:<26} {:>8} {:>12} {:>12} {:>10}\n", "workload", "level", "emulation ms", "KVM ms", "emu / KVM");
  struct W {
    const char* name;
    const char* scenario;
    std::map<std::string, std::string> params;
  };
  for (const W& w : {W{"syscalls (n=100)", "syscalls", {{"n", "100"}}}, W{"io-burst (4 KiB)", "io-burst", {}}}) {
    for (TraceLevel level : {TraceLevel::Off, TraceLevel::Exits}) {
      Sample e = median(w.scenario, w.params, false, level);
      Sample k = host.kvm_openable ? median(w.scenario, w.params, true, level) : Sample{};
      fmt::print("  {:<26} {:>8} {:>12.2f} {:>12} {:>10}\n", w.name, trace_level_name(level), e.ms,
                 k.ok ? fmt::format("{:.2f}", k.ms) : "n/a", k.ok && e.ok ? fmt::format("{:.3f}", e.ms / k.ms) : "n/a");
    }
  }
  return 0;
}
