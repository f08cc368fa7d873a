// bench_trace — what tracing costs: writer events/s (encode and checksum,
// no I/O), bytes per event on disk, reader events/s (read_trace, which keeps
// every event as an Event, TraceStore, which keeps them as their chunks, and
// for_each_event, which streams them).
//
// The workload is the hottest path in full-virt mode: a guest printing
// through the 16550 UART, i.e. port-I/O exits alternating between an LSR
// poll (in 0x3fd) and a THR write (out 0x3f8), optionally each followed by
// the device event the VMM emits. Times and durations jitter the way real
// exits do, so delta encoding is not flattered.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "ringscope/trace.h"

namespace {

using namespace ringscope;

TraceHeader bench_header() {
  TraceHeader h;
  h.scenario = "bench";
  h.mode = "full-virt";
  h.level = "exits";
  return h;
}

std::vector<Event> uart_workload(size_t n, bool with_device_events) {
  std::mt19937_64 rng(1);
  std::vector<Event> events;
  events.reserve(n);
  const std::string text = "Hello from ring 3! The quick brown fox jumps over the lazy dog.\n";
  uint64_t time = 5'000'000'000ull;
  for (size_t i = 0; events.size() < n; ++i) {
    const bool thr = i % 2 == 1;
    const auto c = static_cast<uint8_t>(text[(i / 2) % text.size()]);
    Event e;
    e.time_ns = time += 2000 + rng() % 4000;
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.reason = 30;
    e.handled_by = HandledBy::Vmm;
    e.rip = thr ? 0xffffffff81001234ull : 0xffffffff81001220ull;
    e.port = thr ? 0x3f8 : 0x3fd;
    e.size = 1;
    e.direction = thr ? Direction::Out : Direction::In;
    e.value = thr ? c : 0x60;
    e.duration_ns = 1500 + rng() % 2000;
    events.push_back(e);
    if (with_device_events && events.size() < n) {
      Event d;
      d.time_ns = e.time_ns + 300 + rng() % 200;
      d.kind = EventKind::Device;
      d.source = Source::Vmm;
      d.device = "uart";
      d.reg = thr ? "THR" : "LSR";
      d.direction = thr ? Direction::Write : Direction::Read;
      d.size = 1;
      d.value = e.value;
      d.duration_ns = 40 + rng() % 60;
      events.push_back(d);
    }
  }
  return events;
}

// Emits the workload over and over into a Discard writer. Every chunk is
// still encoded, framed and checksummed; only the write() is skipped.
//
// A vCPU builds each event on its stack just before emit(), so the event
// is in the L1 cache when the writer reads it: kHotEvents prebuilt events
// (about 1 MB) stand for that. kStreamedEvents (about 20 MB, more than
// the caches hold) make every event come from memory as well, which is
// what the benchmark measured before (issue 17: 26.5-28.8 M events/s):
// BM_WriterIoExitsStreamed keeps that figure beside the hot one.
constexpr size_t kHotEvents = 1 << 12, kStreamedEvents = 1 << 16;
void run_writer(benchmark::State& state, bool with_device_events, size_t n_events = kHotEvents) {
  auto events = uart_workload(n_events, with_device_events);
  const uint64_t span = events.back().time_ns - events.front().time_ns + 1000;
  auto w = TraceWriter::create_in_memory(bench_header(), TraceWriter::MemoryTarget::Discard);
  size_t i = 0;
  for (auto _ : state) {
    w->emit(events[i]);
    if (++i == events.size()) {
      i = 0;
      for (auto& e : events) e.time_ns += span;  // keep time moving forward
    }
  }
  (void)w->close();
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bytes/event"] =
      static_cast<double>(w->bytes_written()) / static_cast<double>(std::max<uint64_t>(1, w->events_written()));
}

void BM_WriterIoExits(benchmark::State& state) { run_writer(state, false); }
void BM_WriterIoExitsAndDeviceEvents(benchmark::State& state) { run_writer(state, true); }
void BM_WriterIoExitsStreamed(benchmark::State& state) { run_writer(state, false, kStreamedEvents); }
BENCHMARK(BM_WriterIoExits);
BENCHMARK(BM_WriterIoExitsAndDeviceEvents);
BENCHMARK(BM_WriterIoExitsStreamed);

// The writer with the live flush period off (issue 14): beside
// BM_WriterIoExits, what reading the clock once per chunk costs.
void BM_WriterIoExitsNoPeriod(benchmark::State& state) {
  auto events = uart_workload(kHotEvents, false);
  const uint64_t span = events.back().time_ns - events.front().time_ns + 1000;
  TraceWriterOptions o;
  o.flush_period_ns = 0;
  auto w = TraceWriter::create_in_memory(bench_header(), TraceWriter::MemoryTarget::Discard, o);
  size_t i = 0;
  for (auto _ : state) {
    w->emit(events[i]);
    if (++i == events.size()) {
      i = 0;
      for (auto& e : events) e.time_ns += span;
    }
  }
  (void)w->close();
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriterIoExitsNoPeriod);

// vCPU threads sharing one writer (its spin lock orders the events), each
// emitting its own exits, with a flush_if_due() check every 1000 events as
// the flusher thread would make: events/s in total for 1, 2 and 4 threads
// (issue 15: the writer must not serialise vCPUs). The CPU column is the
// tracing cost per event summed over the threads: it stays flat while the
// threads do not wait for each other, and grows with spinning on the lock.
// Back to back, as here, is the worst case: a real vCPU emits an exit's
// two or three events every few microseconds.
std::unique_ptr<TraceWriter> g_shared_writer;
void BM_WriterThreads(benchmark::State& state) {
  if (state.thread_index() == 0)
    g_shared_writer = TraceWriter::create_in_memory(bench_header(), TraceWriter::MemoryTarget::Discard);
  auto events = uart_workload(1 << 12, false);
  const uint64_t span = events.back().time_ns - events.front().time_ns + 1000;
  for (auto& e : events) e.vcpu = static_cast<uint32_t>(state.thread_index());
  size_t i = 0, n = 0;
  for (auto _ : state) {
    g_shared_writer->emit(events[i]);
    if (++n % 1000 == 0) (void)g_shared_writer->flush_if_due();
    if (++i == events.size()) {
      i = 0;
      for (auto& e : events) e.time_ns += span;
    }
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) {
    (void)g_shared_writer->close();
    g_shared_writer.reset();
  }
}
BENCHMARK(BM_WriterThreads)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

std::vector<uint8_t> trace_bytes(size_t n, bool with_device_events) {
  auto events = uart_workload(n, with_device_events);
  auto w = TraceWriter::create_in_memory(bench_header());
  for (auto& e : events) w->emit(e);
  (void)w->close();
  return w->memory_bytes();
}

// Size on disk of one million events, whole file (header, chunk frames and
// end mark included).
void run_size(benchmark::State& state, bool with_device_events) {
  constexpr size_t kEvents = 1'000'000;
  size_t bytes = 0;
  for (auto _ : state) bytes = trace_bytes(kEvents, with_device_events).size();
  state.counters["bytes/event"] = static_cast<double>(bytes) / kEvents;
}
void BM_SizeIoExits(benchmark::State& state) { run_size(state, false); }
void BM_SizeIoExitsAndDeviceEvents(benchmark::State& state) { run_size(state, true); }
BENCHMARK(BM_SizeIoExits)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SizeIoExitsAndDeviceEvents)->Iterations(1)->Unit(benchmark::kMillisecond);

void run_reader(benchmark::State& state, bool with_device_events) {
  constexpr size_t kEvents = 1'000'000;
  const auto bytes = trace_bytes(kEvents, with_device_events);
  for (auto _ : state) {
    auto t = read_trace_bytes(bytes);
    if (!t.ok() || t->events.size() != kEvents) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(t);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kEvents), benchmark::Counter::kIsRate);
}
// The same bytes through for_each_event: every check read_trace makes, but
// each event handed to a callback instead of kept (how the viewer loads).
void run_stream(benchmark::State& state, bool with_device_events) {
  constexpr size_t kEvents = 1'000'000;
  const auto bytes = trace_bytes(kEvents, with_device_events);
  for (auto _ : state) {
    uint64_t n = 0, sum = 0;
    auto s = for_each_event_bytes(bytes.data(), bytes.size(), {}, [&](const Event& e) {
      sum += e.value;
      ++n;
      return true;
    });
    if (!s.ok() || n != kEvents) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(sum);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kEvents), benchmark::Counter::kIsRate);
}

// TraceStore: the whole trace kept (random access by index), each chunk
// checked once and kept as its bytes, a few bytes per event instead of
// read_trace's ~300 (whose time is mostly the kernel zeroing that memory).
void run_store(benchmark::State& state, bool with_device_events) {
  constexpr size_t kEvents = 1'000'000;
  const auto bytes = trace_bytes(kEvents, with_device_events);
  uint64_t held = 0;
  for (auto _ : state) {
    auto t = TraceStore::from_bytes(bytes.data(), bytes.size());
    if (!t.ok() || t->size() != kEvents) state.SkipWithError("read failed");
    held = t->memory_bytes();
    benchmark::DoNotOptimize(t);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kEvents), benchmark::Counter::kIsRate);
  state.counters["bytes/event held"] = static_cast<double>(held) / kEvents;
}
void BM_StoreIoExits(benchmark::State& state) { run_store(state, false); }
void BM_StoreIoExitsAndDeviceEvents(benchmark::State& state) { run_store(state, true); }
BENCHMARK(BM_StoreIoExits)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreIoExitsAndDeviceEvents)->Unit(benchmark::kMillisecond);

void BM_ReaderIoExits(benchmark::State& state) { run_reader(state, false); }
void BM_ReaderIoExitsAndDeviceEvents(benchmark::State& state) { run_reader(state, true); }
BENCHMARK(BM_ReaderIoExits)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReaderIoExitsAndDeviceEvents)->Unit(benchmark::kMillisecond);
void BM_StreamIoExits(benchmark::State& state) { run_stream(state, false); }
void BM_StreamIoExitsAndDeviceEvents(benchmark::State& state) { run_stream(state, true); }
BENCHMARK(BM_StreamIoExits)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StreamIoExitsAndDeviceEvents)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
