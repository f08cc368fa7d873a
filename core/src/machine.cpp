// machine.cpp — assembling a virtual PC from a kernel image and modules.
#include "ringscope/machine.h"

#include "ringscope/acpi_tables.h"
#include "ringscope/files.h"
#include "ringscope/i18n.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace ringscope {

Result<std::vector<uint8_t>> read_file_bytes(const std::filesystem::path& path, uint64_t max) {
  return read_regular_file(path, max, "image");
}

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config) {
  if (config.ram_bytes < (4ull << 20) || config.ram_bytes > (4ull << 30) || config.ram_bytes % 4096)
    return make_error(ErrorKind::Usage, tr("guest RAM must be a multiple of 4 KiB between 4 MiB and 4 GiB"));
  std::unique_ptr<Machine> m(new Machine());
  m->config_ = config;
  m->vcpu_threads_.pin_to(config.vcpu_affinity);
  // MAP_NORESERVE: untouched guest pages cost the host nothing.
  void* ram =
      mmap(nullptr, config.ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED)
    return make_error(ErrorKind::Internal,
                      trf("cannot map {} MiB of guest RAM: {}", config.ram_bytes >> 20, strerror(errno)));
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
  if (config.vcpus > 1) {  // the guest finds its CPUs in the ACPI MADT
    TRY_ASSIGN(uint64_t rsdp, write_acpi_tables(m->memory_, config.vcpus));
    m->memory_.write(m->boot_.start_info + boot_layout::kStartInfoRsdp, &rsdp, sizeof rsdp);
  } else if (config.vcpus != 1) {
    return make_error(ErrorKind::Usage, trf("{} vCPUs: a guest has 1 to {}", config.vcpus, kMaxVcpus));
  }

  TRY(m->bus_.add(AddressSpace::Pio, kCom1Base, kUartWindow, &m->uart_));
  m->uart_.set_input(config.console_input);
  TRY(m->bus_.add(AddressSpace::Pio, kProbeBase, kProbeWindow, &m->probe_));
  // Every PC has its CMOS clock, whatever else it has: the native kernel
  // reads the time there, the PV kernel asks the hypervisor instead.
  TRY(m->bus_.add(AddressSpace::Pio, kRtcBase, kRtcWindow, &m->rtc_));
  // And its timer and interrupt controllers, unless the hypervisor brings
  // its own. They stay silent until the guest programs them: the PIC
  // passes nothing on before its ICW1..ICW4.
  if (config.irqchip == IrqChip::Vmm) {
    TRY(m->bus_.add(AddressSpace::Pio, kPitBase, kPitWindow, &m->pit_));
    TRY(m->bus_.add(AddressSpace::Pio, kPicMasterBase, kPicWindow, &m->pic_.master()));
    TRY(m->bus_.add(AddressSpace::Pio, kPicSlaveBase, kPicWindow, &m->pic_.slave()));
    for (IrqLine* line : m->irq_lines())
      line->connect([pic = &m->pic_](DeviceContext&, const IrqLine& l) { pic->raise(l.irq()); });
    // Several CPUs: each has its local APIC (timer, IPIs, start-up), all
    // at one page; the boot CPU's LINT0 takes the PIC's interrupts.
    if (config.vcpus > 1) {
      m->lapics_ = std::make_unique<LocalApics>(config.vcpus);
      TRY(m->bus_.add(AddressSpace::Mmio, kLapicBase, kLapicWindow, m->lapics_.get()));
    }
  }
  TRY(m->add_disk_and_devices());
  return m;
}

// The device set: the legacy ATA disk, or the doorbell and virtio devices.
// Both kinds of disk are backed by the same kind of host image file.
Status Machine::add_disk_and_devices() {
  if (!config_.disk_image.empty()) {
    TRY_ASSIGN(disk_, DiskImage::open(config_.disk_image, config_.disk_bytes, config_.disk_cache));
  } else {
    TRY_ASSIGN(disk_, DiskImage::scratch(config_.disk_bytes, config_.disk_cache));
  }
  if (config_.disk_cache_drop) TRY(disk_->drop_host_cache());
  if (config_.devices == DeviceSet::Legacy) {
    if (config_.balloon)
      return make_error(ErrorKind::Usage,
                        tr("the balloon is a virtio device: use --mode paravirt (or --devices virtio)"));
    ata_ = std::make_unique<AtaDisk>(disk_.get());
    TRY(bus_.add(AddressSpace::Pio, kAtaCommandBase, kAtaCommandWindow, ata_.get()));
    TRY(bus_.add(AddressSpace::Pio, kAtaControlBase, kAtaControlWindow, &ata_->control()));
    return ok_status();
  }
  // virtio-mmio windows sit just below 1 GiB, inside the teaching kernel's
  // identity map and above any RAM this machine may have there.
  if (config_.ram_bytes > kVirtioMmioBase)
    return make_error(ErrorKind::Usage, trf("with virtio devices guest RAM must end below {:#x} ({} MiB)",
                                            kVirtioMmioBase, kVirtioMmioBase >> 20));
  hypercall_ = std::make_unique<HypercallDevice>();
  vconsole_ = std::make_unique<VirtioConsole>(&console_irq_);
  vblk_ = std::make_unique<VirtioBlk>(&blk_irq_, disk_.get());
  VirtioConsole* console = vconsole_.get();
  console->queue_input(config_.console_input);  // into the receive queue once the driver posts buffers
  hypercall_->set_console([console](DeviceContext& ctx, std::string_view bytes) { console->host_output(ctx, bytes); });
  TRY(bus_.add(AddressSpace::Pio, kHypercallPort, kHypercallWindow, hypercall_.get()));
  TRY(bus_.add(AddressSpace::Mmio, kVirtioMmioBase, kVirtioMmioStride, vconsole_.get()));
  TRY(bus_.add(AddressSpace::Mmio, kVirtioMmioBase + kVirtioMmioStride, kVirtioMmioStride, vblk_.get()));
  if (config_.balloon) TRY(add_balloon());
  return ok_status();
}

// virtio device 2. With a target from the command line, the probe port's
// markers say when to hand it over: a workload first touches its memory,
// frees it, then ends the phase named by balloon_after.
Status Machine::add_balloon() {
  vballoon_ = std::make_unique<VirtioBalloon>(&balloon_irq_);
  TRY(bus_.add(AddressSpace::Mmio, kVirtioMmioBase + 2 * kVirtioMmioStride, kVirtioMmioStride, vballoon_.get()));
  if (!config_.balloon_target_bytes) return ok_status();
  std::string after = config_.balloon_after.empty() ? "boot" : config_.balloon_after;
  probe_.set_marker_hook(
      [this, after, done = false](DeviceContext& ctx, MarkerPhase phase, std::string_view label) mutable {
        if (done || phase != MarkerPhase::End || !label.starts_with(after)) return;
        done = true;
        (void)set_balloon_target(ctx, config_.balloon_target_bytes);
      });
  return ok_status();
}

Status Machine::set_balloon_target(DeviceContext& ctx, uint64_t target_bytes) {
  if (!vballoon_) return make_error(ErrorKind::Usage, tr("No balloon device has been activated (run --balloon)"));
  uint64_t pages =
      target_bytes >= config_.ram_bytes ? 0 : (config_.ram_bytes - target_bytes) / VirtioBalloon::kPageSize;
  vballoon_->set_target(ctx, static_cast<uint32_t>(pages));
  return ok_status();
}

std::optional<uint8_t> Machine::pending_irq() {
  if (config_.irqchip == IrqChip::Kernel) return std::nullopt;
  if (pit_.poll()) pic_.raise(kPitIrq);
  auto deadline = next_irq_deadline_ns();
  deadline_hint_.store(deadline.value_or(0), std::memory_order_relaxed);
  return pic_.pending_vector();
}

uint8_t Machine::acknowledge_irq() { return pic_.acknowledge(); }

std::vector<IrqLine*> Machine::irq_lines() {
  if (config_.devices != DeviceSet::Virtio) return {};
  if (config_.balloon) return {&console_irq_, &blk_irq_, &balloon_irq_};
  return {&console_irq_, &blk_irq_};
}

std::optional<uint64_t> Machine::next_irq_deadline_ns() const {
  if (config_.irqchip == IrqChip::Kernel) return std::nullopt;
  if (!pic_.unmasked(kPitIrq)) return std::nullopt;
  return pit_.next_edge_ns();
}

std::string Machine::console_text() const {
  std::string s = uart_.transmitted();
  if (vconsole_) s += vconsole_->transmitted();
  return s;
}

uint64_t Machine::console_bytes() const {
  return uart_.bytes_transmitted() + (vconsole_ ? vconsole_->bytes_transmitted() : 0);
}

void Machine::set_console_echo(std::function<void(char)> echo) {
  if (vconsole_) vconsole_->set_echo(echo);
  uart_.set_echo(std::move(echo));
}

Machine::~Machine() {
  if (ram_) munmap(ram_, config_.ram_bytes);
}

void Machine::push_console_input(DeviceContext& ctx, std::string_view bytes) {
  uart_.add_input(bytes);
  if (vconsole_) vconsole_->push_input(ctx, bytes);
}

void Machine::finish_devices(DeviceContext& ctx) {
  for (const auto& r : bus_.ranges()) r.device->finish(ctx);
  if (HostSampler* s = vcpu_threads_.sampler()) s->final_sample();
}

}  // namespace ringscope
