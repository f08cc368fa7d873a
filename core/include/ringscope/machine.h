// machine.h — one virtual PC: RAM, the device bus, and the boot state.
//
// Built once per run by Machine::create (Firecracker's builder): allocate
// RAM, load the kernel ELF, place boot modules and start_info, put the
// devices on the bus. A backend (KVM, Unicorn) then runs it.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringscope/boot.h"
#include "ringscope/bus.h"
#include "ringscope/devices/ata.h"
#include "ringscope/devices/disk_image.h"
#include "ringscope/devices/hypercall.h"
#include "ringscope/devices/i8254.h"
#include "ringscope/devices/i8259.h"
#include "ringscope/devices/lapic.h"
#include "ringscope/devices/probe.h"
#include "ringscope/devices/rtc.h"
#include "ringscope/devices/uart16550.h"
#include "ringscope/devices/virtio_balloon.h"
#include "ringscope/devices/virtio_blk.h"
#include "ringscope/devices/virtio_console.h"
#include "ringscope/guest_memory.h"
#include "ringscope/host_sampler.h"
#include "ringscope/result.h"

namespace ringscope {

// Which devices the machine has besides the UART, the RTC, the PIT, the PIC
// pair and the probe port (every machine has those).
//   Legacy: what an unmodified guest expects: the ATA PIO disk (full-virt, emulation).
//   Virtio: what a paravirtual guest uses: the hypercall doorbell and the
//           virtio-mmio console and block devices (paravirt).
enum class DeviceSet : uint8_t { Legacy, Virtio };

// Where the PC's interrupt controllers and timer live (docs/interrupts.md).
//   Vmm:    ringscope's own 8259A pair and 8254 PIT, on the bus like any
//           device: every access the guest makes is an exit, and the
//           backend injects the vector the PIC hands it.
//   Kernel: the hypervisor's own (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2):
//           the machine has no PIC or PIT on its bus, KVM answers those
//           ports without leaving the kernel, and the backend wires each
//           device's IRQ line to it (an irqfd per line). KVM backend only.
enum class IrqChip : uint8_t { Vmm, Kernel };

// Where a virtio notify is served (docs/modes.md, "Offloaded I/O").
//   Vcpu:    on the vCPU's thread, during the notify's exit (QEMU without
//            iothreads, kvmtool): the guest waits in the VMM meanwhile.
//   Offload: on a device thread. The doorbells are registered with
//            KVM_IOEVENTFD, so KVM turns a notify into an eventfd signal and
//            resumes the guest without leaving the kernel; the device thread
//            serves the queue and raises the completion through an irqfd
//            (vhost, and the idea behind AWS Nitro). KVM backend, virtio
//            devices and IrqChip::Kernel only.
enum class IoPath : uint8_t { Vcpu, Offload };

struct MachineConfig {
  uint64_t ram_bytes = 64ull << 20;
  std::filesystem::path kernel;
  std::vector<std::filesystem::path> modules;  // user programs, in order
  std::string cmdline;
  bool force_pvh = false;  // enter through the PVH 32-bit entry even if a 64-bit one exists
  DeviceSet devices = DeviceSet::Legacy;
  IrqChip irqchip = IrqChip::Vmm;
  IoPath io = IoPath::Vcpu;
  // How many CPUs the guest has (1..kMaxVcpus, `run --vcpus`). More than
  // one: the machine carries ACPI tables listing them (acpi_tables.h) and
  // start_info.rsdp_paddr points at them; one: no tables, rsdp_paddr 0.
  int vcpus = 1;
  // The disk (ATA or virtio-blk): a raw image file, created and sized to
  // disk_bytes if missing; empty: an unnamed scratch file of disk_bytes.
  std::filesystem::path disk_image;
  uint64_t disk_bytes = 1ull << 20;
  // How the host caches the image (`run --disk-cache`, disk_image.h), and
  // whether its pages are dropped from the host page cache when the machine
  // is built (`run --disk-cache-drop`), so the guest's first reads go to the disk.
  DiskCache disk_cache = DiskCache::Writeback;
  bool disk_cache_drop = false;
  // Bytes the guest's console receives (`run --input`): the UART's receive
  // side, and virtio-console port 0's receive queue where there is one.
  // Empty: nothing to read; the kernel's read() returns 0 (end of file).
  std::string console_input;
  // A virtio-balloon (`run --balloon`, as QEMU's `-device virtio-balloon`):
  // virtio-mmio device 2, IRQ 7, only on a machine with the virtio device
  // set. Off by default: a machine has the devices it was asked for.
  bool balloon = false;
  // `run --balloon-target`: the guest's target size in bytes (QMP `balloon`'s
  // value), handed to the balloon when the guest ends a marker phase whose
  // label starts with balloon_after ("" : the end of "boot"). 0: none.
  uint64_t balloon_target_bytes = 0;
  std::string balloon_after;
  // Host CPUs every vCPU thread is pinned to (`run --vcpu-affinity`, as
  // taskset; cpu_list.h checks them); empty: wherever the host schedules them.
  std::vector<int> vcpu_affinity;
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
  Rtc& rtc() { return rtc_; }
  I8254& pit() { return pit_; }
  PicPair& pic() { return pic_; }
  const BootState& boot() const { return boot_; }
  const ElfImage& kernel_image() const { return kernel_; }
  const MachineConfig& config() const { return config_; }

  // The optional devices; nullptr where the device set has none.
  DiskImage* disk() { return disk_.get(); }
  AtaDisk* ata() { return ata_.get(); }
  HypercallDevice* hypercalls() { return hypercall_.get(); }
  VirtioConsole* virtio_console() { return vconsole_.get(); }
  VirtioBlk* virtio_blk() { return vblk_.get(); }
  VirtioBalloon* virtio_balloon() { return vballoon_.get(); }
  // The host asks for the guest's memory to be `target_bytes` (QMP
  // `balloon`): the balloon's num_pages becomes what lies above that, in
  // 4 KiB pages (0 if the target is the whole RAM or more). An error
  // without a balloon. Thread: the vCPU's.
  Status set_balloon_target(DeviceContext& ctx, uint64_t target_bytes);

  // The local APICs at 0xfee00000 (devices/lapic.h): only a machine of
  // several vCPUs with the VMM's own irqchip has them (the emulation
  // backend's); under KVM's in-kernel irqchip KVM has its own.
  LocalApics* lapics() { return lapics_.get(); }
  // Interrupts (docs/interrupts.md). Devices raise numbered IRQ lines: the
  // PIT drives IRQ 0, virtio device n IRQ kVirtioIrqBase + n. With
  // IrqChip::Vmm the lines end at the machine's 8259A pair:
  //
  // pending_irq: the vector the CPU would be handed now, if it can take an
  // interrupt, or nothing. It brings the PIT up to date first; nothing
  // else changes. Always nothing with IrqChip::Kernel (KVM delivers).
  // Thread: the vCPU's.
  std::optional<uint8_t> pending_irq();
  // The CPU takes that interrupt (the PIC's INTA cycle: IRR to ISR).
  // Returns the vector to deliver.
  uint8_t acknowledge_irq();
  // The devices' IRQ lines (not the PIT's). With IrqChip::Kernel the
  // backend connects each to its own interrupt controller before the run.
  std::vector<IrqLine*> irq_lines();
  // When the timer will next raise an interrupt the PIC lets through (host
  // monotonic ns), or nothing. A vCPU halted with IF set sleeps until then.
  std::optional<uint64_t> next_irq_deadline_ns() const;
  // The same deadline as of the last pending_irq(), readable from any
  // thread (the watchdog's, which kicks a running vCPU then); 0: none.
  uint64_t irq_deadline_hint() const { return deadline_hint_.load(std::memory_order_relaxed); }
  // Everything the guest wrote to its console(s): the UART, then the
  // virtio console. Echo gets every byte as it is written, from either.
  std::string console_text() const;
  uint64_t console_bytes() const;
  void set_console_echo(std::function<void(char)> echo);
  // Bytes typed into the console while the guest runs (QMP console-write):
  // the UART's receive side, and virtio-console's receive queue where there
  // is one (as `run --input`, but later). Thread: the vCPU's.
  void push_console_input(DeviceContext& ctx, std::string_view bytes);

  // Lets every device flush what it buffers (output lines) at the end of a
  // run, and takes the host sampler's last sample (before the run_end event).
  void finish_devices(DeviceContext& ctx);

  // The host threads that run the vCPUs, and the sampler that watches them
  // (host_sampler.h); the supervisor attaches it for the run.
  VcpuThreads& vcpu_threads() { return vcpu_threads_; }
  void attach_host_sampler(HostSampler* s) { vcpu_threads_.attach(s); }

 private:
  Machine() = default;
  Status add_disk_and_devices();
  Status add_balloon();
  MachineConfig config_;
  uint8_t* ram_ = nullptr;
  GuestMemory memory_;
  Bus bus_;
  Uart16550 uart_;
  ProbeDevice probe_;
  Rtc rtc_;
  I8254 pit_;
  PicPair pic_;
  std::atomic<uint64_t> deadline_hint_{0};
  VcpuThreads vcpu_threads_;
  std::unique_ptr<DiskImage> disk_;
  std::unique_ptr<AtaDisk> ata_;
  std::unique_ptr<HypercallDevice> hypercall_;
  IrqLine console_irq_{kVirtioIrqBase, "virtio-console"}, blk_irq_{kVirtioIrqBase + 1, "virtio-blk"};
  std::unique_ptr<VirtioConsole> vconsole_;
  std::unique_ptr<VirtioBlk> vblk_;
  IrqLine balloon_irq_{kVirtioIrqBase + 2, "virtio-balloon"};
  std::unique_ptr<VirtioBalloon> vballoon_;
  std::unique_ptr<LocalApics> lapics_;
  ElfImage kernel_;
  BootState boot_;
};

// Reads a whole file (bounded: guest images larger than `max` are refused).
Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path, uint64_t max = 256ull << 20);

}  // namespace ringscope
