// bench_live.cpp — following a live trace in the viewer (issue 14, item 5):
//
// 1. Latency from a guest event to its mark on the live timeline. A writer
//    thread stands in for a running VM: a TraceWriter with its default flush
//    period (100 ms) on a real file, stamping each event with
//    CLOCK_MONOTONIC as the KVM backend does. A headless View follows the
//    file (View::follow_file) and draws a frame every 1/60 s; after each
//    frame every event that appeared in the model is charged the time from
//    its stamp to the end of that frame. Two phases: busy (an event every
//    ~100 µs, chunks seal when the period runs out) and idle (one event
//    every 300 ms, as a guest waiting in `hlt`: only the flusher thread
//    writes them). Printed, not asserted.
// 2. The cost of following on the viewer's frame time (Google Benchmark):
//    the same View drawing the same trace replayed from a finished file, and
//    followed while a writer appends 50 000 events a second; the ratio is
//    printed side by side.
//
// Usage: bench_live [--benchmark_filter=...] (Google Benchmark flags)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "model/trace_model.h"
#include "platform/imgui_setup.h"
#include "ringscope/backend.h"
#include "ringscope/exit_reasons.h"
#include "ui/View.h"

using namespace ringscope;
using namespace ringscope::viewer;
using Clock = std::chrono::steady_clock;

namespace {

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("bench_live-") + name + "-" + std::to_string(::getpid()) + ".rtrace"))
      .string();
}

TraceHeader header() {
  TraceHeader h;
  h.scenario = "synthetic-live";
  h.mode = "full-virt";
  h.level = "exits";
  h.start_mono_ns = monotonic_ns();
  return h;
}

// An exit and the device access it caused, or a ring round trip, by i.
Event make_event(uint64_t i, uint64_t t) {
  Event e;
  e.time_ns = t;
  switch (i % 4) {
    case 0:
      e.kind = EventKind::VmExit;
      e.source = Source::KvmExit;
      e.reason = exit_reason::kIoInstruction;
      e.handled_by = HandledBy::Vmm;
      e.port = 0x3f8;
      e.direction = Direction::Out;
      e.size = 1;
      e.value = 'a' + i % 26;
      e.duration_ns = 3000;
      e.rip = 0x102304;
      break;
    case 1:
      e.kind = EventKind::Device;
      e.source = Source::Vmm;
      e.device = "uart";
      e.reg = "THR";
      e.direction = Direction::Write;
      e.size = 1;
      e.value = 'a' + i % 26;
      break;
    default:
      e.kind = i % 4 == 2 ? EventKind::Trap : EventKind::TrapReturn;
      e.source = Source::Guest;
      e.cause = i % 4 == 2 ? TrapCause::Syscall : TrapCause::Sysret;
      e.from_cpl = i % 4 == 2 ? 3 : 0;
      e.to_cpl = i % 4 == 2 ? 0 : 3;
      e.rip = 0x400100;
      e.rip_to = 0x100800;
      break;
  }
  return e;
}

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p95 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p95 = v[std::min(v.size() - 1, v.size() * 95 / 100)];
  p.max = v.back();
  return p;
}

// ---- 1. latency -------------------------------------------------------------

void measure_latency() {
  const std::string path = temp_path("latency");
  auto w = TraceWriter::create(path, header());
  if (!w) {
    std::fprintf(stderr, "bench_live: %s\n", w.error().message.c_str());
    std::exit(74);
  }
  TraceWriter& writer = *w.value();
  std::atomic<int> phase{0};  // 0 busy, 1 idle, 2 done
  std::atomic<uint64_t> busy_end_ns{UINT64_MAX};
  constexpr auto kBusy = std::chrono::milliseconds(1500), kIdleGap = std::chrono::milliseconds(300);
  constexpr int kIdleEvents = 8;
  std::thread vm([&] {
    uint64_t i = 0;
    const auto busy_end = Clock::now() + kBusy;
    while (Clock::now() < busy_end) {
      for (int k = 0; k < 10; ++k) {
        Event e = make_event(i++, monotonic_ns());
        writer.emit(e);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    busy_end_ns = monotonic_ns();
    phase = 1;
    for (int k = 0; k < kIdleEvents; ++k) {
      std::this_thread::sleep_for(kIdleGap);
      Event e = make_event(i++, monotonic_ns());
      writer.emit(e);
    }
    std::this_thread::sleep_for(kIdleGap);  // the last one reaches the file through the flusher
    phase = 2;
  });

  HeadlessContext ctx(1600, 1000);
  View view;
  view.settings().animate = false;
  if (!view.follow_file(path)) std::exit(65);
  const TraceModel& m = *view.traces()[0].model;
  std::vector<double> busy_ms, idle_ms;
  size_t seen = 0;
  uint64_t frames = 0;
  std::vector<double> frame_ms;
  auto next = Clock::now();
  while (phase.load() != 2 || seen < writer.events_written()) {
    next += std::chrono::microseconds(16'667);
    std::this_thread::sleep_until(next);
    const auto f0 = Clock::now();
    ctx.frame(view);
    frame_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - f0).count());
    ++frames;
    const uint64_t shown_at = monotonic_ns();
    for (; seen < m.size(); ++seen) {
      const double ms = static_cast<double>(shown_at - m.time(seen)) / 1e6;
      (m.time(seen) < busy_end_ns.load() ? busy_ms : idle_ms).push_back(ms);
    }
    if (phase.load() == 2 && frames > 100000) break;
  }
  vm.join();
  (void)writer.close();
  const Percentiles b = percentiles(busy_ms), i = percentiles(idle_ms), f = percentiles(frame_ms);
  std::printf("\nLatency, guest event -> its mark on the live timeline (flush period %.0f ms, a frame every 16.7 ms)\n",
              TraceWriterOptions::kDefaultFlushPeriodNs / 1e6);
  std::printf("%-34s %8s %9s %9s %9s %10s\n", "", "events", "median", "p95", "max", "aim");
  std::printf("%-34s %8zu %6.1f ms %6.1f ms %6.1f ms %10s\n", "busy guest (~10 events/ms)", b.n, b.p50, b.p95, b.max,
              "< 250 ms");
  std::printf("%-34s %8zu %6.1f ms %6.1f ms %6.1f ms %10s\n", "idle guest (an event every 300 ms)", i.n, i.p50, i.p95,
              i.max, "< 250 ms");
  std::printf("%-34s %8zu %6.2f ms %6.2f ms %6.2f ms\n", "frame time while following", f.n, f.p50, f.p95, f.max);
  std::printf("(writer: %llu period flushes; model %.1f bytes per event while live)\n",
              static_cast<unsigned long long>(writer.period_flushes()),
              static_cast<double>(m.memory_bytes()) / static_cast<double>(std::max<size_t>(1, m.size())));
  std::filesystem::remove(path);
}

// ---- 2. frame cost -------------------------------------------------------------

constexpr uint64_t kPreloaded = 200'000;   // events in the file before the frames start
std::map<std::string, double> g_frame_ns;  // mean frame time per benchmark, for the ratio

// Writes kPreloaded events 10 us apart ending now; returns the writer, open.
std::unique_ptr<TraceWriter> preload(const std::string& path, uint64_t& i) {
  TraceHeader h = header();
  const uint64_t now = monotonic_ns();
  h.start_mono_ns = now - kPreloaded * 10'000;
  auto w = std::move(TraceWriter::create(path, h)).value();
  for (i = 0; i < kPreloaded; ++i) {
    Event e = make_event(i, h.start_mono_ns + i * 10'000);
    w->emit(e);
  }
  (void)w->flush();
  return w;
}

void BM_FrameReplay(benchmark::State& state) {
  const std::string path = temp_path("replay");
  uint64_t i = 0;
  (void)preload(path, i)->close();
  HeadlessContext ctx(1600, 1000);
  View view;
  view.settings().animate = false;
  view.open_file(path);
  view.select(0, view.traces()[0].model->size() - 1, true);
  ctx.frame(view);
  const auto t0 = Clock::now();
  for (auto _ : state) ctx.frame(view);
  g_frame_ns["replay"] =
      std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(state.iterations());
  std::filesystem::remove(path);
}
BENCHMARK(BM_FrameReplay)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// Following with `rate` events a second arriving (0: a live run that is idle).
void BM_FrameFollowing(benchmark::State& state) {
  const uint64_t rate = static_cast<uint64_t>(state.range(0));
  const std::string path = temp_path("follow");
  uint64_t i = 0;
  auto w = preload(path, i);
  HeadlessContext ctx(1600, 1000);
  View view;
  view.settings().animate = false;
  view.follow_file(path);
  ctx.frame(view);
  std::atomic<bool> stop{false};
  std::thread vm([&] {
    const auto start = Clock::now();
    uint64_t sent = 0;
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      for (const auto due = static_cast<uint64_t>(s * static_cast<double>(rate)); sent < due; ++sent) {
        Event e = make_event(i++, monotonic_ns());
        w->emit(e);
      }
    }
  });
  const size_t before = view.traces()[0].model->size();
  const auto t0 = Clock::now();
  for (auto _ : state) ctx.frame(view);
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  stop = true;
  vm.join();
  g_frame_ns[rate ? "following" : "following-idle"] = ns / static_cast<double>(state.iterations());
  state.counters["new_events"] = static_cast<double>(view.traces()[0].model->size() - before);
  (void)w->close();
  std::filesystem::remove(path);
}
BENCHMARK(BM_FrameFollowing)->Arg(0)->Arg(50'000)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  measure_latency();
  std::printf("\n");
  benchmark::RunSpecifiedBenchmarks();
  if (g_frame_ns.count("replay")) {
    const double r = g_frame_ns["replay"];
    std::printf("\nFrame time, %llu-event trace (headless, draw lists built, not rasterised)\n",
                static_cast<unsigned long long>(kPreloaded));
    std::printf("%-44s %10.1f us %8s\n", "replay (finished file)", r / 1e3, "1.00x");
    for (const char* k : {"following-idle", "following"}) {
      if (!g_frame_ns.count(k)) continue;
      std::printf("%-44s %10.1f us %7.2fx\n",
                  std::string(k) == "following" ? "following, 50 000 events/s arriving" : "following, idle run",
                  g_frame_ns[k] / 1e3, g_frame_ns[k] / r);
    }
  }
  benchmark::Shutdown();
  return 0;
}
