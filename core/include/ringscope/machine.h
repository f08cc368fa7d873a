// machine.h — one virtual PC: RAM, the device bus, and the boot state.
//
// Built once per run by Machine::create (Firecracker's builder): allocate
// RAM, load the kernel ELF, place boot modules and start_info, put the
// devices on the bus. A backend (KVM, Unicorn) then runs it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ringscope/boot.h"
#include "ringscope/bus.h"
#include "ringscope/devices/probe.h"
#include "ringscope/devices/uart16550.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope {

struct MachineConfig {
  uint64_t ram_bytes = 64ull << 20;
  std::filesystem::path kernel;
  std::vector<std::filesystem::path> modules;  // user programs, in order
  std::string cmdline;
  bool force_pvh = false;  // enter through the PVH 32-bit entry even if a 64-bit one exists
};

class Machine {
 public:
  static Result<std::unique_ptr<Machine>> create(const MachineConfig& config);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  GuestMemory& memory() { return memory_; }
  Bus& bus() { return bus_; }
  Uart16550& uart() { return uart_; }
  ProbeDevice& probe() { return probe_; }
  const BootState& boot() const { return boot_; }
  const ElfImage& kernel_image() const { return kernel_; }
  const MachineConfig& config() const { return config_; }

  // Lets every device flush what it buffers (output lines) at the end of a run.
  void finish_devices(DeviceContext& ctx);

 private:
  Machine() = default;
  MachineConfig config_;
  uint8_t* ram_ = nullptr;
  GuestMemory memory_;
  Bus bus_;
  Uart16550 uart_;
  ProbeDevice probe_;
  ElfImage kernel_;
  BootState boot_;
};

// Reads a whole file (bounded: guest images larger than `max` are refused).
Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path, uint64_t max = 256ull << 20);

}  // namespace ringscope
