// bench_vmm — what the VMM and its tracing cost, measured side by side.
//
// One guest, three ways to run it, interleaved in one process so a noisy
// shared machine affects them alike:
//   bare      a minimal KVM_RUN loop that does nothing but re-enter on each
//             I/O exit (the floor any VMM pays for the same exits);
//   vmm-off   ringscope's KVM backend with tracing off (bus dispatch, device
//             model, limits, watchdog thread);
//   vmm-exits ringscope's backend at trace level `exits`, writing a real
//             .rtrace file (stats-fd sampling, events, chunk writes).
// The guest executes `out dx, al` to the UART scratch register N times in a
// ring-0 loop, then writes its exit status to the probe port. On PVM hosts
// ring-0 code is emulated, so the loop itself costs microseconds per
// iteration; that cost is in all three columns alike.
// Printed at the end: ns per exit for each, and the ratios the issue asks
// for (vmm-off ÷ bare: aim within 5 %; vmm-exits ÷ vmm-off: aim under 2 %).
// Times are the process's CPU time (every thread: the vCPU's, the
// watchdog, the trace's flusher, the host sampler), which other work on a
// shared machine distorts far less than wall time.
#include <benchmark/benchmark.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "kvm/kvm_backend.h"
#include "kvm/kvm_vm.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/trace.h"
#include "support/tiny_elf.h"

namespace {

using namespace ringscope;

// Each measurement runs a short and a long guest and divides the difference
// in time by the difference in exits, so set-up costs (VM creation, the
// vCPU thread, opening the stats fd) cancel out and only the per-exit round
// trip remains.
constexpr uint32_t kShort = 1000, kLong = 21000;

std::filesystem::path guest_path(uint32_t outs) {
  // mov ecx, N; mov dx, 0x3ff; 1: out dx, al; dec ecx; jnz 1b; xor eax, eax; out 0xf4, al; hlt
  std::vector<uint8_t> code = {0xb9, 0,    0,    0,    0,    0x66, 0xba, 0xff, 0x03, 0xee,
                               0xff, 0xc9, 0x75, 0xfb, 0x31, 0xc0, 0xe6, 0xf4, 0xf4};
  std::memcpy(&code[1], &outs, 4);
  test::TinyKernel k;
  k.code = code;
  return test::write_temp_file("bench-vmm-guest-" + std::to_string(outs), test::make_tiny_kernel(k));
}

std::unique_ptr<Machine> make_machine(uint32_t outs) {
  MachineConfig config;
  config.kernel = guest_path(outs);
  auto m = Machine::create(config);
  std::filesystem::remove(config.kernel);
  if (!m.ok()) {
    std::fprintf(stderr, "bench_vmm: %s\n", m.error().message.c_str());
    std::exit(70);
  }
  return std::move(m).value();
}

bool kvm_usable(benchmark::State& state) {
  if (!probe_host().kvm_openable) {
    state.SkipWithError("needs /dev/kvm");
    return false;
  }
  return true;
}

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ns per exit from the difference between the long and the short runs.
void report(benchmark::State& state, double long_s, double short_s) {
  state.counters["ns_per_exit"] =
      benchmark::Counter((long_s - short_s) * 1e9 / (kLong - kShort), benchmark::Counter::kAvgIterations);
}

// The floor: KVM_RUN, and nothing else, until the guest's exit write.
double bare_run(uint32_t outs) {
  auto machine = make_machine(outs);
  auto vm = kvm::Vm::create();
  (void)vm.value()->set_memory(machine->memory());
  auto vcpu = vm.value()->create_vcpu(0);
  (void)vcpu.value()->apply_boot_state(machine->boot());
  struct kvm_run* run = vcpu.value()->run();
  run->kvm_valid_regs = 0;  // minimal: no register sync on exits
  int fd = vcpu.value()->fd();
  uint64_t exits = 0;
  const double t0 = process_cpu_s();
  // On its own thread, as the VMM's vCPU loop is, so both pay the same
  // scheduling costs.
  std::thread vcpu_thread([&] {
    for (;;) {
      if (ioctl(fd, KVM_RUN, 0) < 0) break;
      if (run->exit_reason != KVM_EXIT_IO) break;
      exits++;
      if (run->io.port == 0xf4) break;
    }
  });
  vcpu_thread.join();
  return process_cpu_s() - t0;
}

void BM_BareKvmLoop(benchmark::State& state) {
  if (!kvm_usable(state)) return;
  double long_s = 0, short_s = 0;
  for (auto _ : state) {
    long_s += bare_run(kLong);
    short_s += bare_run(kShort);
  }
  report(state, long_s, short_s);
}

// Seconds for one run of the VMM, or a negative number if it went wrong.
double vmm_run(uint32_t outs, TraceLevel level) {
  auto trace = std::filesystem::temp_directory_path() / ("bench-vmm." + std::to_string(getpid()) + ".rtrace");
  auto machine = make_machine(outs);
  std::unique_ptr<TraceWriter> writer;
  NullSink null;
  EventSink* sink = &null;
  if (level != TraceLevel::Off) {
    TraceHeader h;
    h.scenario = "bench";
    h.mode = "full-virt";
    h.level = "exits";
    writer = std::move(TraceWriter::create(trace.string(), h).value());
    sink = writer.get();
  }
  RunOptions options;
  options.level = level;
  kvm::KvmBackend backend;
  const double t0 = process_cpu_s();
  auto r = backend.run(*machine, *sink, options);
  if (writer) (void)writer->close();
  double s = process_cpu_s() - t0;
  std::filesystem::remove(trace);
  if (!r.ok() || r->exits != outs + 1) return -1;
  return s;
}

void run_vmm(benchmark::State& state, TraceLevel level) {
  if (!kvm_usable(state)) return;
  double long_s = 0, short_s = 0;
  for (auto _ : state) {
    double l = vmm_run(kLong, level), s = vmm_run(kShort, level);
    if (l < 0 || s < 0) {
      state.SkipWithError("the guest did not run as expected");
      return;
    }
    long_s += l;
    short_s += s;
  }
  report(state, long_s, short_s);
}

void BM_VmmTraceOff(benchmark::State& state) { run_vmm(state, TraceLevel::Off); }
void BM_VmmTraceExits(benchmark::State& state) { run_vmm(state, TraceLevel::Exits); }

// Interleave: each variant several times, alternating, so drift in the
// machine's load hits all of them.
void register_all() {
  for (int round = 0; round < 5; round++) {
    benchmark::RegisterBenchmark("bare_kvm_loop", BM_BareKvmLoop)->Iterations(3)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("vmm_trace_off", BM_VmmTraceOff)->Iterations(3)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("vmm_trace_exits", BM_VmmTraceExits)->Iterations(3)->Unit(benchmark::kMillisecond);
  }
}

// Collects ns_per_exit per variant to print the ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("ns_per_exit");
      if (it != r.counters.end() && !r.error_occurred)
        samples[r.benchmark_name().substr(0, r.benchmark_name().find('/'))].push_back(it->second.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, std::vector<double>> samples;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double bare = median(reporter.samples["bare_kvm_loop"]);
  double off = median(reporter.samples["vmm_trace_off"]);
  double on = median(reporter.samples["vmm_trace_exits"]);
  double load[3] = {};
  if (getloadavg(load, 3) != 3) load[0] = -1;
  std::printf(
      "\nmedian CPU ns per I/O exit round trip (slope between %u- and %u-exit runs; host KVM flavour %s; load "
      "average %.2f)\n",
      kShort, kLong, std::string(flavour_name(probe_host().flavour)).c_str(), load[0]);
  std::printf("  bare KVM loop            %9.0f\n", bare);
  std::printf("  ringscope, tracing off   %9.0f   %+.1f %% vs bare (aim: within 5 %%)\n", off,
              bare ? (off / bare - 1) * 100 : 0);
  std::printf("  ringscope, level exits   %9.0f   %+.1f %% vs tracing off (aim: under 2 %%)\n", on,
              off ? (on / off - 1) * 100 : 0);
  return 0;
}
