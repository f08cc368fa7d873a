// bench_control — what `run --qmp` costs on the exit path when no client is
// connected, measured side by side (issue 14: aim under 1 %).
//
// One guest, run at trace level `exits` into a real .rtrace file, two ways,
// interleaved in one process so a noisy shared machine affects them alike:
//   plain   the backend and the trace writer, as `ringscope run`;
//   qmp     the same with the run control between them (every event through
//           the ControlSink into the ring of latest events, a checkpoint
//           test at every exit) and a QMP server listening on a socket
//           that no client connects to, as `ringscope run --qmp`.
// Under KVM (full-virt) the guest makes N `out` exits; under emulation the
// same `out`s are modelled exits. Each measurement runs a short and a long
// guest and divides the difference in CPU time by the difference in exits,
// so set-up costs cancel and only the per-exit round trip remains; the
// counters give ns per exit for each and the ratio. exit_event_* measure
// the same difference without a guest: one exit's event through the trace
// writer alone, and through the run control in front of it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/control/control_sink.h"
#include "ringscope/control/qmp_server.h"
#include "ringscope/control/run_control.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/trace.h"
#include "support/tiny_elf.h"

namespace {

using namespace ringscope;

constexpr uint32_t kShort = 1000;
uint32_t long_run(bool kvm) { return kvm ? 20'000 : 100'000; }  // emulation's exits are cheap: more of them

std::unique_ptr<Machine> make_machine(uint32_t outs) {
  // mov ecx, N; mov dx, 0x3ff; 1: out dx, al; dec ecx; jnz 1b; xor eax, eax; out 0xf4, al; hlt
  std::vector<uint8_t> code = {0xb9, 0,    0,    0,    0,    0x66, 0xba, 0xff, 0x03, 0xee,
                               0xff, 0xc9, 0x75, 0xfb, 0x31, 0xc0, 0xe6, 0xf4, 0xf4};
  std::memcpy(&code[1], &outs, 4);
  test::TinyKernel k;
  k.code = code;
  MachineConfig config;
  config.kernel = test::write_temp_file("bench-control-guest-" + std::to_string(outs), test::make_tiny_kernel(k));
  auto m = Machine::create(config);
  std::filesystem::remove(config.kernel);
  if (!m.ok()) {
    std::fprintf(stderr, "bench_control: %s\n", m.error().message.c_str());
    std::exit(70);
  }
  return std::move(m).value();
}

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU seconds for one run, or a negative number if it went wrong.
double one_run(uint32_t outs, bool kvm, bool qmp) {
  auto dir = std::filesystem::temp_directory_path();
  auto trace = dir / ("bench-control." + std::to_string(getpid()) + ".rtrace");
  auto socket = dir / ("bench-control." + std::to_string(getpid()) + ".qmp");
  auto machine = make_machine(outs);
  TraceHeader h;
  h.scenario = "bench";
  h.mode = kvm ? "full-virt" : "emulation";
  h.level = "exits";
  auto writer = std::move(TraceWriter::create(trace.string(), h).value());
  RunOptions options;
  options.level = TraceLevel::Exits;
  EventSink* sink = writer.get();
  std::unique_ptr<control::RunControl> ctl;
  std::unique_ptr<control::ControlSink> ctl_sink;
  std::unique_ptr<control::QmpServer> server;
  if (qmp) {
    ctl = std::make_unique<control::RunControl>();
    ctl->set_flush([w = writer.get()] { (void)w->flush(); });
    ctl_sink = std::make_unique<control::ControlSink>(*ctl, *writer);
    sink = ctl_sink.get();
    options.control = ctl.get();
    server = std::move(control::QmpServer::start(socket.string(), *ctl, {}).value());
    ctl->run_starting();
  }
  std::unique_ptr<Backend> backend;
  if (kvm)
    backend = std::make_unique<kvm::KvmBackend>();
  else
    backend = std::make_unique<emulation::EmulationBackend>();
  // CPU time of the whole process (the vCPU thread, the watchdog, the idle
  // QMP thread): on a shared machine, wall time mostly measures the others.
  double t0 = process_cpu_s();
  auto r = backend->run(*machine, *sink, options);
  (void)writer->close();
  double s = process_cpu_s() - t0;
  if (ctl && r.ok()) (void)ctl->run_ended(r.value());
  server.reset();
  std::filesystem::remove(trace);
  if (!r.ok() || !r->ok()) return -1;
  return s;
}

// Plain and --qmp alternate inside each iteration, so drift in the
// machine's load hits both alike; the ratio is of the sums.
void measure(benchmark::State& state, bool kvm) {
  if (kvm && !probe_host().kvm_openable) {
    state.SkipWithError("needs /dev/kvm");
    return;
  }
  const uint32_t n = long_run(kvm);
  double plain = 0, qmp = 0;
  bool qmp_first = false;
  for (auto _ : state) {
    qmp_first = !qmp_first;  // and each goes first every other time
    for (bool with_qmp : {qmp_first, !qmp_first}) {
      double l = one_run(n, kvm, with_qmp), s = one_run(kShort, kvm, with_qmp);
      if (l < 0 || s < 0) {
        state.SkipWithError("the guest did not run as expected");
        return;
      }
      (with_qmp ? qmp : plain) += l - s;
    }
  }
  double per = double(state.iterations()) * (n - kShort);
  state.counters["plain_ns_per_exit"] = plain * 1e9 / per;
  state.counters["qmp_ns_per_exit"] = qmp * 1e9 / per;
  state.counters["qmp_vs_plain_pct"] = (qmp / plain - 1) * 100;
}

// The same cost without a guest: one exit's events through the trace writer
// (encoding, no I/O) alone, and through the ControlSink in front of it
// (the ring of latest events, the armed test), plus the checkpoint test.
void BM_ExitEventsPlain(benchmark::State& state) {
  auto writer = TraceWriter::create_in_memory({}, TraceWriter::MemoryTarget::Discard);
  for (auto _ : state) {
    Event e = events::vm_exit({1, 0, Source::KvmExit}, 30, HandledBy::Vmm, 0x1000, 0);
    events::port_access(e, 0x3ff, 1, Direction::Out, 7, 1);
    writer->emit(e);
  }
}
void BM_ExitEventsControlled(benchmark::State& state, bool client) {
  auto writer = TraceWriter::create_in_memory({}, TraceWriter::MemoryTarget::Discard);
  control::RunControl ctl;
  if (client) ctl.add_observer();  // a client connected: the ring of latest events is kept
  control::ControlSink sink(ctl, *writer);
  control::RunControl* checkpoint = &ctl;
  benchmark::DoNotOptimize(checkpoint);
  for (auto _ : state) {
    Event e = events::vm_exit({1, 0, Source::KvmExit}, 30, HandledBy::Vmm, 0x1000, 0);
    events::port_access(e, 0x3ff, 1, Direction::Out, 7, 1);
    sink.emit(e);
    if (checkpoint && checkpoint->wanted()) benchmark::DoNotOptimize(e);
  }
}

void register_all() {
  benchmark::RegisterBenchmark("exit_event_plain", BM_ExitEventsPlain);
  benchmark::RegisterBenchmark("exit_event_qmp_no_client", BM_ExitEventsControlled, false);
  benchmark::RegisterBenchmark("exit_event_qmp_client", BM_ExitEventsControlled, true);
  benchmark::RegisterBenchmark("kvm", measure, true)->Iterations(16)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("emulation", measure, false)->Iterations(16)->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
