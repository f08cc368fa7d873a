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
struct kvm_fpu;

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

// /dev/kvm itself: the API version, capabilities, creating VMs. Every
// ioctl on the system fd goes through here.
class KvmSystem {
 public:
  // Opens /dev/kvm (honouring RINGSCOPE_NO_KVM) and checks the API version.
  // Errors explain how to get access (the kvm group) or that the host has
  // no KVM.
  static Result<KvmSystem> open();
  // KVM_CHECK_EXTENSION: 0 when the capability is absent, else its value.
  long check_extension(long cap) const;
  // What `--io offload` needs of this KVM, asked with KVM_CHECK_EXTENSION:
  // doorbells registered with KVM_IOEVENTFD (KVM_CAP_IOEVENTFD) and
  // completions raised through irqfds (KVM_CAP_IRQFD, which also needs the
  // in-kernel irqchip). An Unavailable error names what is missing.
  Status check_io_offload() const;
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
};

// How one KVM_RUN ended: the guest exited (kvm_run says why), or a signal
// (the watchdog's kick) interrupted it.
enum class Entry : uint8_t { Exited, Interrupted };

class Vcpu {
 public:
  int fd() const { return fd_.get(); }
  struct kvm_run* run() const {
    return run_;
  }
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

  // KVM_RUN once. Interrupted: a signal arrived (immediate_exit is cleared
  // for the next entry).
  Result<Entry> enter();
  // KVM_GET_REGS / KVM_SET_REGS / KVM_GET_SREGS / KVM_SET_SREGS.
  Status get_regs(struct kvm_regs& regs) const;
  Status set_regs(const struct kvm_regs& regs);
  Status get_sregs(struct kvm_sregs& sregs) const;
  Status set_sregs(const struct kvm_sregs& sregs);
  // One MSR (KVM_GET_MSRS with a one-entry buffer).
  Result<uint64_t> msr(uint32_t index) const;
  Status set_msr(uint32_t index, uint64_t value);  // KVM_SET_MSRS, one entry
  // KVM_GET_FPU / KVM_SET_FPU: x87 and SSE state (XMM0-15, MXCSR).
  Status get_fpu(struct kvm_fpu& fpu) const;
  Status set_fpu(const struct kvm_fpu& fpu);
  // KVM_INTERRUPT: inject `vector` (the VMM's own irqchip only).
  Status interrupt(uint8_t vector);
  // KVM_GET_MP_STATE: true when the in-kernel irqchip has parked the vCPU
  // in HLT (KVM_MP_STATE_HALTED).
  Result<bool> parked_in_hlt() const;
  // KVM_GET_STATS_FD: the vCPU's binary stats (stats_fd.h reads them).
  Result<Fd> stats_fd() const;
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
  Status set_memory(void* host, uint64_t size);
  // Any other memory slot (size 0 deletes it): a VMM's own pages beside
  // guest RAM (mode bt's monitor).
  Status set_memory_slot(uint32_t slot, uint64_t gpa, void* host, uint64_t size);
  // KVM_SET_TSS_ADDR: VT-x without "unrestricted guest" runs real mode in
  // vm86 and needs three pages for a TSS. Harmless elsewhere; skipped where
  // KVM lacks the capability.
  Status set_tss_addr(uint64_t gpa);
  // Creates vCPU `id` with the host's supported CPUID (needed before a guest
  // can enter long mode on some hosts: docs/hosts.md).
  Result<std::unique_ptr<Vcpu>> create_vcpu(uint32_t id);
  // KVM's in-kernel interrupt controllers (the 8259A pair, an IOAPIC, a
  // LAPIC per vCPU) and its 8254 PIT: KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2.
  // Before the first vCPU. From then on KVM answers the PIC and PIT ports
  // itself and delivers their interrupts; KVM_INTERRUPT is no longer used.
  enum class Pit : uint8_t { Create, None };
  Status create_irqchip(Pit pit = Pit::Create);
  // KVM_GET_IRQCHIP of the master 8259A: its IRR, IMR and ISR, for a
  // sentence about a guest that got stuck.
  Result<std::string> master_pic_state() const;
  // An eventfd that pulses interrupt line `gsi` of the in-kernel irqchip
  // each time it is written (KVM_IRQFD): how a device raises its IRQ
  // without an ioctl, from any thread.
  Result<Fd> irqfd(uint32_t gsi);
  // An eventfd that KVM signals, instead of exiting to user space, each
  // time the guest writes `value` (`len` bytes) to MMIO address `gpa`
  // (KVM_IOEVENTFD with DATAMATCH): a doorbell the vCPU rings without
  // leaving the kernel. A refusal is an Unavailable error naming errno.
  Result<Fd> ioeventfd(uint64_t gpa, uint32_t len, uint64_t value);
  // Undoes ioeventfd() (KVM_IOEVENTFD with DEASSIGN), before `fd` closes.
  void remove_ioeventfd(const Fd& fd, uint64_t gpa, uint32_t len, uint64_t value);
  const KvmSystem& system() const { return kvm_; }

 private:
  KvmSystem kvm_;
  Fd vm_;
  int run_size_ = 0;
};

// Reads CPL the way the CPU defines it: the DPL of the current SS (equal to
// CS.RPL in all normal states).
uint8_t cpl_of(const struct kvm_sregs& sregs);
GuestRegs to_guest_regs(const struct kvm_regs& r, const struct kvm_sregs& s);

}  // namespace ringscope::kvm
