// hostile_guest.cpp — assembles a hostile guest and runs it in one mode,
// writing its trace and reading it back (the suite checks both).
#include "hostile_guest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "emulation/emulation_backend.h"
#include "kvm/kvm_backend.h"
#include "ringscope/files.h"
#include "support/tiny_elf.h"

namespace ringscope::test {

const char* hostile_mode_name(HostileMode m) {
  switch (m) {
    case HostileMode::FullVirt: return "full-virt";
    case HostileMode::Paravirt: return "paravirt";
    case HostileMode::ParavirtVmmPic: return "paravirt/vmm-pic";
    case HostileMode::Emulation: return "emulation";
    case HostileMode::EmulationVirtio: return "emulation/virtio";
  }
  return "?";
}

bool hostile_mode_uses_kvm(HostileMode m) {
  return m == HostileMode::FullVirt || m == HostileMode::Paravirt || m == HostileMode::ParavirtVmmPic;
}

namespace {
std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

std::optional<std::vector<uint8_t>> build_hostile_guest(const std::string& source, std::string* error) {
  auto prelude = read_regular_text(RINGSCOPE_HOSTILE_PRELUDE, kMaxTextBytes, "the hostile guest prelude");
  if (!prelude.ok()) {
    *error = prelude.error().message;
    return std::nullopt;
  }
  static int serial = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("ringscope-hostile-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
  std::filesystem::create_directories(dir);
  auto src = dir / "guest.s", bin = dir / "guest.bin", log = dir / "as.log";
  std::ofstream(src) << prelude.value() << "\n" << source << "\n";
  // A flat binary linked at 1 MiB: what the tiny kernel's PT_LOAD holds.
  std::string cmd = std::string("'") + RINGSCOPE_GUEST_CC +
                    "' -nostdlib -static -Wl,--oformat=binary -Wl,-Ttext=0x100000 -Wl,--build-id=none "
                    "-Wl,-e,_start -x assembler '" +
                    src.string() + "' -o '" + bin.string() + "' > '" + log.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::optional<std::vector<uint8_t>> out;
  if (rc != 0) {
    *error = "the assembler refused the guest: " + read_all(log);
  } else {
    std::string code = read_all(bin);
    TinyKernel k;
    k.code.assign(code.begin(), code.end());
    k.entry64 = true;
    k.memsz = std::max<uint64_t>(0x10000, code.size());
    out = make_tiny_kernel(k);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

std::optional<HostileRun> run_hostile_guest(const std::vector<uint8_t>& elf, HostileMode mode, const RunLimits& limits,
                                            const std::string& disk) {
  auto path = write_temp_file("hostile-kernel", elf);
  MachineConfig config;
  config.kernel = path;
  config.disk_image = disk;
  bool virtio =
      mode == HostileMode::Paravirt || mode == HostileMode::ParavirtVmmPic || mode == HostileMode::EmulationVirtio;
  config.devices = virtio ? DeviceSet::Virtio : DeviceSet::Legacy;
  config.irqchip = mode == HostileMode::Paravirt ? IrqChip::Kernel : IrqChip::Vmm;
  auto machine = Machine::create(config);
  std::filesystem::remove(path);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return std::nullopt;

  TraceHeader header;
  header.scenario = "hostile";
  header.mode = hostile_mode_name(mode);
  header.level = "exits";
  auto writer = TraceWriter::create_in_memory(header);
  RunOptions options;
  options.limits = limits;
  Result<RunResult> r = make_error(ErrorKind::Internal, "not run");
  if (hostile_mode_uses_kvm(mode)) {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), *writer, options);
  } else {
    emulation::EmulationBackend backend;
    r = backend.run(*machine.value(), *writer, options);
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return std::nullopt;
  HostileRun run;
  run.result = r.value();
  run.console = machine.value()->console_text();
  Status closed = writer->close();
  EXPECT_TRUE(closed.ok()) << (closed.ok() ? "" : closed.error().message);
  run.trace_bytes = writer->memory_bytes().size();
  auto t = read_trace_bytes(writer->memory_bytes());
  if (t.ok()) {
    run.trace = std::move(t).value();
    for (const auto& e : run.trace.events)
      if (e.kind == EventKind::Device) run.device_texts.emplace_back(e.reg);
  } else {
    run.trace_error = t.error().message;
  }
  return run;
}

}  // namespace ringscope::test
