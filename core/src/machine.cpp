// machine.cpp — assembling a virtual PC from a kernel image and modules.
#include "ringscope/machine.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace ringscope {

Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path, uint64_t max) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec)
    return make_error(ErrorKind::NoInput,
                      fmt::format("cannot read {}: {}; check the path (build the project first for built-in images)",
                                  path.string(), ec.message()));
  if (size > max)
    return make_error(ErrorKind::BadData, fmt::format("{} is {} bytes; the limit is {}", path.string(), size, max));
  std::vector<uint8_t> bytes(size);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    return make_error(ErrorKind::NoInput, fmt::format("cannot read {}", path.string()));
  return bytes;
}

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config) {
  if (config.ram_bytes < (4ull << 20) || config.ram_bytes > (4ull << 30) || config.ram_bytes % 4096)
    return make_error(ErrorKind::Usage, "guest RAM must be a multiple of 4 KiB between 4 MiB and 4 GiB");
  std::unique_ptr<Machine> m(new Machine());
  m->config_ = config;
  // MAP_NORESERVE: untouched guest pages cost the host nothing.
  void* ram = mmap(nullptr, config.ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED)
    return make_error(ErrorKind::Internal,
                      fmt::format("cannot map {} MiB of guest RAM: {}", config.ram_bytes >> 20, strerror(errno)));
  m->ram_ = static_cast<uint8_t*>(ram);
  m->memory_ = GuestMemory(m->ram_, config.ram_bytes);

  TRY_ASSIGN(auto kernel_bytes, read_file_bytes(config.kernel));
  TRY_ASSIGN(m->kernel_, load_elf(kernel_bytes, m->memory_, config.kernel.string()));
  std::vector<BootModule> modules;
  for (const auto& p : config.modules) {
    TRY_ASSIGN(auto bytes, read_file_bytes(p));
    modules.push_back({p.stem().string(), std::move(bytes)});
  }
  TRY_ASSIGN(m->boot_, prepare_boot(m->memory_, m->kernel_, modules, config.cmdline, config.force_pvh));

  TRY(m->bus_.add(AddressSpace::Pio, kCom1Base, kUartWindow, &m->uart_));
  TRY(m->bus_.add(AddressSpace::Pio, kProbeBase, kProbeWindow, &m->probe_));
  return m;
}

Machine::~Machine() {
  if (ram_) munmap(ram_, config_.ram_bytes);
}

void Machine::finish_devices(DeviceContext& ctx) {
  for (const auto& r : bus_.ranges()) r.device->finish(ctx);
}

}  // namespace ringscope
