// cmd_doctor.cpp — `ringscope doctor`: can this host run ringscope, and what
// kind of virtualisation is it?
#include <fmt/format.h>

#include <filesystem>

#include "commands.h"
#include "kvm/capabilities.h"
#include "kvm/irqchip_probe.h"
#include "kvm/kvm_vm.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/resources.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

namespace {

std::string_view flavour_explanation(KvmFlavour f) {
  switch (f) {
    case KvmFlavour::Vmx:
      return tr(
          "Intel VT-x: the CPU runs the guest in VMX non-root mode and exits to KVM (root mode) only when it "
          "must. Every scenario runs here.");
    case KvmFlavour::Svm:
      return tr("AMD-V (SVM): hardware-assisted like VT-x; exit reasons are shown as their VT-x equivalents.");
    case KvmFlavour::Pvm:
      return tr(
          "PVM, the Pagetable-based Virtual Machine: a *software* hypervisor inside KVM. The guest runs at "
          "hardware ring 3 on shadow page tables and its ring 0 is simulated (ring deprivileging, as in "
          "para-virtualisation); guest kernel instructions are emulated one by one, so kernel code is slow and "
          "user code is fast. Some instructions behave differently: docs/hosts.md, and the scenario list below "
          "when /dev/kvm is usable.");
    case KvmFlavour::Unknown: return tr("KVM is loaded but its vendor module is not one ringscope recognises.");
    case KvmFlavour::None:
      return tr("no KVM module is loaded: this host cannot run KVM guests; the emulation mode runs them instead.");
  }
  return "";
}

int do_doctor() {
  HostInfo h = probe_host();
  trprint(stdout, "host       Linux {} on {}\n", h.kernel_release,
          h.cpu_model.empty() ? tr("unknown CPU") : h.cpu_model);
  trprint(stdout, "kvm        {}\n           {}\n", flavour_name(h.flavour), flavour_explanation(h.flavour));
  if (h.kvm_switched_off) {
    trprint(stdout, "/dev/kvm   {} is set: ringscope behaves as if /dev/kvm were absent (unset it to use KVM)\n",
            kNoKvmVariable);
  } else if (h.kvm_openable) {
    trprint(stdout, "/dev/kvm   readable and writable: ok\n");
  } else if (!h.kvm_device_exists) {
    trprint(stdout,
            "/dev/kvm   missing: enable virtualisation (VT-x/AMD-V) in the firmware and load kvm_intel or "
            "kvm_amd; inside a VM, enable nested virtualisation\n");
  } else {
    trprint(stdout,
            "/dev/kvm   cannot open ({}): add yourself to the kvm group: sudo usermod -aG kvm $USER, then log "
            "in again (or run as root)\n",
            h.kvm_open_error);
  }
  auto caps = kvm::probe_capabilities();
  if (!caps.empty()) {
    trprint(stdout, "capabilities\n");
    for (const auto& c : caps)
      fmt::print("  {:<28} {:<6} {}\n", c.name, c.value ? fmt::format("{}", c.value) : tr("no"), tr(c.why));
  }
  if (h.kvm_openable) {
    kvm::IrqchipProbe irq = kvm::probe_in_kernel_irqchip();
    trprint(stdout, "irqchip    KVM's in-kernel PIC with irqfds: {}\n           {}\n",
            irq.works ? tr("works") : tr("does not work"), irq.detail);
    fmt::print("           {}\n", irq.works
                                      ? tr("paravirt uses it (device interrupts through irqfds, EOIs never leave the "
                                           "kernel); full-virt uses ringscope's own PIC and PIT, where every access "
                                           "is an exit; --irqchip vmm|kernel picks either")
                                      : tr("paravirt falls back to ringscope's own PIC and PIT (--irqchip vmm)"));
  }
  if (h.kvm_openable) {
    // --io offload: asked of this KVM now, not assumed.
    auto kvm = kvm::KvmSystem::open();
    Status st = kvm.ok() ? kvm.value().check_io_offload() : Status(kvm.error());
    if (st.ok())
      trprint(stdout,
              "io offload KVM_IOEVENTFD and KVM_IRQFD: available\n           --io offload works here: virtio "
              "doorbells wake a device thread inside KVM, completions come back through irqfds, and neither is a "
              "VM exit to ringscope\n");
    else
      trprint(stdout,
              "io offload KVM_IOEVENTFD and KVM_IRQFD: not available ({})\n           --io vcpu (the default) "
              "serves every virtio notify on the vCPU's thread instead\n",
              st.error().message);
  }
  const ResourceDirs& res = resource_dirs();
  trprint(stdout, "data       {} ({})\n", res.root.string(),
          res.installed ? tr("installed: scenarios, guest kernels, SDK and labs beside the executable")
                        : tr("the source and build trees: this ringscope runs from its build directory"));
  std::error_code ec;
  bool images = std::filesystem::exists(guest_dir() / "kernel.elf", ec);
  trprint(stdout, "guest      {} ({})\n", (guest_dir() / "kernel.elf").string(),
          images          ? tr("built")
          : res.installed ? tr("missing: reinstall ringscope")
                          : tr("missing: build the project first (cmake --build build)"));
  if (!h.kvm_openable) {
    // No KVM: say what does run rather than listing every scenario as refused.
    trprint(stdout,
            "runs here  --mode emulation only: Unicorn runs every guest instruction in software, so every "
            "built-in scenario runs, and the VT-x model (--vmx-profile) marks the VM exits a VT-x host would "
            "take. `ringscope demo` and `ringscope lab check` switch to emulation by themselves; `ringscope run` "
            "needs --mode emulation (full-virt and paravirt need /dev/kvm: {}). docs/hosts.md says what "
            "differs.\n",
            h.kvm_open_error);
    trprint(stdout, "           try: ringscope run hello --mode emulation\n");
    return 69;
  }
  trprint(stdout, "scenarios under KVM (full-virt) on this host\n");
  for (const auto& s : builtin_scenarios()) {
    std::string why;
    for (const auto& f : s.requires_features) {
      why = kvm_refusal(h, f);
      if (!why.empty()) break;
    }
    fmt::print("  {:<14} {}\n", s.name, why.empty() ? std::string(tr("runs")) : trf("cannot run: {}", why));
  }
  // The emulation mode needs no KVM at all: Unicorn runs every instruction.
  trprint(stdout,
          "emulation  --mode emulation needs no /dev/kvm (Unicorn runs every instruction in software); scenarios "
          "this host's KVM cannot run, such as syscall-insn, run there (docs/hosts.md)\n");
  return 0;
}
}  // namespace

void add_doctor_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("doctor", "Report what this host's KVM is and which scenarios run here");
  cmd->footer(
      "Example:\n  ringscope doctor\n  RINGSCOPE_NO_KVM=1 ringscope doctor   # as a machine without KVM sees it\n"
      "Exit status: 0 KVM is usable; 69 it is not (the report says why, and that --mode emulation runs).\n"
      "docs/hosts.md: what runs on VT-x, AMD-V, PVM and without KVM.");
  cmd->callback([&ctx] { ctx.exit_code = do_doctor(); });
}

}  // namespace ringscope::cli
