// bench_bt — what binary translation costs, printed side by side in one run
// (mode bt, docs/bt.md):
//   1. a world switch: time per switch (moving the state both ways and the
//      monitor's tables), and time per stretch of direct execution;
//   2. callouts per second of translated time, and translated-block reuse
//      (blocks run per block translated);
//   3. a system call under bt against full-virt: wall time per call;
//   4. the monitor's time in callouts (entered to returned) against the
//      run, and the page-table stores traced as callouts (nanobench).
// Each figure is the median of several runs. Nothing assumes which mode
// wins: on PVM ring 0 under KVM is emulated, which changes the pattern a
// VT-x host would show (docs/hosts.md).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bt/bt_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/scenario.h"

namespace {

using namespace ringscope;

struct Sample {
  double ms = 0;
  bt::BtFigures figures;
  bool ok = false;
};

Sample run_once(const std::string& scenario, const std::map<std::string, std::string>& params, bool use_bt) {
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
  Result<RunResult> r = RunResult{};
  if (use_bt) {
    bt::BtBackend backend;
    r = backend.run(**machine, sink, options);
    out.figures = backend.figures();
  } else {
    kvm::KvmBackend backend;
    r = backend.run(**machine, sink, options);
  }
  if (!r.ok() || !r->ok()) return out;
  out.ok = true;
  out.ms = r->wall_ns / 1e6;
  return out;
}

Sample median(const std::string& scenario, const std::map<std::string, std::string>& params, bool use_bt,
              int reps = 5) {
  std::vector<Sample> v;
  for (int i = 0; i < reps; i++) {
    Sample s = run_once(scenario, params, use_bt);
    if (!s.ok) return s;
    v.push_back(s);
  }
  std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.ms < b.ms; });
  return v[v.size() / 2];
}

}  // namespace

int main() {
  HostInfo host = probe_host();
  if (!host.kvm_openable) {
    fmt::print("bench_bt: needs /dev/kvm ({}); mode bt runs user code under KVM\n", host.kvm_open_error);
    return 0;
  }
  constexpr int kCalls = 500;
  const std::map<std::string, std::string> calls = {{"n", std::to_string(kCalls)}};
  Sample bt = median("syscalls", calls, true);
  Sample fv = median("syscalls", calls, false);
  Sample io = median("io-burst", {}, true);
  constexpr int kOps = 100;
  Sample nb = median("nanobench", {{"n", std::to_string(kOps)}}, true);
  if (!bt.ok || !fv.ok || !io.ok || !nb.ok) {
    fmt::print("bench_bt: a run failed\n");
    return 1;
  }
  const bt::BtFigures& f = bt.figures;
  double switches = double(std::max<uint64_t>(f.world_switches, 1));
  fmt::print("mode bt on this host ({}), syscalls n={} and io-burst, median of 5 runs\n", flavour_name(host.flavour),
             kCalls);
  fmt::print("  world switches per run (syscalls)        {:>10}\n", f.world_switches);
  fmt::print("  time per world switch (state + tables)   {:>10.1f} us\n", f.switch_ns / switches / 1e3);
  fmt::print("  time per stretch of direct execution     {:>10.1f} us\n", f.direct_ns / switches / 1e3);
  fmt::print("  translated blocks / bytes                {:>10} / {}\n", f.tc_blocks, f.tc_bytes);
  fmt::print("  translated-block reuse (runs per block)  {:>10.1f}\n",
             double(f.tc_block_runs) / double(std::max<uint64_t>(f.tc_blocks, 1)));
  const bt::BtFigures& g = io.figures;
  fmt::print("  callouts per second of translated time   {:>10.0f}  (io-burst: {} callouts in {:.1f} ms)\n",
             g.callouts / (std::max<uint64_t>(g.translated_ns, 1) / 1e9), g.callouts, g.translated_ns / 1e6);
  fmt::print("  wall time per system call: bt {:.1f} us, full-virt {:.1f} us (bt / full-virt = {:.2f})\n",
             bt.ms * 1e3 / kCalls, fv.ms * 1e3 / kCalls, bt.ms / fv.ms);
  const bt::BtFigures& h = nb.figures;
  auto share = [](uint64_t part, double whole_ms) { return whole_ms > 0 ? 100.0 * double(part) / 1e6 / whole_ms : 0; };
  fmt::print(
      "  monitor time in callouts (io-burst)      {:>10.2f} ms of {:.1f} ms run ({:.1f}%), {:.2f} us per callout\n",
      g.callout_ns / 1e6, io.ms, share(g.callout_ns, io.ms),
      g.callout_ns / 1e3 / double(std::max<uint64_t>(g.callouts, 1)));
  fmt::print("  monitor time in callouts (nanobench)     {:>10.2f} ms of {:.1f} ms run ({:.1f}%)\n", h.callout_ns / 1e6,
             nb.ms, share(h.callout_ns, nb.ms));
  fmt::print("  page-table stores traced (nanobench n={}) {:>8}  ({:.2f} per ptemod op at most)\n", kOps,
             h.pt_store_callouts, double(h.pt_store_callouts) / kOps);
  fmt::print("  entries that walked the page tables      {:>10} of {} (the trace answered the rest)\n", h.fingerprints,
             h.fingerprints + h.fingerprints_skipped);
  return 0;
}
