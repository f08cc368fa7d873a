// backends.h — which backend runs which mode. One table, read by `run`,
// `demo`, `doctor` and (later) `compare`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/machine.h"
#include "ringscope/result.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

// Which build of the teaching kernel a mode boots (scenarios/CMakeLists.txt):
// the native one, the PV one (hypercalls and virtio), or the native one with
// virtio drivers and no hypercalls (AWS's "HVM with PV drivers").
enum class GuestKernel : uint8_t { Native, Pv, HvmPv };

struct ModeInfo {
  std::string_view name;         // "full-virt"
  std::string_view description;  // one line
  bool needs_kvm;                // needs /dev/kvm
  bool available;                // built in this version
  DeviceSet devices;             // the machine's devices by default (and the kernel build: virtio -> PV)
  bool devices_choosable;        // `run --devices` may pick the other set (emulation: docs/modes.md)
  IrqChip irqchip;               // where the PIC and PIT live by default (docs/interrupts.md)
  bool irqchip_choosable;        // `run --irqchip` may pick the other (the KVM modes)
  // Guest ring 0 runs under KVM: the host's KVM quirks (host.h kvm_refusal)
  // and several vCPUs apply. Not under bt, whose translator runs the kernel.
  bool kernel_under_kvm;
  // The kernel build it boots with its default devices; with virtio devices
  // a Native mode boots the PV build instead (emulation --devices virtio).
  GuestKernel kernel = GuestKernel::Native;
};
const std::vector<ModeInfo>& modes();
const ModeInfo* find_mode(std::string_view name);

// Why `mode` has no row in the table: a mode core knows (mode.h) whose
// backend this build lacks ("bt is not available in this build"), or an
// unknown name.
Error mode_not_in_table(std::string_view mode);

// The backend for a mode, or an error saying which modes exist / that this
// one is not built yet.
Result<std::unique_ptr<Backend>> make_backend(std::string_view mode);

// The devices a mode's machine has: legacy (UART, ATA) or virtio (plus the
// hypercall doorbell) for paravirt. `requested` ("", "legacy", "virtio":
// `run --devices`) overrides the mode's own set where the table allows.
DeviceSet devices_for_mode(std::string_view mode);
Result<DeviceSet> devices_for_mode(std::string_view mode, std::string_view requested);
std::string_view device_set_name(DeviceSet d);  // "legacy", "virtio"
// Where a mode's interrupt controllers live: `requested` ("", "vmm",
// "kernel": `run --irqchip`) overrides the table where it allows. Paravirt
// takes KVM's in-kernel irqchip by default and falls back to the VMM's own
// PIC (with `note` saying why) where a live probe finds the in-kernel path
// does not deliver, and at trace level full (`single_stepping`), where the
// VMM must place each interrupt between two steps itself.
Result<IrqChip> irqchip_for_mode(std::string_view mode, std::string_view requested, std::string* note = nullptr,
                                 bool single_stepping = false);
std::string_view irqchip_name(IrqChip c);  // "vmm", "kernel"

// The kernel a mode boots for a scenario: a machine with virtio devices
// boots the manifest's PV build (`kernel_pv`, docs/scenarios.md), every
// other its kernel. A scenario without a PV build is a Usage error that
// says so.
Result<std::filesystem::path> kernel_for_mode(std::string_view mode, const Scenario& s);
// The kernel build a mode boots with `devices`, and its file name in the
// build's guest directory ("kernel.elf", "kernel-pv.elf", "kernel-hvmpv.elf").
GuestKernel guest_kernel_for(std::string_view mode, DeviceSet devices);
std::string_view guest_kernel_file(GuestKernel k);
// `run --io` ("", "vcpu", "offload"): offload needs a KVM mode with virtio
// devices and KVM's in-kernel irqchip (the irqfd that signals completion).
Result<IoPath> io_for_mode(std::string_view mode, std::string_view requested, DeviceSet devices, IrqChip irqchip);
std::string_view io_path_name(IoPath p);  // "vcpu", "offload
Result<std::filesystem::path> kernel_for_devices(DeviceSet devices, std::string_view mode, const Scenario& s);

}  // namespace ringscope::cli
