// session.h — one guest run from the command line's point of view: resolve
// what to run, check the host can run it, build the machine, record the
// trace, run, and say how it went. Used by `run` and `demo`.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/machine.h"
#include "ringscope/result.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

struct SessionRequest {
  std::string target;                          // scenario name or directory ("" with image)
  std::filesystem::path image;                 // --image: a PVH kernel ELF
  std::vector<std::filesystem::path> modules;  // --module (with --image)
  std::string append;                          // --append: kernel command line (with --image)
  // --program: user programs for the built-in kernel (its PV build on a
  // machine with virtio devices), run one after the other.
  std::vector<std::filesystem::path> programs;
  std::map<std::string, std::string> params;  // --param k=v
  std::string mode = "full-virt";
  std::string devices;               // "", "legacy", "virtio": `run --devices` (docs/modes.md)
  std::string irqchip;               // "", "vmm", "kernel": `run --irqchip` (docs/interrupts.md)
  std::string io;                    // "", "vcpu", "offload": `run --io` (docs/modes.md, "Offloaded I/O")
  std::vector<int> vcpu_affinity;    // `run --vcpu-affinity`: host CPUs for every vCPU thread (empty: any)
  int vcpus = 0;                     // `run --vcpus`, 1..8; 0: the scenario's own (scenario.json "vcpus"), else 1
  std::filesystem::path trace_path;  // default: <name>.<mode>.rtrace
  RunOptions options;
  bool echo_console = true;  // guest console to stdout as it runs
  bool force_pvh = false;
  uint64_t ram_mib = 64;
  // --disk: the machine's disk (ATA or virtio-blk) in this raw image file,
  // created with disk_bytes if missing; empty: an unnamed scratch file.
  std::filesystem::path disk_image;
  std::optional<uint64_t> disk_bytes;           // --disk-size; default kDefaultDiskBytes for a new image
  DiskCache disk_cache = DiskCache::Writeback;  // --disk-cache (disk_image.h)
  bool disk_cache_drop = false;                 // --disk-cache-drop
  // --input FILE / --input-text STRING: what the guest's console receives
  // (the UART's RBR, virtio-console's receive queue); empty: end of file.
  std::string console_input;
  // --qmp unix:PATH: a QMP server for the run (docs/qmp.md); --qmp-wait:
  // the guest starts paused until a client sends cont.
  std::string qmp;
  bool qmp_wait = false;
  // --balloon: a virtio-balloon (paravirt machines); --balloon-target MiB:
  // the guest's target size, handed over when the guest ends the marker
  // phase --balloon-after names (a label prefix; default "boot").
  bool balloon = false;
  uint64_t balloon_target_mib = 0;
  std::string balloon_after;
};

inline constexpr uint64_t kMaxConsoleInput = 1ull << 20;

inline constexpr uint64_t kDefaultDiskBytes = 1ull << 20;

struct SessionOutcome {
  std::string name;  // scenario name (or image stem)
  std::optional<Scenario> scenario;
  RunResult result;
  std::filesystem::path trace_path;
  uint64_t events = 0;
  uint64_t trace_bytes = 0;
  std::string console;  // everything the guest printed
  IrqChip irqchip = IrqChip::Vmm;
  std::string irqchip_note;  // why the mode's default irqchip was not used, if it was not
  IoPath io = IoPath::Vcpu;  // where virtio notifies were to be served (result.note: if KVM refused)
  std::string vcpu_note;     // how several vCPUs run (emulation: round-robin turns)
  bool status_as_expected = true;
  int expected_status = 0;
  std::optional<std::string> expected_output;
  // The disk image, when --disk named one.
  std::filesystem::path disk_image;
  bool disk_created = false;
  uint64_t disk_sectors = 0, disk_sectors_read = 0, disk_sectors_written = 0;
  uint32_t resets = 0;  // QMP system_reset: how many times the machine booted again
};

Result<SessionOutcome> run_session(const SessionRequest& request);

// Parses a disk size: a number of bytes with an optional K, M or G
// (powers of 1024), a whole number of 512-byte sectors, 512 B..1 TiB.
Result<uint64_t> parse_disk_size(const std::string& text);

// Parses "k=v" strings into a map; Usage error on a malformed one.
Result<std::map<std::string, std::string>> parse_params(const std::vector<std::string>& kv);

}  // namespace ringscope::cli
