// bench_run_path — the path users take, timed as whole processes and set
// beside the floor and QEMU, interleaved in one run (issue 17 item 3,
// issue 15 item 4):
//   io        `ringscope run --image G` of a ring-0 `out` loop (a tiny PVH
//             guest; the run writes its trace at level exits, as every run
//             does), against a minimal KVM_RUN loop on the same guest, and
//             against qemu-system-x86_64 -accel kvm when it is installed;
//   emulation `ringscope run --image C --mode emulation` of a ring-0 compute
//             loop (5 instructions an iteration) against QEMU's TCG;
//   vcpus     `ringscope run --image S --vcpus N --irqchip kernel` for N = 1,
//             2 and 4: every vCPU runs the same `out` loop at once (the
//             APs in real mode, where their SIPI starts them).
// QEMU runs the same ELF on its microvm machine (see qemu_run).
// Every figure is a slope: the difference in time between a short and a
// long run divided by the difference in work, so process start-up, VM
// creation and the trace's set-up cancel. Each round times every variant's
// short and long run, alternating, so a noisy machine hits all alike; the
// figures printed are medians over rounds, and the ratios are medians of
// the ratios taken round by round. Each is given twice: CPU time (user +
// system of every thread of the process), which other work on a shared
// machine distorts little, and wall time, which it distorts a lot.
//
//   bench_run_path [--rounds R] [--only io|emulation|vcpus] [--baseline OTHER_RINGSCOPE]
#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "kvm/kvm_vm.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "support/qemu.h"
#include "support/tiny_elf.h"

namespace {

using namespace ringscope;
namespace fs = std::filesystem;

void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) { std::memcpy(&v[at], &x, 4); }

fs::path write_guest(const std::string& name, const std::vector<uint8_t>& code) {
  test::TinyKernel k;
  k.code = code;
  k.entry64 = false;  // the 32-bit PVH entry: the one QEMU takes too
  std::vector<uint8_t> elf = test::make_tiny_kernel(k);
  // QEMU's ELF loader divides by the program headers' alignment, which
  // the test image leaves 0: a page for the PT_LOAD, 4 for the PT_NOTE.
  for (int i = 0; i < 2; i++) {
    Elf64_Phdr ph;
    std::memcpy(&ph, elf.data() + sizeof(Elf64_Ehdr) + i * sizeof ph, sizeof ph);
    ph.p_align = ph.p_type == PT_LOAD ? 0x1000 : 4;
    std::memcpy(elf.data() + sizeof(Elf64_Ehdr) + i * sizeof ph, &ph, sizeof ph);
  }
  return test::write_temp_file("bench-run-path-" + name, elf);
}

// mov ecx, N; mov dx, 0x3ff; 1: out dx, al; dec ecx; jnz 1b; xor eax, eax; out 0xf4, al; hlt
// (the UART's scratch register: an exit to the VMM in ringscope and QEMU alike).
fs::path io_guest(uint32_t outs) {
  std::vector<uint8_t> c = {0xb9, 0,    0,    0,    0,    0x66, 0xba, 0xff, 0x03, 0xee,
                            0xff, 0xc9, 0x75, 0xfb, 0x31, 0xc0, 0xe6, 0xf4, 0xf4};
  put32(c, 1, outs);
  return write_guest("io-" + std::to_string(outs), c);
}

// mov ecx, N; 1: add eax, ebx; xor edx, eax; inc ebx; dec ecx; jnz 1b; xor eax, eax; out 0xf4, al; hlt
fs::path compute_guest(uint32_t iterations) {
  std::vector<uint8_t> c = {0xb9, 0,    0,    0,    0,    0x01, 0xd8, 0x31, 0xc2, 0xff,
                            0xc3, 0xff, 0xc9, 0x75, 0xf6, 0x31, 0xc0, 0xe6, 0xf4, 0xf4};
  put32(c, 1, iterations);
  return write_guest("compute-" + std::to_string(iterations), c);
}

// Every vCPU runs `outs` port writes. The BSP (32-bit, paging off) copies a
// real-mode trampoline to 0x10000, starts the APs with INIT-SIPI-SIPI to
// all but itself through its local APIC, runs its own loop, waits until
// every AP has counted itself done, then writes its exit status.
fs::path smp_guest(uint32_t outs, uint32_t vcpus) {
  constexpr uint32_t kTramp = 0x10000, kImage = 0x100000;
  // AP, real mode, CS = 0x1000: mov dx, 0x3ff; mov ecx, N; 1: out dx, al;
  // dec ecx; jnz 1b; lock inc dword cs:[0x100]; 2: cli; hlt; jmp 2b
  std::vector<uint8_t> ap = {0xba, 0xff, 0x03, 0x66, 0xb9, 0,    0,    0,    0,    0xee, 0x66, 0xff, 0xc9,
                             0x75, 0xfa, 0xf0, 0x2e, 0x66, 0xff, 0x06, 0x00, 0x01, 0xfa, 0xf4, 0xeb, 0xfc};
  put32(ap, 5, outs);
  std::vector<uint8_t> c;
  auto emit = [&](std::initializer_list<uint8_t> b) { c.insert(c.end(), b); };
  auto imm = [&](uint32_t x) {
    for (int i = 0; i < 4; i++) c.push_back(static_cast<uint8_t>(x >> (8 * i)));
  };
  const size_t src_at = 1;
  emit({0xbe}), imm(0);  // mov esi, trampoline (patched below)
  emit({0xbf}), imm(kTramp);
  emit({0xb9}), imm(static_cast<uint32_t>(ap.size()));
  emit({0xf3, 0xa4});                               // rep movsb
  emit({0xc7, 0x05}), imm(kTramp + 0x100), imm(0);  // the done counter
  if (vcpus > 1) {
    for (uint32_t icr : {0x000c4500u, 0x000c4600u | (kTramp >> 12), 0x000c4600u | (kTramp >> 12)})
      emit({0xc7, 0x05}), imm(0xfee00300), imm(icr);
  }
  emit({0xb9}), imm(outs);
  emit({0x66, 0xba, 0xff, 0x03, 0xee, 0xff, 0xc9, 0x75, 0xfb});
  emit({0x81, 0x3d}), imm(kTramp + 0x100), imm(vcpus - 1);  // cmp dword [done], APs
  emit({0x75, 0xf4});                                       // jne back to the cmp
  emit({0x31, 0xc0, 0xe6, 0xf4, 0xf4});
  put32(c, src_at, kImage + static_cast<uint32_t>(c.size()));
  c.insert(c.end(), ap.begin(), ap.end());
  return write_guest(fmt::format("smp-{}-{}", vcpus, outs), c);
}

// What one run cost: wall time, and CPU time (user + system, every thread),
// which a machine loaded by other work distorts far less than wall time.
struct Cost {
  double wall = -1, cpu = -1;
  bool ok() const { return wall >= 0; }
};

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

// Runs argv to its end with every output thrown away; not ok() when it did
// not exit with `want`.
Cost time_command(const std::vector<std::string>& args, int want) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0), ::dup2(null, 1), ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  Cost c;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
    fmt::print(stderr, "bench_run_path: {} exited with status {:#x} (wanted {})\n", args[0], status, want);
    return c;
  }
  c.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.cpu = seconds(ru.ru_utime) + seconds(ru.ru_stime);
  return c;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The floor: KVM_RUN on its own thread and nothing else until the status write.
Cost bare_run(const fs::path& image) {
  MachineConfig config;
  config.kernel = image;
  config.force_pvh = true;
  auto m = Machine::create(config);
  if (!m.ok()) return {};
  auto t0 = std::chrono::steady_clock::now();
  auto vm = kvm::Vm::create();
  if (!vm.ok() || !vm.value()->set_memory(m.value()->memory()).ok()) return {};
  auto vcpu = vm.value()->create_vcpu(0);
  if (!vcpu.ok() || !vcpu.value()->apply_boot_state(m.value()->boot()).ok()) return {};
  struct kvm_run* run = vcpu.value()->run();
  run->kvm_valid_regs = 0;
  int fd = vcpu.value()->fd();
  bool ok = false;
  double cpu = 0;
  std::thread t([&] {
    const double c0 = thread_cpu_seconds();
    for (;;) {
      if (ioctl(fd, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO) break;
      if (run->io.port == 0xf4) {
        ok = true;
        break;
      }
    }
    cpu = thread_cpu_seconds() - c0;
  });
  t.join();
  Cost c;
  if (!ok) return c;
  c.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.cpu = cpu;
  return c;
}

struct Variant {
  std::string name;
  std::function<Cost(uint32_t)> run;  // for `work` units
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Median over rounds of a/b, round by round (both measured in the same round).
double paired_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a.size(), b.size()); i++)
    if (b[i] > 0) r.push_back(a[i] / b[i]);
  return median(r);
}

// Per round, each variant's short and long run, alternating variant by
// variant; each variant's slopes (seconds per unit of work), one per round,
// of CPU time and of wall time.
struct Slopes {
  std::map<std::string, std::vector<double>> cpu, wall;
};
Slopes measure(const std::vector<Variant>& vs, uint32_t lo, uint32_t hi, int rounds) {
  Slopes s;
  for (int r = 0; r < rounds; r++) {
    for (const auto& v : vs) {
      Cost a = v.run(lo), b = v.run(hi);
      if (!a.ok() || !b.ok()) continue;
      s.cpu[v.name].push_back((b.cpu - a.cpu) / (hi - lo));
      s.wall[v.name].push_back((b.wall - a.wall) / (hi - lo));
    }
  }
  return s;
}

// One line per variant: CPU and wall time per unit, in `unit` (1e6: µs).
void print_rows(const std::vector<Variant>& vs, const Slopes& s, double unit) {
  fmt::print("  {:<28} {:>10} {:>10}\n", "", "CPU", "wall");
  for (const auto& v : vs) {
    auto c = s.cpu.find(v.name), w = s.wall.find(v.name);
    if (c == s.cpu.end()) {
      fmt::print("  {:<28} failed (see above)\n", v.name);
      continue;
    }
    fmt::print("  {:<28} {:>10.3f} {:>10.3f}   ({} rounds)\n", v.name, median(c->second) * unit,
               median(w->second) * unit, c->second.size());
  }
}

// a / b per round, CPU time and wall time: "cpu x.xxx, wall y.yyy".
std::string ratios(const Slopes& s, const std::string& a, const std::string& b) {
  auto get = [](const std::map<std::string, std::vector<double>>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::vector<double>{} : it->second;
  };
  return fmt::format("CPU {:.3f}, wall {:.3f}", paired_ratio(get(s.cpu, a), get(s.cpu, b)),
                     paired_ratio(get(s.wall, a), get(s.wall, b)));
}

std::string load_average() {
  double l[3] = {};
  if (getloadavg(l, 3) != 3) return "?";
  return fmt::format("{:.2f} {:.2f} {:.2f}", l[0], l[1], l[2]);
}

// Guest images are written once per size and removed at the end.
class Images {
 public:
  const fs::path& get(const std::string& key, const std::function<fs::path()>& make) {
    auto it = paths_.find(key);
    if (it == paths_.end()) it = paths_.emplace(key, make()).first;
    return it->second;
  }
  ~Images() {
    for (auto& [k, p] : paths_) fs::remove(p);
  }

 private:
  std::map<std::string, fs::path> paths_;
};

// --baseline PATH: another ringscope binary (an older build) timed beside
// this build's in the same rounds, for before/after ratios.
std::string g_bin = RINGSCOPE_BIN;

std::vector<std::string> ringscope_run(const fs::path& image, const fs::path& trace,
                                       std::vector<std::string> extra = {}, const std::string& bin = g_bin) {
  std::vector<std::string> a = {bin,       "run",     "--image",      image.string(), "--pvh",
                                "--quiet", "--trace", trace.string(), "--max-exits",  "100000000"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::vector<std::string> qemu_run(const std::string& qemu, const char* accel, const fs::path& image,
                                  uint32_t vcpus = 1) {
  // microvm: its firmware (qboot) enters the PVH kernel at once. The pc
  // machine's SeaBIOS runs real-mode code first, which a PVM host emulates
  // instruction by instruction: seconds of start-up whose noise would drown
  // the slope.
  return {qemu,
          "-M",
          "microvm",
          "-accel",
          accel,
          "-kernel",
          image.string(),
          "-smp",
          std::to_string(vcpus),
          "-device",
          "isa-debug-exit,iobase=0xf4,iosize=0x04",
          "-serial",
          "null",
          "-display",
          "none",
          "-nodefaults",
          "-no-reboot",
          "-m",
          "64"};
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  std::string only, baseline;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only") only = argv[i + 1];
    if (std::string(argv[i]) == "--baseline") baseline = argv[i + 1];
  }
  const HostInfo host = probe_host();
  const std::string qemu = test::find_in_path("qemu-system-x86_64");
  const fs::path trace = fs::temp_directory_path() / fmt::format("bench-run-path.{}.rtrace", getpid());
  Images images;
  fmt::print("bench_run_path: host KVM flavour {}, {} rounds, load average at start {}\n", flavour_name(host.flavour),
             rounds, load_average());

  // 1. The I/O exit round trip.
  if (only.empty() || only == "io") {
    constexpr uint32_t kLo = 1000, kHi = 21000;
    auto io = [&](uint32_t n) { return images.get(fmt::format("io{}", n), [n] { return io_guest(n); }); };
    std::vector<Variant> vs;
    if (host.kvm_openable) {
      vs.push_back({"bare KVM loop", [&](uint32_t n) { return bare_run(io(n)); }});
      vs.push_back({"ringscope run", [&](uint32_t n) { return time_command(ringscope_run(io(n), trace), 0); }});
      if (!baseline.empty())
        vs.push_back(
            {"baseline run", [&](uint32_t n) { return time_command(ringscope_run(io(n), trace, {}, baseline), 0); }});
      if (!qemu.empty())
        vs.push_back({"QEMU + KVM", [&](uint32_t n) { return time_command(qemu_run(qemu, "kvm", io(n)), 1); }});
    }
    fmt::print("\nI/O exit round trip: µs per exit, slope between {} and {} exits\n", kLo, kHi);
    if (vs.empty()) {
      fmt::print("  skipped: needs /dev/kvm (RINGSCOPE_NO_KVM set, or no KVM on this host)\n");
    } else {
      Slopes s = measure(vs, kLo, kHi, rounds);
      print_rows(vs, s, 1e6);
      fmt::print("  ringscope run / bare:       {}   (aim: at most 1.05)\n",
                 ratios(s, "ringscope run", "bare KVM loop"));
      if (!baseline.empty())
        fmt::print("  ringscope run / baseline:   {}\n", ratios(s, "ringscope run", "baseline run"));
      if (s.cpu.count("QEMU + KVM"))
        fmt::print("  ringscope run / QEMU + KVM: {}   (aim: at most 1.00)\n",
                   ratios(s, "ringscope run", "QEMU + KVM"));
      else
        fmt::print("  QEMU + KVM: not measured (qemu-system-x86_64 not installed, or it failed)\n");
    }
  }

  // 2. Emulation against QEMU's TCG on a ring-0 compute loop.
  if (only.empty() || only == "emulation") {
    constexpr uint32_t kLo = 1'000'000, kHi = 21'000'000;
    auto cg = [&](uint32_t n) { return images.get(fmt::format("c{}", n), [n] { return compute_guest(n); }); };
    std::vector<Variant> vs = {{"ringscope emulation", [&](uint32_t n) {
                                  return time_command(ringscope_run(cg(n), trace, {"--mode", "emulation"}), 0);
                                }}};
    if (!baseline.empty())
      vs.push_back({"baseline emulation", [&](uint32_t n) {
                      return time_command(ringscope_run(cg(n), trace, {"--mode", "emulation"}, baseline), 0);
                    }});
    if (!qemu.empty())
      vs.push_back({"QEMU TCG", [&](uint32_t n) { return time_command(qemu_run(qemu, "tcg", cg(n)), 1); }});
    fmt::print("\nring-0 compute loop: ns per 5-instruction iteration, slope between {} and {} iterations\n", kLo, kHi);
    Slopes s = measure(vs, kLo, kHi, rounds);
    print_rows(vs, s, 1e9);
    if (!baseline.empty())
      fmt::print("  speed, ringscope / baseline: {}\n", ratios(s, "baseline emulation", "ringscope emulation"));
    if (s.cpu.count("QEMU TCG"))
      fmt::print("  speed, ringscope / QEMU TCG: {}   (aim: at least 0.5)\n",
                 ratios(s, "QEMU TCG", "ringscope emulation"));
    else
      fmt::print("  QEMU TCG: not measured (qemu-system-x86_64 not installed, or it failed)\n");
  }

  // 3. The exit round trip with 1, 2 and 4 vCPUs, each running the loop.
  if (only.empty() || only == "vcpus") {
    constexpr uint32_t kLo = 1000, kHi = 11000;
    fmt::print(
        "\nI/O exit round trip with every vCPU in its own `out` loop at once: µs per loop iteration (each "
        "vCPU one exit), slope between {} and {}; host CPUs: {} (with more vCPUs than free host CPUs the vCPUs "
        "take turns: wall time grows, CPU time per exit is what each exit costs)\n",
        kLo, kHi, std::thread::hardware_concurrency());
    if (!host.kvm_openable) {
      fmt::print("  skipped: needs /dev/kvm (RINGSCOPE_NO_KVM set, or no KVM on this host)\n");
    } else {
      std::vector<Variant> vs;
      for (uint32_t n : {1u, 2u, 4u}) {
        auto sg = [&images, n](uint32_t outs) {
          return images.get(fmt::format("s{}-{}", n, outs), [=] { return smp_guest(outs, n); });
        };
        vs.push_back({fmt::format("ringscope, {} vCPU", n), [&, n, sg](uint32_t outs) {
                        return time_command(
                            ringscope_run(sg(outs), trace, {"--vcpus", std::to_string(n), "--irqchip", "kernel"}), 0);
                      }});
        if (!qemu.empty())
          vs.push_back({fmt::format("QEMU + KVM, {} vCPU", n),
                        [&, n, sg](uint32_t outs) { return time_command(qemu_run(qemu, "kvm", sg(outs), n), 1); }});
      }
      Slopes s = measure(vs, kLo, kHi, rounds);
      print_rows(vs, s, 1e6);
      for (uint32_t n : {2u, 4u}) {
        fmt::print("  ringscope, {} vCPUs / 1 vCPU per iteration: {}; per exit (÷ {}): CPU {:.3f}\n", n,
                   ratios(s, fmt::format("ringscope, {} vCPU", n), "ringscope, 1 vCPU"), n,
                   paired_ratio(s.cpu[fmt::format("ringscope, {} vCPU", n)], s.cpu["ringscope, 1 vCPU"]) / n);
      }
      if (s.cpu.count("QEMU + KVM, 1 vCPU"))
        for (uint32_t n : {1u, 2u, 4u})
          fmt::print("  ringscope / QEMU + KVM, {} vCPU: {}\n", n,
                     ratios(s, fmt::format("ringscope, {} vCPU", n), fmt::format("QEMU + KVM, {} vCPU", n)));
    }
  }
  fmt::print("\nload average at end {}\n", load_average());
  fs::remove(trace);
  return 0;
}
