// backends.cpp — the mode table and the backend factory.
#include "backends.h"

#include <fmt/format.h>

#include "bt/bt_backend.h"
#include "emulation/emulation_backend.h"
#include "kvm/irqchip_probe.h"
#include "kvm/kvm_backend.h"
#include "ringscope/i18n.h"
#include "ringscope/mode.h"

namespace ringscope::cli {

const std::vector<ModeInfo>& modes() {
  static const std::vector<ModeInfo> table = {
      {"full-virt", "KVM runs the unmodified guest; devices are emulated, every device access is a VM exit", true, true,
       DeviceSet::Legacy, false, IrqChip::Vmm, true, true},
      // Interrupts through KVM's in-kernel irqchip and irqfds, as kvmtool and
      // Firecracker run virtio guests.
      {"paravirt", "KVM runs a guest that knows it is virtualised: virtio devices and hypercalls", true, true,
       DeviceSet::Virtio, false, IrqChip::Kernel, true, true, GuestKernel::Pv},
      // --devices virtio: the PV kernel, virtio and the doorbell, in software
      // (docs/modes.md): the paravirt guest with nothing underneath but Unicorn.
      {"emulation", "Unicorn runs every instruction in software, like QEMU without KVM", false, true, DeviceSet::Legacy,
       true, IrqChip::Vmm, false, false},
      // Binary translation (docs/bt.md): user code directly under KVM, kernel
      // code in Unicorn's translator; the monitor delivers every interrupt.
      {"bt", "Binary translation: user code runs directly under KVM, kernel code in a translator (VMware before VT-x)",
       true, true, DeviceSet::Legacy, false, IrqChip::Vmm, false, false},
      // AWS's HVM AMIs with PV drivers: hardware-assisted like full-virt, an
      // unmodified kernel but for its virtio drivers, no hypercalls.
      {"hvm-pv", "KVM runs the native kernel with virtio drivers and no hypercalls (an HVM image with PV drivers)",
       true, true, DeviceSet::Virtio, false, IrqChip::Kernel, true, true, GuestKernel::HvmPv},
  };
  return table;
}

const ModeInfo* find_mode(std::string_view name) {
  for (const auto& m : modes())
    if (m.name == name) return &m;
  return nullptr;
}

Error mode_not_in_table(std::string_view mode) {
  // A mode core knows (mode.h) whose backend this build has not registered.
  if (mode_from_name(mode))
    return make_error(ErrorKind::Unavailable,
                      trf("{} is not available in this build; run --mode full-virt, paravirt or emulation", mode));
  return make_error(ErrorKind::Usage,
                    trf("unknown mode '{}'; the modes are full-virt, paravirt, emulation and bt", mode));
}

Result<std::unique_ptr<Backend>> make_backend(std::string_view mode) {
  const ModeInfo* m = find_mode(mode);
  if (!m) return mode_not_in_table(mode);
  if (!m->available)
    return make_error(ErrorKind::Unavailable,
                      trf("mode '{}' is not built yet; this version runs --mode full-virt (KVM)", mode));
  if (mode == "full-virt") return std::unique_ptr<Backend>(std::make_unique<kvm::KvmBackend>());
  if (mode == "emulation") return std::unique_ptr<Backend>(std::make_unique<emulation::EmulationBackend>());
  if (mode == "bt") return std::unique_ptr<Backend>(std::make_unique<bt::BtBackend>());
  // paravirt: the same KVM backend; what differs is the machine (virtio
  // devices, the doorbell) and the kernel build (PV), see below.
  if (mode == "paravirt" || mode == "hvm-pv") return std::unique_ptr<Backend>(std::make_unique<kvm::KvmBackend>());
  return make_error(ErrorKind::Internal, trf("mode '{}' has no backend", mode));
}

DeviceSet devices_for_mode(std::string_view mode) {
  const ModeInfo* m = find_mode(mode);
  return m ? m->devices : DeviceSet::Legacy;
}

std::string_view device_set_name(DeviceSet d) { return d == DeviceSet::Virtio ? "virtio" : "legacy"; }

Result<DeviceSet> devices_for_mode(std::string_view mode, std::string_view requested) {
  const ModeInfo* m = find_mode(mode);
  if (!m) return mode_not_in_table(mode);
  if (requested.empty()) return m->devices;
  DeviceSet want;
  if (requested == "legacy")
    want = DeviceSet::Legacy;
  else if (requested == "virtio")
    want = DeviceSet::Virtio;
  else
    return make_error(ErrorKind::Usage, trf("--devices '{}': give legacy (16550 UART, ATA disk) or virtio "
                                            "(virtio-console, virtio-blk, the hypercall doorbell)",
                                            requested));
  if (want != m->devices && !m->devices_choosable)
    return make_error(
        ErrorKind::Usage,
        trf("--mode {} always has {} devices; for KVM with {} devices use --mode {}, and "
            "--mode emulation takes either (docs/modes.md)",
            mode, device_set_name(m->devices), requested, want == DeviceSet::Virtio ? "paravirt" : "full-virt"));
  return want;
}

std::string_view irqchip_name(IrqChip c) { return c == IrqChip::Kernel ? "kernel" : "vmm"; }

Result<IrqChip> irqchip_for_mode(std::string_view mode, std::string_view requested, std::string* note,
                                 bool single_stepping) {
  const ModeInfo* m = find_mode(mode);
  if (!m) return mode_not_in_table(mode);
  IrqChip want = m->irqchip;
  if (requested == "vmm")
    want = IrqChip::Vmm;
  else if (requested == "kernel")
    want = IrqChip::Kernel;
  else if (!requested.empty())
    return make_error(ErrorKind::Usage, trf("--irqchip '{}': give vmm (ringscope's own 8259A PIC and 8254 PIT, "
                                            "every access an exit) or kernel (KVM's in-kernel irqchip, "
                                            "device interrupts through irqfds)",
                                            requested));
  if (want != m->irqchip && !m->irqchip_choosable)
    return make_error(ErrorKind::Usage,
                      trf("--mode {} has no in-kernel irqchip: Unicorn is not KVM, its interrupts go through "
                          "ringscope's own PIC model; --irqchip kernel applies to full-virt and paravirt",
                          mode));
  if (want == IrqChip::Kernel && requested.empty() && single_stepping) {
    // Single-stepping, KVM's irqchip would deliver an interrupt wherever it
    // likes; a PVM host even delivers one between `sti` and `hlt`, after
    // which the guest sleeps forever. ringscope's own PIC places each one.
    if (note)
      *note =
          "at --level full interrupts go through ringscope's own PIC (--irqchip vmm), so the VMM places each one "
          "between two single steps";
    return IrqChip::Vmm;
  }
  if (want == IrqChip::Kernel && requested.empty()) {
    // Asked of a live guest once per process (~20 ms, mostly tearing the
    // probe's VM down): a capability bit does not prove delivery works.
    static const kvm::IrqchipProbe probe = kvm::probe_in_kernel_irqchip();
    if (!probe.works) {
      if (note)
        *note =
            trf("KVM's in-kernel irqchip did not deliver an interrupt on this host ({}), so interrupts go "
                "through ringscope's own PIC (--irqchip vmm)",
                probe.detail);
      return IrqChip::Vmm;
    }
  }
  return want;
}

Result<std::filesystem::path> kernel_for_mode(std::string_view mode, const Scenario& s) {
  return kernel_for_devices(devices_for_mode(mode), mode, s);
}

GuestKernel guest_kernel_for(std::string_view mode, DeviceSet devices) {
  const ModeInfo* m = find_mode(mode);
  if (m && m->kernel == GuestKernel::HvmPv) return GuestKernel::HvmPv;
  return devices == DeviceSet::Virtio ? GuestKernel::Pv : GuestKernel::Native;
}

std::string_view guest_kernel_file(GuestKernel k) {
  switch (k) {
    case GuestKernel::Pv: return "kernel-pv.elf";
    case GuestKernel::HvmPv: return "kernel-hvmpv.elf";
    case GuestKernel::Native: break;
  }
  return "kernel.elf";
}

std::string_view io_path_name(IoPath p) { return p == IoPath::Offload ? "offload" : "vcpu"; }

Result<IoPath> io_for_mode(std::string_view mode, std::string_view requested, DeviceSet devices, IrqChip irqchip) {
  const ModeInfo* m = find_mode(mode);
  if (!m) return mode_not_in_table(mode);
  if (requested.empty() || requested == "vcpu") return IoPath::Vcpu;
  if (requested != "offload")
    return make_error(ErrorKind::Usage,
                      trf("--io '{}': give vcpu (the vCPU's thread serves each virtio notify during its exit) or "
                          "offload (a device thread serves the queues: KVM_IOEVENTFD doorbells, irqfd completions)",
                          requested));
  if (!m->needs_kvm || !m->kernel_under_kvm || devices != DeviceSet::Virtio)
    return make_error(ErrorKind::Usage,
                      trf("--io offload applies to KVM modes with virtio devices (hvm-pv, paravirt), not --mode {}: "
                          "it hands virtio doorbells to KVM (KVM_IOEVENTFD)",
                          mode));
  if (irqchip != IrqChip::Kernel)
    return make_error(ErrorKind::Usage,
                      tr("--io offload needs KVM's in-kernel irqchip: the device thread signals completion through "
                         "an irqfd; leave out --irqchip vmm (or use --io vcpu)"));
  return IoPath::Offload;
}

Result<std::filesystem::path> kernel_for_devices(DeviceSet devices, std::string_view mode, const Scenario& s) {
  if (guest_kernel_for(mode, devices) == GuestKernel::HvmPv) {
    if (s.kernel_hvm_pv.empty())
      return make_error(ErrorKind::Usage,
                        trf("scenario '{}' has no HVM kernel with PV drivers: its manifest names a kernel of its "
                            "own ({}) and no \"kernel_hvm_pv\", and --mode hvm-pv boots a kernel built with "
                            "virtio drivers. Run it with --mode full-virt, or add \"kernel_hvm_pv\": "
                            "\"my-kernel-hvmpv.elf\" to {} (docs/scenarios.md)",
                            s.name, s.kernel.filename().string(), (s.dir / "scenario.json").string()));
    return s.kernel_hvm_pv;
  }
  if (devices != DeviceSet::Virtio) return s.kernel;
  if (s.kernel_pv.empty())
    return make_error(ErrorKind::Usage,
                      trf("scenario '{}' has no PV kernel: its manifest names a kernel of its own ({}) and "
                          "no \"kernel_pv\", and {} boots a kernel built for virtio and "
                          "hypercalls. Run it with --mode full-virt or --mode emulation, or add "
                          "\"kernel_pv\": \"my-kernel-pv.elf\" to {} (docs/scenarios.md)",
                          s.name, s.kernel.filename().string(),
                          mode == "paravirt" ? "--mode paravirt" : "a machine with virtio devices",
                          (s.dir / "scenario.json").string()));
  return s.kernel_pv;
}

}  // namespace ringscope::cli
