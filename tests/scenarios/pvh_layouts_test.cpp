// pvh_layouts_test.cpp — a third party's PVH kernel, linked the ways real
// linkers link it, boots in every mode and does exactly what it does under
// QEMU.
//
// The guest (tests/guests/pvh/guest.s) is assembled and linked here, at
// test time, with the host's GNU as and GNU ld (default layout, -N,
// -z separate-code) and LLVM's ld.lld (default layout). GNU ld's default
// puts a read-only segment holding the ELF headers at 0xff000, below the
// 1 MiB the kernel is linked at, and an orphan note segment at 4 MiB;
// ld.lld puts its header segment at 2 MiB, above .text. Each image then
// runs under QEMU's TCG (-kernel), and under ringscope in full-virt,
// paravirt and emulation: the same console bytes, the same exit status,
// and the same device accesses in the same order (QEMU's from its
// memory_region_ops trace, ringscope's from the trace's VM exits).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/recording_sink.h"
#include "support/qemu.h"

namespace fs = std::filesystem;

namespace ringscope {
namespace {

using test::DeviceAccess;

constexpr const char* kExpectedConsole = "pvh: hello from a third-party guest\n";
constexpr int kExpectedStatus = 42;  // guest.s: EXIT_STATUS
constexpr int kQemuTimeoutSeconds = 60;

struct Layout {
  std::string name;
  std::string linker;  // "ld" or "ld.lld"
  std::vector<std::string> flags;
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {"gnu_default", "ld", {"-m", "elf_x86_64", "-z", "max-page-size=4096", "-Ttext=0x100000"}},
      {"gnu_N", "ld", {"-m", "elf_x86_64", "-N", "-Ttext=0x100000"}},
      {"gnu_separate_code",
       "ld",
       {"-m", "elf_x86_64", "-z", "max-page-size=4096", "-z", "separate-code", "-Ttext=0x100000"}},
      {"lld_default", "ld.lld", {"-m", "elf_x86_64", "-z", "max-page-size=4096", "-Ttext=0x100000"}},
  };
  return all;
}

// Where the test builds and keeps its images, one per layout.
fs::path work_dir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("rs-pvh-layouts-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// The images and QEMU's logs go when the test program ends.
class RemoveWorkDir : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(work_dir(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemoveWorkDir = ::testing::AddGlobalTestEnvironment(new RemoveWorkDir);

// Assembles the guest once, links it for `layout`; "" and a reason on failure.
struct Built {
  fs::path image;
  std::string skip;   // a host tool is missing: skip, with this reason
  std::string error;  // the build failed
};

Built build_image(const Layout& layout) {
  static std::map<std::string, Built> cache;
  if (auto it = cache.find(layout.name); it != cache.end()) return it->second;
  Built b;
  std::string as = test::find_in_path("as"), linker = test::find_in_path(layout.linker);
  fs::path object = work_dir() / "guest.o", log = work_dir() / (layout.name + ".log");
  if (as.empty()) {
    b.skip = "GNU as is not installed (Debian package binutils, part of build-essential; scripts/setup.sh installs it)";
  } else if (linker.empty()) {
    b.skip = layout.linker + " is not installed (Debian package " + (layout.linker == "ld" ? "binutils" : "lld") +
             "; scripts/setup.sh installs it)";
  } else {
    if (!fs::exists(object)) {
      int st = test::spawn({as, "--64", "-o", object.string(), RINGSCOPE_PVH_GUEST_SOURCE}, log);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) b.error = "as failed: " + test::slurp(log);
    }
    if (b.error.empty()) {
      b.image = work_dir() / ("guest-" + layout.name + ".elf");
      std::vector<std::string> args = {linker};
      args.insert(args.end(), layout.flags.begin(), layout.flags.end());
      args.insert(args.end(), {"-e", "pvh_start", "-o", b.image.string(), object.string()});
      int st = test::spawn(args, log);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) b.error = layout.linker + " failed: " + test::slurp(log);
    }
  }
  cache[layout.name] = b;
  return b;
}

#define BUILD_OR_SKIP(layout, built)                                                   \
  Built built = build_image(layout);                                                   \
  if (!built.skip.empty()) {                                                           \
    std::printf("[ pvh ] %s: skipped: %s\n", layout.name.c_str(), built.skip.c_str()); \
    GTEST_SKIP() << built.skip;                                                        \
  }                                                                                    \
  ASSERT_TRUE(built.error.empty()) << built.error

// ---- QEMU, the reference --------------------------------------------------

struct QemuResult {
  std::string skip;
  int exit_code = -1;
  std::string console, log;
  std::vector<DeviceAccess> accesses;
};

const QemuResult& run_qemu(const Layout& layout, const fs::path& image) {
  static std::map<std::string, QemuResult> cache;
  if (auto it = cache.find(layout.name); it != cache.end()) return it->second;
  QemuResult& r = cache[layout.name];
  std::string qemu = test::find_in_path("qemu-system-x86_64"), timeout = test::find_in_path("timeout");
  if (qemu.empty() || timeout.empty()) {
    r.skip =
        "qemu-system-x86_64 or timeout is not installed (Debian packages qemu-system-x86, coreutils; "
        "scripts/setup.sh installs them)";
    return r;
  }
  fs::path serial = work_dir() / (layout.name + ".serial"), trace = work_dir() / (layout.name + ".qemu-trace"),
           log = work_dir() / (layout.name + ".qemu-log");
  int st = test::spawn({timeout,
                        "--kill-after=5",
                        std::to_string(kQemuTimeoutSeconds),
                        qemu,
                        "-accel",
                        "tcg",
                        "-kernel",
                        image.string(),
                        "-device",
                        "isa-debug-exit,iobase=0xf4,iosize=0x04",
                        "-serial",
                        "file:" + serial.string(),
                        "-display",
                        "none",
                        "-nodefaults",
                        "-no-reboot",
                        "-m",
                        "64",
                        "-trace",
                        "memory_region_ops_*",
                        "-D",
                        trace.string()},
                       log);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.console = test::slurp(serial);
  r.log = test::slurp(log);
  r.accesses = test::qemu_guest_accesses(test::slurp(trace));
  return r;
}

// ---- ringscope --------------------------------------------------------------

enum class Mode { FullVirt, Paravirt, Emulation };
const char* mode_name(Mode m) {
  return m == Mode::FullVirt ? "full_virt" : m == Mode::Paravirt ? "paravirt" : "emulation";
}

struct RingscopeResult {
  RunResult result;
  std::string console;
  std::vector<DeviceAccess> accesses;
  std::vector<GpaRange> vmm_blocks;
  ElfImage image;
};

// Boots `image` as `ringscope run --image IMAGE --mode M` does.
std::unique_ptr<RingscopeResult> run_ringscope(const fs::path& image, Mode mode) {
  MachineConfig config;
  config.kernel = image;
  config.devices = mode == Mode::Paravirt ? DeviceSet::Virtio : DeviceSet::Legacy;
  config.irqchip = mode == Mode::Paravirt ? IrqChip::Kernel : IrqChip::Vmm;
  auto machine = Machine::create(config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return nullptr;
  RecordingSink sink;
  RunOptions options;
  options.level = TraceLevel::Exits;
  options.limits.wall_ms = 60000;
  Result<RunResult> r = RunResult{};
  if (mode == Mode::Emulation) {
    emulation::EmulationBackend backend;
    r = backend.run(*machine.value(), sink, options);
  } else {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), sink, options);
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  auto out = std::make_unique<RingscopeResult>();
  out->result = r.value();
  out->console = machine.value()->console_text();
  out->image = machine.value()->kernel_image();
  const BootState& boot = machine.value()->boot();
  out->vmm_blocks.push_back({boot.layout.info, boot.layout.info + boot_layout::kInfoBytes, "boot information"});
  if (boot.layout.tables)
    out->vmm_blocks.push_back({boot.layout.tables, boot.layout.tables + boot_layout::kTablesBytes, "page tables"});
  // The VM exits (KVM's, or the VT-x model's under emulation) are the
  // guest's device accesses: port I/O (30) and MMIO (48).
  for (const Event& e : sink.events()) {
    if (e.kind != EventKind::VmExit) continue;
    if (e.reason == 30)
      test::add_access(out->accesses, false, e.direction == Direction::Out, e.port, e.value, e.size);
    else if (e.reason == 48)
      test::add_access(out->accesses, true, e.direction == Direction::Write, e.gpa, e.value,
                       static_cast<uint8_t>(e.length));
  }
  return out;
}

std::string list(const std::vector<DeviceAccess>& v) {
  std::string s;
  for (const auto& a : v) s += "  " + test::to_string(a) + "\n";
  return s;
}

// ---- the tests --------------------------------------------------------------

class PvhLayout : public ::testing::TestWithParam<Layout> {};

// The images really have the layouts this test is about.
TEST_P(PvhLayout, ImageHasTheLinkersLayout) {
  const Layout& layout = GetParam();
  BUILD_OR_SKIP(layout, built);
  auto bytes = read_file_bytes(built.image);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto img = inspect_elf(*bytes, built.image.string());
  ASSERT_TRUE(img.ok()) << img.error().message;
  ASSERT_TRUE(img->pvh_entry.has_value());
  EXPECT_FALSE(img->entry64.has_value()) << "a third party's kernel has only the PVH note";
  std::string segs;
  for (const auto& s : img->segments) segs += s.describe() + " ";
  std::printf("[ pvh ] %s: %s\n", layout.name.c_str(), segs.c_str());
  if (layout.name == "gnu_default" || layout.name == "gnu_separate_code") {
    EXPECT_LT(img->lowest_paddr, 0x100000u) << "GNU ld's header segment below 1 MiB: " << segs;
  }
  if (layout.name == "lld_default") {
    EXPECT_GE(img->segments.size(), 3u) << segs;
  }
}

TEST_P(PvhLayout, QemuTcgBootsIt) {
  const Layout& layout = GetParam();
  BUILD_OR_SKIP(layout, built);
  const QemuResult& q = run_qemu(layout, built.image);
  if (!q.skip.empty()) GTEST_SKIP() << q.skip;
  std::printf("[ pvh ] %s under QEMU TCG: exit code %d, %zu device accesses\n", layout.name.c_str(), q.exit_code,
              q.accesses.size());
  ASSERT_NE(q.exit_code, 124) << "QEMU timed out; log:\n" << q.log;
  EXPECT_EQ(q.exit_code, (kExpectedStatus << 1) | 1) << q.log;
  EXPECT_EQ(q.console, kExpectedConsole);
  EXPECT_FALSE(q.accesses.empty()) << "no guest accesses found in QEMU's trace";
}

class PvhLayoutMode : public ::testing::TestWithParam<std::tuple<Layout, Mode>> {};

TEST_P(PvhLayoutMode, BootsAndMatchesQemu) {
  const auto& [layout, mode] = GetParam();
  if (mode != Mode::Emulation) {
    HostInfo host = probe_host();
    if (!host.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host.kvm_open_error;
  }
  BUILD_OR_SKIP(layout, built);
  auto run = run_ringscope(built.image, mode);
  ASSERT_TRUE(run);
  std::printf("[ pvh ] %s in %s: %s, %zu device accesses\n", layout.name.c_str(), mode_name(mode),
              run->result.message.c_str(), run->accesses.size());
  EXPECT_EQ(run->result.end, RunEndReason::GuestExit) << run->result.message;
  EXPECT_EQ(run->result.guest_status, kExpectedStatus) << run->result.message;
  EXPECT_EQ(run->console, kExpectedConsole);
  for (const auto& blk : run->vmm_blocks)
    for (const auto& seg : run->image.segments)
      EXPECT_FALSE(blk.overlaps(seg)) << blk.describe() << " overlaps " << seg.describe();

  const QemuResult& q = run_qemu(layout, built.image);
  if (!q.skip.empty()) GTEST_SKIP() << "console and status checked; no QEMU to compare accesses with: " << q.skip;
  EXPECT_EQ(run->console, q.console);
  EXPECT_EQ(run->accesses, q.accesses) << "ringscope:\n" << list(run->accesses) << "QEMU TCG:\n" << list(q.accesses);
}

std::string layout_name(const ::testing::TestParamInfo<Layout>& info) { return info.param.name; }
std::string layout_mode_name(const ::testing::TestParamInfo<std::tuple<Layout, Mode>>& info) {
  return std::get<0>(info.param).name + "_" + mode_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Linkers, PvhLayout, ::testing::ValuesIn(layouts()), layout_name);
INSTANTIATE_TEST_SUITE_P(Linkers, PvhLayoutMode,
                         ::testing::Combine(::testing::ValuesIn(layouts()),
                                            ::testing::Values(Mode::FullVirt, Mode::Paravirt, Mode::Emulation)),
                         layout_mode_name);

}  // namespace
}  // namespace ringscope
