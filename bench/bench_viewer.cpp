// bench_viewer.cpp — the viewer on a synthetic 10 M event trace (issues 5
// and 17): time to open (TraceModel::open streaming the file into the model),
// bytes per event in the model, and the timeline's frame time at full
// zoom-out, mid zoom and deep zoom, printed side by side.
//
// Opening is timed beside two calibrations taken in the same run, rounds
// interleaved so a noisy machine shows in each spread: reading the file's
// bytes into memory (the page cache's speed), and the core reader's own pass
// over the trace with a callback that does nothing (for_each_event: CRC,
// checks and decoding, what any consumer of the trace pays). The aim
// is an absolute 1.5 s on the machine it was measured on; the ratio to the
// decoder's pass says what the model costs on top of reading, on any host.
//
// Frames are headless: Dear ImGui builds the draw lists (the model queries,
// folding and ImDrawList work), nothing is rasterised, so these are the
// CPU-side numbers a GPU-free machine can report honestly. Usage:
//   bench_viewer [EVENTS] [--trace FILE] [--old]
// EVENTS defaults to 10000000. --trace FILE keeps the synthetic trace in FILE
// (and reuses it when it exists); --old also times the old way, read_trace
// into memory (about 300 bytes per event) then TraceModel::from_trace.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/trace_model.h"
#include "platform/imgui_setup.h"
#include "ringscope/exit_reasons.h"
#include "ui/View.h"

using namespace ringscope;
using namespace ringscope::viewer;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// CPU time so far, in ms: of the whole process (every thread), or of the
// calling thread.
double cpu_ms(clockid_t clock = CLOCK_PROCESS_CPUTIME_ID) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Wall time (best and worst of the rounds) and CPU time (best) of one
// measure, and the CPU time of its busiest thread: this thread or all the
// others together (the reader thread). On a machine whose other cores are
// busy the wall time of two threads is about their sum; with a core free
// for each it is about the busier one's, which the CPU times say on any
// machine.
struct Spread {
  double lo = 1e300, hi = 0, cpu = 1e300, busiest = 1e300;
  template <typename Fn>
  void time(Fn&& fn) {
    const double c0 = cpu_ms(), m0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
    const auto t0 = Clock::now();
    fn();
    const double wall = ms_since(t0), cpu_used = cpu_ms() - c0, mine = cpu_ms(CLOCK_THREAD_CPUTIME_ID) - m0;
    lo = std::min(lo, wall);
    hi = std::max(hi, wall);
    cpu = std::min(cpu, cpu_used);
    busiest = std::min(busiest, std::max(mine, cpu_used - mine));
  }
};

// A full-level run's mix: mostly single steps, an I/O exit and a device
// access every ~12 events, a ring 3 <-> 0 round trip every 1000, a marker
// pair every 100 000; 1 µs apart on average.
void write_trace(const std::string& path, uint64_t n) {
  TraceHeader h;
  h.scenario = "synthetic";
  h.mode = "full-virt";
  h.level = "full";
  h.start_mono_ns = 1'000'000'000;
  auto w = TraceWriter::create(path, h);
  if (!w) {
    std::fprintf(stderr, "bench_viewer: %s\n", w.error().message.c_str());
    std::exit(74);
  }
  static const std::string bytes[] = {std::string("\x48\x89\xc7", 3), std::string("\x90", 1), std::string("\xee", 1),
                                      std::string("\x48\x83\xc4\x10", 4)};
  uint8_t cpl = 0;
  uint64_t t = h.start_mono_ns;
  for (uint64_t i = 0; i < n; ++i) {
    t += 500 + (i * 7919) % 1000;
    Event e;
    e.time_ns = t;
    const uint64_t k = i % 1000;
    if (k == 0 || k == 500) {
      e.kind = k == 0 ? EventKind::TrapReturn : EventKind::Trap;
      e.source = Source::SingleStep;
      e.cause = k == 0 ? TrapCause::Iret : TrapCause::Exception;
      e.vector = k == 0 ? 0 : 6;
      e.from_cpl = cpl;
      e.to_cpl = cpl = k == 0 ? 3 : 0;
      e.rip = 0x100200 + k;
      e.rip_to = 0x400000 + k;
    } else if (i % 100'000 == 1 || i % 100'000 == 50'001) {
      e.kind = EventKind::Marker;
      e.source = Source::Guest;
      e.phase = i % 100'000 == 1 ? MarkerPhase::Begin : MarkerPhase::End;
      e.name = "op";
    } else if (i % 12 == 5) {
      e.kind = EventKind::VmExit;
      e.source = Source::KvmExit;
      e.reason = exit_reason::kIoInstruction;
      e.handled_by = HandledBy::Vmm;
      e.port = 0x3f8;
      e.direction = Direction::Out;
      e.size = 1;
      e.value = 'a' + i % 26;
      e.duration_ns = 300 + i % 400;
      e.rip = 0x102304;
      e.cpl = 0;
    } else if (i % 12 == 6) {
      e.kind = EventKind::Device;
      e.source = Source::Vmm;
      e.device = "uart";
      e.reg = "THR";
      e.direction = Direction::Write;
      e.size = 1;
      e.value = 'a' + i % 26;
      e.duration_ns = 120;
    } else {
      e.kind = EventKind::Step;
      e.source = Source::SingleStep;
      e.rip = (cpl ? 0x8000000000 : 0x100000) + (i % 4096);
      e.cpl = cpl;
      e.text = bytes[i % 4];
    }
    w.value()->emit(e);
  }
  (void)w.value()->close();
}

// Mean frame time over `frames` frames of the whole UI at a zoom.
double frame_ms(HeadlessContext& ctx, View& view, double from, double to, int frames, size_t& marks) {
  view.set_zoom(from, to);
  ctx.frame(view);  // first frame: layout settles
  const auto t = Clock::now();
  for (int i = 0; i < frames; ++i) ctx.frame(view);
  marks = view.marks_drawn();
  return ms_since(t) / frames;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 10'000'000;
  std::string path;
  bool old_way = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trace" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--old") {
      old_way = true;
    } else {
      n = std::strtoull(argv[i], nullptr, 10);
    }
  }
  const bool keep = !path.empty();
  if (!keep) path = (std::filesystem::temp_directory_path() / "bench_viewer.rtrace").string();
  if (!keep || !std::filesystem::exists(path)) {
    std::printf("bench_viewer: writing a synthetic trace of %llu events to %s ...\n",
                static_cast<unsigned long long>(n), path.c_str());
    const auto t = Clock::now();
    write_trace(path, n);
    std::printf("  written in %.0f ms, %.1f MiB on disk\n", ms_since(t),
                static_cast<double>(std::filesystem::file_size(path)) / 1048576.0);
  } else {
    std::printf("bench_viewer: reusing %s (%.1f MiB)\n", path.c_str(),
                static_cast<double>(std::filesystem::file_size(path)) / 1048576.0);
  }

  // Three rounds of: the file's bytes into memory, the decoder's pass, the
  // model's open on one thread and with the reader thread. The model of the
  // last round goes on to the frames. Each is timed on the wall clock and in
  // CPU time of the whole process (all threads): on a machine shared with
  // other work the CPU time moves less, and the wall time shows what the
  // second thread gained.
  Spread r_read, r_decode, r_serial, r_open;
  uint64_t decoded = 0;
  std::unique_ptr<TraceModel> model;
  auto open = [&](TraceModel::Reading reading) {
    model.reset();
    auto m = TraceModel::open(path, reading);
    if (!m) {
      std::fprintf(stderr, "bench_viewer: %s\n", m.error().message.c_str());
      std::exit(65);
    }
    model = std::move(m).value();
  };
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    r_read.time([&] {
      std::ifstream in(path, std::ios::binary);
      std::vector<char> bytes(std::filesystem::file_size(path));
      in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
    r_decode.time([&] {
      decoded = 0;
      auto s = for_each_event(path, ReadOptions{}, [&](const Event&) {
        ++decoded;
        return true;
      });
      if (!s) {
        std::fprintf(stderr, "bench_viewer: %s\n", s.error().message.c_str());
        std::exit(65);
      }
    });
    r_serial.time([&] { open(TraceModel::Reading::Serial); });
    model.reset();
    r_open.time([&] { open(TraceModel::Reading::Pipelined); });
  }
  n = model->size();
  const double per_event = static_cast<double>(model->memory_bytes()) / static_cast<double>(n);

  double read_ms = 0, build_ms = 0;
  if (old_way) {
    std::unique_ptr<TraceModel> keep_model = std::move(model);
    auto t = Clock::now();
    auto trace = read_trace(path);
    if (!trace) {
      std::fprintf(stderr, "bench_viewer: %s\n", trace.error().message.c_str());
      return 65;
    }
    read_ms = ms_since(t);
    t = Clock::now();
    auto old_model = TraceModel::from_trace(std::move(trace).value(), "bench_viewer.rtrace");
    build_ms = ms_since(t);
    old_model.reset();
    model = std::move(keep_model);
  }

  HeadlessContext ctx(1600, 1000);
  View view;
  view.settings().animate = false;
  view.add_trace(std::move(model), path);
  view.zoom_to_fit();
  const double full_from = view.zoom_from(), full_to = view.zoom_to();
  const double mid = (full_from + full_to) / 2;
  const double span = full_to - full_from;
  size_t m_full = 0, m_mid = 0, m_deep = 0;
  const double f_full = frame_ms(ctx, view, full_from, full_to, 30, m_full);
  const double f_mid = frame_ms(ctx, view, mid - span / 2000, mid + span / 2000, 30, m_mid);
  const double f_deep = frame_ms(ctx, view, mid - 20'000, mid + 20'000, 30, m_deep);

  std::printf("\n%-44s %14s %10s   %s\n", "", "measured", "aim", "(wall: best .. worst of 3 rounds; CPU: best)");
  auto row = [](const char* what, const Spread& r, const char* aim) {
    std::printf("%-44s %11.0f ms %10s   (.. %.0f ms; CPU %.0f ms)\n", what, r.lo, aim, r.hi, r.cpu);
  };
  row("open: TraceModel::open (reader thread + build)", r_open, "< 1500 ms");
  row("open on one thread (Reading::Serial)", r_serial, "");
  row("calibration: the file's bytes into memory", r_read, "");
  row("calibration: decoder pass (for_each_event)", r_decode, "");
  std::printf("%-44s %11.0f ms %10s   (CPU of the busier thread: with a core free for each, the wall time)\n",
              "open: reader thread's critical path", r_open.busiest, "< 1500 ms");
  std::printf("%-44s %13.2fx %10s   (CPU %.2fx)\n", "open / decoder pass (wall best / best)", r_open.lo / r_decode.lo,
              "", r_open.cpu / r_decode.cpu);
  std::printf("%-44s %13.2fx %10s\n", "open's critical path / decoder pass (CPU)", r_open.busiest / r_decode.cpu, "");
  std::printf("%-44s %13.2fx %10s   (CPU %.2fx)\n", "open on one thread / decoder pass", r_serial.lo / r_decode.lo, "",
              r_serial.cpu / r_decode.cpu);
  if (old_way) {
    std::printf("%-44s %11.0f ms %10s\n", "old way: read_trace (whole trace in memory)", read_ms, "");
    std::printf("%-44s %11.0f ms %10s\n", "  then TraceModel::from_trace", build_ms, "");
  }
  std::printf("%-44s %14.1f %10s\n", "model bytes per event", per_event, "<= 32");
  std::printf("%-44s %11.2f ms %10s   %zu marks\n", "frame, full zoom-out (whole trace)", f_full, "< 16 ms", m_full);
  std::printf("%-44s %11.2f ms %10s   %zu marks\n", "frame, mid zoom (1/1000 of the trace)", f_mid, "< 16 ms", m_mid);
  std::printf("%-44s %11.2f ms %10s   %zu marks\n", "frame, deep zoom (40 µs)", f_deep, "< 16 ms", m_deep);
  std::printf("(frames: headless Dear ImGui, draw lists built, not rasterised; %llu events)\n",
              static_cast<unsigned long long>(n));
  std::printf(
      "(open's aim, 1.5 s for 10 M events, is the issue's absolute figure on a quiet 2-core machine; here it is\n"
      " %.2fx this run's decoder pass (CPU). The ratios to the decoder's pass, measured beside it on the same\n"
      " bytes, are what carry to a host of another speed; the critical path is the wall time with a core free\n"
      " for each of the two threads, which a shared machine's wall clock cannot show)\n",
      1500.0 / r_decode.cpu);
  if (!keep) std::filesystem::remove(path);
  return 0;
}
