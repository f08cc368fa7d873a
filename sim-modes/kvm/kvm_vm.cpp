// kvm_vm.cpp — the KVM objects: every ioctl ringscope makes on /dev/kvm, a
// VM or a vCPU is here, and each returns a Status.
#include "kvm_vm.h"

#include "kvm_abi.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"

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
  return make_error(ErrorKind::Internal, trf("{} failed: {}", what, strerror(errno)));
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
// Each CPU reports its own local APIC ID through CPUID (leaf 1: EBX bits
// 31-24; leaves 0xb and 0x1f, the x2APIC topology: EDX), as the MADT lists
// it. KVM_GET_SUPPORTED_CPUID leaves these 0; KVM sets vCPU `id`'s local
// APIC ID register to `id` itself.
void set_apic_id(std::vector<uint8_t>& cpuid2, uint32_t id) {
  uint32_t nent;
  std::memcpy(&nent, cpuid2.data(), 4);
  for (uint32_t i = 0; i < nent; i++) {
    uint8_t* at = cpuid2.data() + abi::kCpuid2Header + i * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid_entry2 e;
    std::memcpy(&e, at, sizeof e);
    if (e.function == 1)
      e.ebx = (e.ebx & 0x00ffffffu) | (id << 24);
    else if (e.function == 0xb || e.function == 0x1f)
      e.edx = id;
    else
      continue;
    std::memcpy(at, &e, sizeof e);
  }
}
}  // namespace

Result<KvmSystem> KvmSystem::open() {
  KvmSystem kvm;
  TRY_ASSIGN(int fd, open_kvm_device());
  kvm.fd_ = Fd(fd);
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return make_error(ErrorKind::Unavailable, trf("KVM API version {} (expected {})", version, KVM_API_VERSION));
  return kvm;
}

long KvmSystem::check_extension(long cap) const {
  int r = ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Status KvmSystem::check_io_offload() const {
  if (check_extension(KVM_CAP_IOEVENTFD) <= 0)
    return make_error(ErrorKind::Unavailable,
                      tr("this KVM has no KVM_CAP_IOEVENTFD: a doorbell cannot wake a device thread without an exit "
                         "to the VMM"));
  if (check_extension(KVM_CAP_IRQFD) <= 0)
    return make_error(ErrorKind::Unavailable,
                      tr("this KVM has no KVM_CAP_IRQFD: a device thread cannot raise an interrupt by itself"));
  if (check_extension(KVM_CAP_IRQCHIP) <= 0)
    return make_error(ErrorKind::Unavailable, tr("this KVM has no in-kernel irqchip (KVM_CAP_IRQCHIP) for irqfds"));
  return ok_status();
}

Result<std::unique_ptr<Vm>> Vm::create() {
  auto vm = std::make_unique<Vm>();
  TRY_ASSIGN(vm->kvm_, KvmSystem::open());
  int vmfd = ioctl(vm->kvm_.fd(), KVM_CREATE_VM, 0);
  if (vmfd < 0) return os_error("KVM_CREATE_VM");
  vm->vm_ = Fd(vmfd);
  vm->run_size_ = ioctl(vm->kvm_.fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (vm->run_size_ <= 0) return os_error("KVM_GET_VCPU_MMAP_SIZE");
  return vm;
}

Status Vm::set_memory(const GuestMemory& memory) { return set_memory(memory.host_base(), memory.size()); }

Status Vm::set_memory(void* host, uint64_t size) { return set_memory_slot(0, 0, host, size); }

Status Vm::set_memory_slot(uint32_t slot, uint64_t gpa, void* host, uint64_t size) {
  struct kvm_userspace_memory_region region {};
  region.slot = slot;
  region.guest_phys_addr = gpa;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) return os_error("KVM_SET_USER_MEMORY_REGION");
  return ok_status();
}

Status Vm::set_tss_addr(uint64_t gpa) {
  if (kvm_.check_extension(KVM_CAP_SET_TSS_ADDR) <= 0) return ok_status();
  if (ioctl(vm_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(gpa)) < 0) return os_error("KVM_SET_TSS_ADDR");
  return ok_status();
}

Result<std::string> Vm::master_pic_state() const {
  struct kvm_irqchip chip {};
  chip.chip_id = KVM_IRQCHIP_PIC_MASTER;
  if (ioctl(vm_.get(), KVM_GET_IRQCHIP, &chip) < 0) return os_error("KVM_GET_IRQCHIP");
  return fmt::format("master PIC IRR={:#04x} IMR={:#04x} ISR={:#04x}", chip.chip.pic.irr, chip.chip.pic.imr,
                     chip.chip.pic.isr);
}

Status Vm::create_irqchip(Pit with_pit) {
  auto refused = [](const char* what) {
    return make_error(ErrorKind::Unavailable,
                      trf("KVM refused its in-kernel interrupt controller ({} failed: {}); run with --irqchip "
                          "vmm, which uses ringscope's own 8259A PIC and 8254 PIT instead",
                          what, strerror(errno)));
  };
  if (ioctl(vm_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return refused("KVM_CREATE_IRQCHIP");
  if (with_pit == Pit::None) return ok_status();
  struct kvm_pit_config pit {};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;  // port 0x61 answered too, as a PC's
  if (ioctl(vm_.get(), KVM_CREATE_PIT2, &pit) < 0) return refused("KVM_CREATE_PIT2");
  return ok_status();
}

Result<Fd> Vm::irqfd(uint32_t gsi) {
  Fd event(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return os_error("eventfd");
  struct kvm_irqfd req {};
  req.fd = static_cast<uint32_t>(event.get());
  req.gsi = gsi;
  if (ioctl(vm_.get(), KVM_IRQFD, &req) < 0)
    return make_error(ErrorKind::Unavailable,
                      trf("KVM_IRQFD for IRQ {} failed: {}; run with --irqchip vmm", gsi, strerror(errno)));
  return event;
}

Result<Fd> Vm::ioeventfd(uint64_t gpa, uint32_t len, uint64_t value) {
  Fd event(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return os_error("eventfd");
  if (kvm_.check_extension(KVM_CAP_IOEVENTFD) <= 0)
    return make_error(ErrorKind::Unavailable, tr("this KVM has no KVM_CAP_IOEVENTFD"));
  struct kvm_ioeventfd req {};
  req.addr = gpa;
  req.len = len;
  req.datamatch = value;
  req.fd = event.get();
  req.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  if (ioctl(vm_.get(), KVM_IOEVENTFD, &req) < 0)
    return make_error(ErrorKind::Unavailable, trf("KVM_IOEVENTFD at {:#x} failed: {}", gpa, strerror(errno)));
  return event;
}

void Vm::remove_ioeventfd(const Fd& fd, uint64_t gpa, uint32_t len, uint64_t value) {
  struct kvm_ioeventfd req {};
  req.addr = gpa;
  req.len = len;
  req.datamatch = value;
  req.fd = fd.get();
  req.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_DEASSIGN;
  (void)ioctl(vm_.get(), KVM_IOEVENTFD, &req);
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
  if (ioctl(kvm_.fd(), abi::kGetSupportedCpuid, buf.data()) < 0) return os_error("KVM_GET_SUPPORTED_CPUID");
  set_apic_id(buf, id);
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
  TRY(get_sregs(s));
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
  TRY(set_sregs(s));
  struct kvm_regs r {};
  r.rip = boot.rip;
  r.rbx = boot.rbx;
  r.rflags = boot.rflags;
  return set_regs(r);
}

Result<GuestRegs> Vcpu::regs(bool via_ioctl) const {
  struct kvm_regs r;
  struct kvm_sregs s;
  if (sync_regs_ && !via_ioctl) {
    r = run_->s.regs.regs;
    s = run_->s.regs.sregs;
  } else {
    TRY(get_regs(r));
    TRY(get_sregs(s));
  }
  return to_guest_regs(r, s);
}

Status Vcpu::set_single_step(bool on) {
  struct kvm_guest_debug dbg {};
  dbg.control = on ? (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP) : 0;
  if (ioctl(fd(), KVM_SET_GUEST_DEBUG, &dbg) < 0) return os_error("KVM_SET_GUEST_DEBUG");
  return ok_status();
}

Result<Entry> Vcpu::enter() {
  if (ioctl(fd(), KVM_RUN, 0) == 0) return Entry::Exited;
  if (errno == EINTR || errno == EAGAIN) {
    run_->immediate_exit = 0;
    return Entry::Interrupted;
  }
  return os_error("KVM_RUN");
}

Status Vcpu::get_regs(struct kvm_regs& regs) const {
  if (ioctl(fd(), KVM_GET_REGS, &regs) < 0) return os_error("KVM_GET_REGS");
  return ok_status();
}

Status Vcpu::set_regs(const struct kvm_regs& regs) {
  if (ioctl(fd(), KVM_SET_REGS, &regs) < 0) return os_error("KVM_SET_REGS");
  return ok_status();
}

Status Vcpu::get_sregs(struct kvm_sregs& sregs) const {
  if (ioctl(fd(), KVM_GET_SREGS, &sregs) < 0) return os_error("KVM_GET_SREGS");
  return ok_status();
}

Status Vcpu::set_sregs(const struct kvm_sregs& sregs) {
  if (ioctl(fd(), KVM_SET_SREGS, &sregs) < 0) return os_error("KVM_SET_SREGS");
  return ok_status();
}

// struct kvm_msrs with one entry, laid out with the C sizes (kvm_abi.h).
Result<uint64_t> Vcpu::msr(uint32_t index) const {
  alignas(8) uint8_t buf[abi::kMsrsHeader + sizeof(struct kvm_msr_entry)] = {};
  const uint32_t nmsrs = 1;
  std::memcpy(buf, &nmsrs, sizeof nmsrs);
  struct kvm_msr_entry entry {};
  entry.index = index;
  std::memcpy(buf + abi::kMsrsHeader, &entry, sizeof entry);
  int got = ioctl(fd(), abi::kGetMsrs, buf);
  if (got < 0) return os_error("KVM_GET_MSRS");
  if (got != 1) return make_error(ErrorKind::Unavailable, trf("KVM has no MSR {:#x} for this vCPU", index));
  std::memcpy(&entry, buf + abi::kMsrsHeader, sizeof entry);
  return static_cast<uint64_t>(entry.data);
}

Status Vcpu::set_msr(uint32_t index, uint64_t value) {
  alignas(8) uint8_t buf[abi::kMsrsHeader + sizeof(struct kvm_msr_entry)] = {};
  const uint32_t nmsrs = 1;
  std::memcpy(buf, &nmsrs, sizeof nmsrs);
  struct kvm_msr_entry entry {};
  entry.index = index;
  entry.data = value;
  std::memcpy(buf + abi::kMsrsHeader, &entry, sizeof entry);
  int set = ioctl(fd(), abi::kSetMsrs, buf);
  if (set < 0) return os_error("KVM_SET_MSRS");
  if (set != 1) return make_error(ErrorKind::Unavailable, fmt::format("KVM refused MSR {:#x} for this vCPU", index));
  return ok_status();
}

Status Vcpu::get_fpu(struct kvm_fpu& fpu) const {
  if (ioctl(fd(), KVM_GET_FPU, &fpu) < 0) return os_error("KVM_GET_FPU");
  return ok_status();
}

Status Vcpu::set_fpu(const struct kvm_fpu& fpu) {
  if (ioctl(fd(), KVM_SET_FPU, &fpu) < 0) return os_error("KVM_SET_FPU");
  return ok_status();
}

Status Vcpu::interrupt(uint8_t vector) {
  struct kvm_interrupt irq {};
  irq.irq = vector;
  if (ioctl(fd(), KVM_INTERRUPT, &irq) < 0) return os_error("KVM_INTERRUPT");
  return ok_status();
}

Result<bool> Vcpu::parked_in_hlt() const {
  struct kvm_mp_state mp {};
  if (ioctl(fd(), KVM_GET_MP_STATE, &mp) < 0) return os_error("KVM_GET_MP_STATE");
  return mp.mp_state == KVM_MP_STATE_HALTED;
}

Result<Fd> Vcpu::stats_fd() const {
  int fd = ioctl(this->fd(), KVM_GET_STATS_FD, nullptr);
  if (fd < 0) return make_error(ErrorKind::Unavailable, trf("KVM_GET_STATS_FD failed: {}", strerror(errno)));
  return Fd(fd);
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
