// capabilities.cpp — asking KVM what it supports.
#include "capabilities.h"

#include <linux/kvm.h>

#include "kvm_vm.h"
#include "ringscope/i18n.h"

namespace ringscope::kvm {

std::vector<Capability> probe_capabilities() {
  struct Want {
    int cap;
    std::string_view name, why;  // why: N_(), translated where it is printed
  };
  static const Want wants[] = {
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", N_("guest RAM from the VMM's own memory (required)")},
      {KVM_CAP_SET_GUEST_DEBUG, "KVM_CAP_SET_GUEST_DEBUG", N_("single-stepping for trace level full")},
      {KVM_CAP_BINARY_STATS_FD, "KVM_CAP_BINARY_STATS_FD", N_("counting exits KVM handles in the kernel")},
      {KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS", N_("guest RIP and CPL on every exit without extra ioctls")},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", N_("the watchdog can stop a guest stuck in KVM_RUN")},
      {KVM_CAP_GUEST_DEBUG_HW_BPS, "KVM_CAP_GUEST_DEBUG_HW_BPS", N_("hardware breakpoints (not used yet)")},
      {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP",
       N_("in-kernel PIC, IOAPIC and LAPIC (--irqchip kernel; paravirt's default)")},
      {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", N_("doorbells handled without a user-space exit (--io offload)")},
      {KVM_CAP_IRQFD, "KVM_CAP_IRQFD", N_("devices raise IRQ lines through eventfds (--irqchip kernel)")},
      {KVM_CAP_EXIT_HYPERCALL, "KVM_CAP_EXIT_HYPERCALL", N_("hypercalls KVM forwards to user space (bit mask)")},
  };
  std::vector<Capability> out;
  auto kvm = KvmSystem::open();  // honours RINGSCOPE_NO_KVM
  if (!kvm.ok()) return out;
  for (const auto& w : wants) out.push_back({w.name, w.why, kvm.value().check_extension(w.cap)});
  return out;
}

}  // namespace ringscope::kvm
