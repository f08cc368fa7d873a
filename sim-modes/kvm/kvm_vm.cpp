// kvm_vm.cpp — creating the VM, its memory slot and its vCPUs.
#include "kvm_vm.h"

#include "kvm_abi.h"
#include "ringscope/host.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ringscope::kvm {

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}
Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

namespace {
Error os_error(const char* what) {
  return make_error(ErrorKind::Internal, fmt::format("{} failed: {}", what, strerror(errno)));
}

void to_kvm_segment(const SegmentState& s, struct kvm_segment& k) {
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = s.type;
  k.present = s.present;
  k.dpl = s.dpl;
  k.db = s.db;
  k.s = s.s;
  k.l = s.l;
  k.g = s.g;
  k.avl = 0;
  k.unusable = !s.present;
}
}  // namespace

Result<std::unique_ptr<Vm>> Vm::create() {
  auto vm = std::make_unique<Vm>();
  TRY_ASSIGN(int fd, open_kvm_device());
  vm->kvm_ = Fd(fd);
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return make_error(ErrorKind::Unavailable, fmt::format("KVM API version {} (expected {})", version, KVM_API_VERSION));
  int vmfd = ioctl(fd, KVM_CREATE_VM, 0);
  if (vmfd < 0) return os_error("KVM_CREATE_VM");
  vm->vm_ = Fd(vmfd);
  vm->run_size_ = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (vm->run_size_ <= 0) return os_error("KVM_GET_VCPU_MMAP_SIZE");
  return vm;
}

Status Vm::set_memory(const GuestMemory& memory) {
  struct kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = memory.size();
  region.userspace_addr = reinterpret_cast<uint64_t>(memory.host_base());
  if (ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) return os_error("KVM_SET_USER_MEMORY_REGION");
  return ok_status();
}

Status Vm::create_irqchip() {
  auto refused = [](const char* what) {
    return make_error(ErrorKind::Unavailable,
                      fmt::format("KVM refused its in-kernel interrupt controller ({} failed: {}); run with --irqchip "
                                  "vmm, which uses ringscope's own 8259A PIC and 8254 PIT instead",
                                  what, strerror(errno)));
  };
  if (ioctl(vm_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return refused("KVM_CREATE_IRQCHIP");
  struct kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;  // port 0x61 answered too, as a PC's
  if (ioctl(vm_.get(), KVM_CREATE_PIT2, &pit) < 0) return refused("KVM_CREATE_PIT2");
  return ok_status();
}

Result<Fd> Vm::irqfd(uint32_t gsi) {
  Fd event(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return os_error("eventfd");
  struct kvm_irqfd req{};
  req.fd = static_cast<uint32_t>(event.get());
  req.gsi = gsi;
  if (ioctl(vm_.get(), KVM_IRQFD, &req) < 0)
    return make_error(ErrorKind::Unavailable,
                      fmt::format("KVM_IRQFD for IRQ {} failed: {}; run with --irqchip vmm", gsi, strerror(errno)));
  return event;
}

Result<std::unique_ptr<Vcpu>> Vm::create_vcpu(uint32_t id) {
  auto vcpu = std::make_unique<Vcpu>();
  int fd = ioctl(vm_.get(), KVM_CREATE_VCPU, id);
  if (fd < 0) return os_error("KVM_CREATE_VCPU");
  vcpu->fd_ = Fd(fd);
  void* run = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (run == MAP_FAILED) return os_error("mmap of the vCPU run area");
  vcpu->run_ = static_cast<struct kvm_run*>(run);
  vcpu->run_size_ = run_size_;

  // Advertise what the host supports (long mode among it).
  constexpr uint32_t kMaxEntries = 256;
  std::vector<uint8_t> buf(abi::kCpuid2Header + kMaxEntries * sizeof(struct kvm_cpuid_entry2));
  std::memcpy(buf.data(), &kMaxEntries, 4);  // nent
  if (ioctl(kvm_.get(), abi::kGetSupportedCpuid, buf.data()) < 0) return os_error("KVM_GET_SUPPORTED_CPUID");
  if (ioctl(fd, abi::kSetCpuid2, buf.data()) < 0) return os_error("KVM_SET_CPUID2");

  // Sync regs let every exit carry the registers without extra ioctls.
  int caps = ioctl(vm_.get(), KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
  if (caps > 0 && (caps & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) == (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
    vcpu->sync_regs_ = true;
    vcpu->run_->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
  }
  return vcpu;
}

void Vcpu::stop_syncing_regs() {
  if (run_) run_->kvm_valid_regs = 0;
  sync_regs_ = false;
}

Vcpu::~Vcpu() {
  if (run_) munmap(run_, run_size_);
}

Status Vcpu::apply_boot_state(const BootState& boot) {
  struct kvm_sregs s;
  if (ioctl(fd(), KVM_GET_SREGS, &s) < 0) return os_error("KVM_GET_SREGS");
  to_kvm_segment(boot.cs, s.cs);
  to_kvm_segment(boot.ds, s.ds);
  s.es = s.fs = s.gs = s.ss = s.ds;
  to_kvm_segment(boot.tr, s.tr);
  s.gdt.base = boot.gdt_base;
  s.gdt.limit = boot.gdt_limit;
  s.cr0 = boot.cr0;
  s.cr3 = boot.cr3;
  s.cr4 = boot.cr4;
  s.efer = boot.efer;
  if (ioctl(fd(), KVM_SET_SREGS, &s) < 0) return os_error("KVM_SET_SREGS");
  struct kvm_regs r{};
  r.rip = boot.rip;
  r.rbx = boot.rbx;
  r.rflags = boot.rflags;
  if (ioctl(fd(), KVM_SET_REGS, &r) < 0) return os_error("KVM_SET_REGS");
  return ok_status();
}

Result<GuestRegs> Vcpu::regs(bool via_ioctl) const {
  struct kvm_regs r;
  struct kvm_sregs s;
  if (sync_regs_ && !via_ioctl) {
    r = run_->s.regs.regs;
    s = run_->s.regs.sregs;
  } else {
    if (ioctl(fd(), KVM_GET_REGS, &r) < 0) return os_error("KVM_GET_REGS");
    if (ioctl(fd(), KVM_GET_SREGS, &s) < 0) return os_error("KVM_GET_SREGS");
  }
  return to_guest_regs(r, s);
}

Status Vcpu::set_single_step(bool on) {
  struct kvm_guest_debug dbg{};
  dbg.control = on ? (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP) : 0;
  if (ioctl(fd(), KVM_SET_GUEST_DEBUG, &dbg) < 0) return os_error("KVM_SET_GUEST_DEBUG");
  return ok_status();
}

uint8_t cpl_of(const struct kvm_sregs& s) { return s.ss.dpl & 3; }

GuestRegs to_guest_regs(const struct kvm_regs& r, const struct kvm_sregs& s) {
  GuestRegs g{};
  g.rax = r.rax, g.rbx = r.rbx, g.rcx = r.rcx, g.rdx = r.rdx, g.rsi = r.rsi, g.rdi = r.rdi, g.rbp = r.rbp,
  g.rsp = r.rsp;
  g.r8 = r.r8, g.r9 = r.r9, g.r10 = r.r10, g.r11 = r.r11, g.r12 = r.r12, g.r13 = r.r13, g.r14 = r.r14, g.r15 = r.r15;
  g.rip = r.rip, g.rflags = r.rflags;
  g.cr0 = s.cr0, g.cr2 = s.cr2, g.cr3 = s.cr3, g.cr4 = s.cr4, g.efer = s.efer;
  g.cs = s.cs.selector, g.ss = s.ss.selector;
  g.cpl = cpl_of(s);
  return g;
}

}  // namespace ringscope::kvm
