// kvm_vm.h — the KVM objects: the system fd, one VM, its memory and vCPUs
// (Firecracker's vstate/). Only the standard KVM API; capabilities are
// probed at run time, never assumed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ringscope/boot.h"
#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

struct kvm_run;
struct kvm_regs;
struct kvm_sregs;

namespace ringscope::kvm {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class Vcpu {
 public:
  int fd() const { return fd_.get(); }
  struct kvm_run* run() const { return run_; }
  bool sync_regs() const { return sync_regs_; }  // KVM_CAP_SYNC_REGS in use
  size_t run_size() const { return run_size_; }  // bytes mapped at run()
  // Stops KVM copying the registers into kvm_run at every exit (it costs
  // the exit path a few hundred ns); regs() then uses the ioctls. For runs
  // that record nothing per exit (tracing off).
  void stop_syncing_regs();

  Status apply_boot_state(const BootState& boot);
  // Guest registers now: from the sync-regs area after an exit, or through
  // KVM_GET_REGS/SREGS when `via_ioctl` (before the first KVM_RUN).
  Result<GuestRegs> regs(bool via_ioctl = false) const;
  Status set_single_step(bool on);
  ~Vcpu();

 private:
  friend class Vm;
  Fd fd_;
  struct kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  bool sync_regs_ = false;
};

class Vm {
 public:
  // Opens /dev/kvm, checks the API version, creates the VM. Errors explain
  // how to get access (the kvm group) or that the host has no KVM.
  static Result<std::unique_ptr<Vm>> create();
  // Registers guest RAM as memory slot 0 at guest physical address 0.
  Status set_memory(const GuestMemory& memory);
  // Creates vCPU `id` with the host's supported CPUID (needed before a guest
  // can enter long mode on some hosts: docs/hosts.md).
  Result<std::unique_ptr<Vcpu>> create_vcpu(uint32_t id);
  // KVM's in-kernel interrupt controllers (the 8259A pair, an IOAPIC, a
  // LAPIC per vCPU) and its 8254 PIT: KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2.
  // Before the first vCPU. From then on KVM answers the PIC and PIT ports
  // itself and delivers their interrupts; KVM_INTERRUPT is no longer used.
  Status create_irqchip();
  // An eventfd that pulses interrupt line `gsi` of the in-kernel irqchip
  // each time it is written (KVM_IRQFD): how a device raises its IRQ
  // without an ioctl, from any thread.
  Result<Fd> irqfd(uint32_t gsi);
  int system_fd() const { return kvm_.get(); }

 private:
  Fd kvm_, vm_;
  int run_size_ = 0;
};

// Reads CPL the way the CPU defines it: the DPL of the current SS (equal to
// CS.RPL in all normal states).
uint8_t cpl_of(const struct kvm_sregs& sregs);
GuestRegs to_guest_regs(const struct kvm_regs& r, const struct kvm_sregs& s);

}  // namespace ringscope::kvm
