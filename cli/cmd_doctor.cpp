// cmd_doctor.cpp — `ringscope doctor`: can this host run ringscope, and what
// kind of virtualisation is it?
#include <fmt/format.h>

#include <filesystem>

#include "commands.h"
#include "kvm/capabilities.h"
#include "kvm/irqchip_probe.h"
#include "ringscope/host.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

namespace {

std::string_view flavour_explanation(KvmFlavour f) {
  switch (f) {
    case KvmFlavour::Vmx:
      return "Intel VT-x: the CPU runs the guest in VMX non-root mode and exits to KVM (root mode) only when it "
             "must. Every scenario runs here.";
    case KvmFlavour::Svm:
      return "AMD-V (SVM): hardware-assisted like VT-x; exit reasons are shown as their VT-x equivalents.";
    case KvmFlavour::Pvm:
      return "PVM, the Pagetable-based Virtual Machine: a *software* hypervisor inside KVM. The guest runs at "
             "hardware ring 3 on shadow page tables and its ring 0 is simulated (ring deprivileging, as in "
             "para-virtualisation); guest kernel instructions are emulated one by one, so kernel code is slow and "
             "user code is fast. Some instructions behave differently: see the scenario list below.";
    case KvmFlavour::Unknown:
      return "KVM is loaded but its vendor module is not one ringscope recognises.";
    case KvmFlavour::None: return "no KVM module is loaded: this host cannot run KVM guests.";
  }
  return "";
}

int do_doctor() {
  HostInfo h = probe_host();
  fmt::print("host       Linux {} on {}\n", h.kernel_release, h.cpu_model.empty() ? "unknown CPU" : h.cpu_model);
  fmt::print("kvm        {}\n           {}\n", flavour_name(h.flavour), flavour_explanation(h.flavour));
  if (h.kvm_openable) {
    fmt::print("/dev/kvm   readable and writable: ok\n");
  } else if (!h.kvm_device_exists) {
    fmt::print("/dev/kvm   missing: enable virtualisation (VT-x/AMD-V) in the firmware and load kvm_intel or "
               "kvm_amd; inside a VM, enable nested virtualisation\n");
  } else {
    fmt::print("/dev/kvm   cannot open ({}): add yourself to the kvm group: sudo usermod -aG kvm $USER, then log "
               "in again (or run as root)\n",
               h.kvm_open_error);
  }
  auto caps = kvm::probe_capabilities();
  if (!caps.empty()) {
    fmt::print("capabilities\n");
    for (const auto& c : caps)
      fmt::print("  {:<28} {:<6} {}\n", c.name, c.value ? fmt::format("{}", c.value) : "no", c.why);
  }
  if (h.kvm_openable) {
    kvm::IrqchipProbe irq = kvm::probe_in_kernel_irqchip();
    fmt::print("irqchip    KVM's in-kernel PIC with irqfds: {}\n           {}\n", irq.works ? "works" : "does not work",
               irq.detail);
    fmt::print("           {}\n", irq.works ? "paravirt uses it (device interrupts through irqfds, EOIs never leave the "
                                              "kernel); full-virt uses ringscope's own PIC and PIT, where every access "
                                              "is an exit; --irqchip vmm|kernel picks either"
                                            : "paravirt falls back to ringscope's own PIC and PIT (--irqchip vmm)");
  }
  std::error_code ec;
  bool images = std::filesystem::exists(guest_dir() / "kernel.elf", ec);
  fmt::print("guest      {} ({})\n", (guest_dir() / "kernel.elf").string(),
             images ? "built" : "missing: build the project first (cmake --build build)");
  fmt::print("scenarios under KVM (full-virt) on this host\n");
  for (const auto& s : builtin_scenarios()) {
    std::string why;
    for (const auto& f : s.requires_features) {
      why = kvm_refusal(h, f);
      if (!why.empty()) break;
    }
    if (!h.kvm_openable) why = "no usable /dev/kvm";
    fmt::print("  {:<14} {}\n", s.name, why.empty() ? "runs" : "cannot run: " + why);
  }
  // The emulation mode needs no KVM at all: Unicorn runs every instruction.
  fmt::print("emulation  --mode emulation needs no /dev/kvm (Unicorn runs every instruction in software); scenarios "
             "this host's KVM cannot run, such as syscall-insn, run there\n");
  if (!h.kvm_openable)
    fmt::print("           without a usable /dev/kvm here, --mode emulation is what runs: "
               "ringscope run hello --mode emulation\n");
  return h.kvm_openable ? 0 : 69;
}
}  // namespace

void add_doctor_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("doctor", "Report what this host's KVM is and which scenarios run here");
  cmd->footer("Example:\n  ringscope doctor\nExit status: 0 KVM is usable; 69 it is not (the report says why).");
  cmd->callback([&ctx] { ctx.exit_code = do_doctor(); });
}

}  // namespace ringscope::cli
