// bench_rss — peak memory of the verbs that read or write a whole trace, at
// 1 M and 10 M events, side by side: `run` (recording and its end-of-run
// summary), `stats`, `show` and `export` (JSON Lines, Chrome JSON, Perfetto).
//
// Each verb runs as a child `ringscope` process; its peak RSS comes from
// wait4()'s rusage (ru_maxrss), its speed is events / wall time. The traces
// for stats/show/export are written here with TraceWriter (a UART workload
// with markers, counters and console output); `run` records a real guest
// (io-burst, the UART at two exits per byte) under KVM when the host has
// it, under emulation otherwise. Figures only: nothing here asserts a time.
//
//   bench_rss [--events 1000000,10000000] [--dir DIR] [--skip-run]
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ringscope/trace.h"

namespace {

using namespace ringscope;
namespace fs = std::filesystem;

struct Child {
  int rc = -1;
  double seconds = 0;
  long max_rss_kib = 0;
};

// Runs `args` with stdout and stderr to /dev/null (or `out`), returns its exit
// code, wall time and peak RSS.
Child run_child(const std::vector<std::string>& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  Child c;
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) != pid) return c;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  c.max_rss_kib = ru.ru_maxrss;
  return c;
}

// A trace of `n` events: UART exits each followed by its device event, a
// marker phase every 4096 events, kvm-stats counters and console output.
void write_trace(const std::string& path, uint64_t n) {
  TraceHeader h;
  h.scenario = "bench-rss";
  h.mode = "full-virt";
  h.level = "exits";
  auto w = TraceWriter::create(path, h);
  if (!w) {
    std::fprintf(stderr, "bench_rss: %s\n", w.error().message.c_str());
    std::exit(1);
  }
  std::mt19937_64 rng(1);
  uint64_t time = 1'000'000'000;
  const std::string text = "Hello from ring 3! The quick brown fox jumps over the lazy dog.\n";
  uint64_t i = 0;
  auto emit = [&](Event& e) {
    e.time_ns = time += 500 + rng() % 2000;
    (*w)->emit(e);
    ++i;
  };
  while (i < n) {
    Event e;
    if (i % 4096 == 0) {
      e.kind = EventKind::Marker;
      e.source = Source::Guest;
      e.phase = (i / 4096) % 2 ? MarkerPhase::End : MarkerPhase::Begin;
      e.name = "write 4 KiB";
    } else if (i % 1024 == 1) {
      e.kind = EventKind::Counter;
      e.source = Source::KvmStats;
      e.name = "io_exits";
      e.value = i;
    } else if (i % 512 == 2) {
      e.kind = EventKind::Output;
      e.source = Source::Vmm;
      e.text = text;
    } else if (i % 2 == 0) {
      const bool thr = (i / 2) % 2;
      e.kind = EventKind::VmExit;
      e.source = Source::KvmExit;
      e.reason = 30;
      e.handled_by = HandledBy::Vmm;
      e.rip = thr ? 0xffffffff81001234ull : 0xffffffff81001220ull;
      e.port = thr ? 0x3f8 : 0x3fd;
      e.size = 1;
      e.direction = thr ? Direction::Out : Direction::In;
      e.value = thr ? static_cast<uint8_t>(text[(i / 4) % text.size()]) : 0x60;
      e.duration_ns = 1500 + rng() % 2000;
    } else {
      e.kind = EventKind::Device;
      e.source = Source::Vmm;
      e.device = "uart";
      e.reg = "THR";
      e.direction = Direction::Write;
      e.size = 1;
      e.value = 'h';
    }
    emit(e);
  }
  if (auto s = (*w)->close(); !s.ok()) {
    std::fprintf(stderr, "bench_rss: %s\n", s.error().message.c_str());
    std::exit(1);
  }
}

void print_row(const char* verb, uint64_t events, const Child& c) {
  if (c.rc != 0) {
    std::printf("  %-26s %12llu %12s %14s   (exit %d)\n", verb, static_cast<unsigned long long>(events), "-", "-",
                c.rc);
    return;
  }
  std::printf("  %-26s %12llu %9.1f MiB %11.2f M/s\n", verb, static_cast<unsigned long long>(events),
              static_cast<double>(c.max_rss_kib) / 1024.0, c.seconds > 0 ? events / c.seconds / 1e6 : 0.0);
}

// Events in a trace file (streamed, as the verbs do).
uint64_t count_events(const std::string& path) {
  uint64_t n = 0;
  (void)for_each_event(path, {}, [&](const Event&) { return ++n, true; });
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes = {1'000'000, 10'000'000};
  fs::path dir = fs::temp_directory_path() / ("ringscope-bench-rss-" + std::to_string(getpid()));
  bool skip_run = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--events" && i + 1 < argc) {
      sizes.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        size_t q = list.find(',', p);
        sizes.push_back(std::stoull(list.substr(p, q - p)));
        if (q == std::string::npos) break;
        p = q + 1;
      }
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--skip-run") {
      skip_run = true;
    } else {
      std::fprintf(stderr, "usage: bench_rss [--events N,N...] [--dir DIR] [--skip-run]\n");
      return 64;
    }
  }
  fs::create_directories(dir);
  const std::string bin = RINGSCOPE_BIN;
  const bool kvm = ::access("/dev/kvm", R_OK | W_OK) == 0;
  std::printf("peak RSS (ru_maxrss of the child) and events/s per verb; traces in %s\n", dir.c_str());
  std::printf("  %-26s %12s %13s %14s\n", "verb", "events", "peak RSS", "events/s");
  for (uint64_t n : sizes) {
    const std::string trace = (dir / ("bench-" + std::to_string(n) + ".rtrace")).string();
    write_trace(trace, n);
    const std::string out = (dir / "out").string();
    print_row("stats", n, run_child({bin, "stats", trace}));
    print_row("stats --json", n, run_child({bin, "stats", "--json", trace}));
    print_row("show", n, run_child({bin, "show", trace}));
    print_row("export --format jsonl", n, run_child({bin, "export", "--format", "jsonl", "-o", out, trace}));
    if (n <= 2'000'000)  // Chrome JSON refuses more (kMaxChromeJsonEvents)
      print_row("export --format chrome", n, run_child({bin, "export", "--format", "chrome", "-o", out, trace}));
    print_row("export --format perfetto", n, run_child({bin, "export", "--format", "perfetto", "-o", out, trace}));
    fs::remove(out);
    fs::remove(trace);

    if (skip_run) continue;
    // io-burst makes about 4 events per byte under full-virt (two exits and
    // their device events) and takes at most 1 MiB: past that, the run is
    // single-stepped (--level full) to reach the count.
    const std::string mode = kvm ? "full-virt" : "emulation";
    const uint64_t bytes = std::min<uint64_t>(1 << 20, std::max<uint64_t>(64, n / 4));
    std::vector<std::string> args = {bin,           "run",       "io-burst",  "--mode",
                                     mode,          "--quiet",   "--param",   "bytes=" + std::to_string(bytes),
                                     "--trace",     trace,       "--timeout", "3600",
                                     "--max-exits", "1000000000"};
    if (n / 4 > bytes) {
      args.push_back("--level");
      args.push_back("full");
    }
    Child c = run_child(args);
    const uint64_t recorded = c.rc == 0 ? count_events(trace) : 0;
    const std::string label = "run (" + mode + (n / 4 > bytes ? ", full" : "") + ")";
    print_row(label.c_str(), recorded, c);
    fs::remove(trace);
  }
  std::printf("(guest RAM is 64 MiB, the default; run's figure includes it once touched)\n");
  fs::remove_all(dir);
  return 0;
}
