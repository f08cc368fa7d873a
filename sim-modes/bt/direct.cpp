// direct.cpp — the world switch and the KVM side of direct execution.
#include "direct.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "bt_quirks.h"
#include "kvm/kick.h"
#include "ringscope/arch/transitions.h"
#include "ringscope/backend.h"
#include "ringscope/paging.h"

namespace ringscope::bt {

namespace {
constexpr uint64_t kMonitorGpaMin = 1ull << 32;  // above every MMIO window below 4 GiB
constexpr uint32_t kMonitorSlot = 1;             // KVM memory slot (guest RAM is slot 0)
constexpr uint64_t kRflagsFixed = 0x2;
// SYSCALL's RFLAGS mask in the monitor: IF, TF, DF, NT, AC, as a kernel's.
constexpr uint64_t kFmask = 0x200 | 0x100 | 0x400 | 0x4000 | 0x40000;
constexpr uint64_t kEferSce = 1;

// A data segment register in 64-bit mode: only the selector (and for FS and
// GS the base) matter; the attributes are what a flat ring-3 data descriptor gives.
void data_segment(uint16_t selector, uint64_t base, struct kvm_segment& k) {
  std::memset(&k, 0, sizeof k);
  k.selector = selector;
  k.base = base;
  k.limit = 0xffffffff;
  k.type = 3;
  k.s = 1;
  k.dpl = selector & 3;
  k.present = selector > 3;
  k.db = 1;
  k.g = 1;
  k.unusable = !k.present;
}

struct kvm_segment monitor_segment(uint16_t selector, bool code) {
  struct kvm_segment k {};
  k.selector = selector;
  k.limit = 0xffffffff;
  k.type = code ? 0xb : 0x3;
  k.s = 1;
  k.present = 1;
  k.l = code;
  k.db = !code;
  k.g = 1;
  return k;
}

constexpr int kXmm[16] = {UC_X86_REG_XMM0,  UC_X86_REG_XMM1,  UC_X86_REG_XMM2,  UC_X86_REG_XMM3,
                          UC_X86_REG_XMM4,  UC_X86_REG_XMM5,  UC_X86_REG_XMM6,  UC_X86_REG_XMM7,
                          UC_X86_REG_XMM8,  UC_X86_REG_XMM9,  UC_X86_REG_XMM10, UC_X86_REG_XMM11,
                          UC_X86_REG_XMM12, UC_X86_REG_XMM13, UC_X86_REG_XMM14, UC_X86_REG_XMM15};
constexpr int kGprs[16] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
                           UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP,
                           UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                           UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
__u64* gpr_slots(struct kvm_regs& r, int i) {
  __u64* p[16] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rbp, &r.rsp,
                  &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
  return p[i];
}

// The guest's paging structures as KVM would shadow them (FNV-1a over every
// table reachable from CR3, accessed and dirty bits masked: the CPU sets those).
uint64_t fingerprint(const GuestMemory& ram, uint64_t table, int level, uint64_t h) {
  constexpr uint64_t kAddr = 0x000ffffffffff000ull;
  uint64_t e[512];
  if (!ram.contains(table & kAddr, 4096)) return h;
  ram.read(table & kAddr, e, sizeof e);
  for (int i = 0; i < 512; i++) {
    uint64_t v = e[i] & ~0x60ull;
    h = (h ^ v) * 0x100000001b3ull;
    bool present = v & 1, huge = level < 4 && level > 1 && (v & 0x80);
    if (present && level > 1 && !huge) h = fingerprint(ram, v, level - 1, h);
  }
  return h;
}
}  // namespace

Result<std::unique_ptr<DirectExecution>> DirectExecution::create(Machine& machine) {
  kvm::install_kick_handler();
  std::unique_ptr<DirectExecution> d(new DirectExecution(machine));
  TRY_ASSIGN(d->vm_, kvm::Vm::create());
  TRY(d->vm_->set_memory(machine.memory()));
  if (!d->monitor_.host()) return make_error(ErrorKind::Internal, "cannot allocate the monitor's pages");
  uint64_t gpa = std::max<uint64_t>(kMonitorGpaMin, (machine.memory().size() + (1ull << 30) - 1) & ~((1ull << 30) - 1));
  d->monitor_.set_gpa(gpa);
  TRY(d->vm_->set_memory_slot(kMonitorSlot, gpa, d->monitor_.host(), MonitorPages::kBytes));
  TRY_ASSIGN(d->vcpu_, d->vm_->create_vcpu(0));
  d->vcpu_->stop_syncing_regs();
  TRY(d->vcpu_->set_msr(arch::kMsrStar, uint64_t(kMonitorCs) << 32));
  TRY(d->vcpu_->set_msr(arch::kMsrFmask, kFmask));
  return d;
}

emulation::Ring3Exit DirectExecution::stop(RunEndReason end, std::string message) {
  emulation::Ring3Exit x;
  x.kind = emulation::Ring3Exit::Kind::Stop;
  x.stop.end = end;
  x.stop.message = std::move(message);
  cause_ = SwitchCause::Stop;
  return x;
}

// KVM shadows the guest's page tables (PVM, and VT-x without EPT) and
// caches translations; the translator changed them through the host
// mapping, which KVM cannot see. Where they changed since KVM last ran the
// guest, dropping and re-adding guest RAM's memory slot makes KVM forget
// every shadow and cached translation (a CR3 load alone would not).
Status DirectExecution::flush_shadows() {
  TRY(vm_->set_memory_slot(0, 0, machine_.memory().host_base(), 0));
  TRY(vm_->set_memory(machine_.memory()));
  stats_.tlb_flushes++;
  return ok_status();
}

// Whether they changed: the monitor's trace of the page-table pages says so
// when it covers every table (`hint.complete`: a traced store changed an
// entry, or the guest is on another CR3, whose tables KVM's shadow was not
// built from). Otherwise — tables written through an address the trace
// does not hook, or too many to trace — the monitor walks them all and
// compares a fingerprint, which sees every change however it was made.
Status DirectExecution::flush_if_page_tables_changed(uint64_t cr3, PageTableHint hint) {
  uint64_t root = cr3 & ~0xfffull;
  if (hint.complete && seen_page_tables_) {
    if (hint.changed || root != entered_cr3_) TRY(flush_shadows());
    stats_.fingerprints_skipped++;
    fingerprint_stale_ = true;
    entered_cr3_ = root;
    return ok_status();
  }
  stats_.fingerprints++;
  uint64_t fp = fingerprint(machine_.memory(), cr3, 4, 0xcbf29ce484222325ull ^ root);
  if (seen_page_tables_ && (fp != page_tables_ || fingerprint_stale_)) TRY(flush_shadows());
  seen_page_tables_ = true;
  fingerprint_stale_ = false;
  page_tables_ = fp;
  entered_cr3_ = root;
  return ok_status();
}

Status DirectExecution::enter(emulation::UnicornCpu& cpu, const arch::CpuState& g, PageTableHint hint) {
  GuestMemory& ram = machine_.memory();
  TRY(flush_if_page_tables_changed(g.cr3, hint));
  TRY(monitor_.install(ram, g.cr3));
  TRY(monitor_.mirror_guest_tables(ram, g));
  if (lstar_slot_ != monitor_.slot()) {
    TRY(vcpu_->set_msr(arch::kMsrLstar, monitor_.syscall_entry()));
    lstar_slot_ = monitor_.slot();
  }
  struct kvm_regs r {};
  for (int i = 0; i < 16; i++) *gpr_slots(r, i) = cpu.reg(kGprs[i]);
  r.rsp = monitor_.push_entry_frame(g.rip, g.cs.selector, g.rflags, g.rsp, g.ss.selector);
  r.rip = monitor_.entry();
  r.rflags = kRflagsFixed;
  // Every field below is set each time; the rest (APIC base, LDT) never
  // changes, so KVM is asked for it once.
  if (!have_sregs_) {
    TRY(vcpu_->get_sregs(sregs_));
    have_sregs_ = true;
  }
  struct kvm_sregs& s = sregs_;
  s.cs = monitor_segment(kMonitorCs, true);
  s.ss = monitor_segment(kMonitorSs, false);
  data_segment(static_cast<uint16_t>(cpu.reg(UC_X86_REG_DS)), 0, s.ds);
  data_segment(static_cast<uint16_t>(cpu.reg(UC_X86_REG_ES)), 0, s.es);
  data_segment(static_cast<uint16_t>(cpu.reg(UC_X86_REG_FS)), cpu.reg(UC_X86_REG_FS_BASE), s.fs);
  data_segment(static_cast<uint16_t>(cpu.reg(UC_X86_REG_GS)), cpu.reg(UC_X86_REG_GS_BASE), s.gs);
  std::memset(&s.tr, 0, sizeof s.tr);
  s.tr.selector = kMonitorTr;
  s.tr.base = monitor_.tss();
  s.tr.limit = 0x67;
  s.tr.type = 0xb;  // busy 64-bit TSS
  s.tr.present = 1;
  std::memset(&s.ldt, 0, sizeof s.ldt);
  s.ldt.unusable = 1;
  s.gdt.base = monitor_.gdt();
  s.gdt.limit = 0xfff;
  s.idt.base = monitor_.idt();
  s.idt.limit = 0xfff;
  s.cr0 = g.cr0;
  s.cr2 = g.cr2;
  s.cr3 = g.cr3;
  s.cr4 = g.cr4;
  s.efer = g.efer | kEferSce;  // Unicorn drops SCE (unicorn_quirks.h); SYSCALL must reach the monitor
  std::memset(s.interrupt_bitmap, 0, sizeof s.interrupt_bitmap);
  TRY(vcpu_->set_sregs(s));
  TRY(vcpu_->set_regs(r));
  // SSE state: KVM is told only when the translator changed it since ring 3
  // last ran (the kernel rarely touches XMM registers).
  if (!have_fpu_) {
    TRY(vcpu_->get_fpu(fpu_));
    have_fpu_ = true;
  }
  struct kvm_fpu f = fpu_;
  for (int i = 0; i < 16; i++) uc_reg_read(cpu.uc(), kXmm[i], f.xmm[i]);
  uint32_t mxcsr = 0;
  uint16_t fcw = 0;
  uc_reg_read(cpu.uc(), UC_X86_REG_MXCSR, &mxcsr);
  uc_reg_read(cpu.uc(), UC_X86_REG_FPCW, &fcw);
  f.mxcsr = mxcsr;
  f.fcw = fcw;
  if (std::memcmp(&f, &fpu_, sizeof f) != 0) {
    TRY(vcpu_->set_fpu(f));
    fpu_ = f;
  }
  return ok_status();
}

void DirectExecution::arm_timer(uint64_t budget_ns) {
  if (!timer_made_) {
    struct sigevent ev {};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kvm::kKickSignal;
    ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) return;  // no timer: ring 3 runs until it traps
    timer_ = t;
    timer_made_ = true;
    kvm::accept_kicks();
  }
  if (budget_ns == ~0ull) return;
  struct itimerspec its {};
  uint64_t first = std::max<uint64_t>(budget_ns, 1000);
  its.it_value.tv_sec = time_t(first / 1'000'000'000);
  its.it_value.tv_nsec = long(first % 1'000'000'000);
  // Again every 200 µs: a signal that lands just before KVM_RUN is lost.
  its.it_interval.tv_nsec = 200'000;
  timer_settime(static_cast<timer_t>(timer_), 0, &its, nullptr);
}

void DirectExecution::disarm_timer() {
  if (!timer_made_) return;
  struct itimerspec its {};
  timer_settime(static_cast<timer_t>(timer_), 0, &its, nullptr);
}

emulation::Ring3Exit DirectExecution::run(emulation::UnicornCpu& cpu, uint64_t budget_ns, PageTableHint hint) {
  uint64_t t0 = monotonic_ns();
  stats_.entries++;
  arch::CpuState g = cpu.read_state();
  if (auto st = enter(cpu, g, hint); !st.ok()) {
    monitor_.remove(machine_.memory());
    return stop(RunEndReason::VmmError, st.error().message);
  }
  struct kvm_run* run = vcpu_->run();
  run->immediate_exit = 0;
  uint64_t t_in = monotonic_ns();
  stats_.switch_ns += t_in - t0;
  arm_timer(budget_ns);
  emulation::Ring3Exit x;
  for (;;) {
    auto entry = vcpu_->enter();
    stats_.kvm_exits++;
    if (!entry.ok()) {
      x = stop(RunEndReason::VmmError, entry.error().message);
      break;
    }
    if (*entry == kvm::Entry::Interrupted) {
      struct kvm_regs r {};
      struct kvm_sregs s {};
      if (!vcpu_->get_regs(r).ok() || !vcpu_->get_sregs(s).ok()) {
        x = stop(RunEndReason::VmmError, "cannot read the vCPU's registers after a kick");
        break;
      }
      bool in_monitor = monitor_.in_monitor(r.rip);
      if (in_monitor && r.rip != monitor_.entry() && !stop_.load(std::memory_order_relaxed)) continue;
      // A kick in ring 3 (or before the monitor's iretq ran): the timer is
      // due or the watchdog fired. The translator takes it from here.
      disarm_timer();
      x.kind = emulation::Ring3Exit::Kind::Resume;
      cause_ = SwitchCause::Interrupt;
      rip_ = in_monitor ? monitor_.entry_frame().rip : r.rip;
      if (in_monitor) {
        TrapFrame f = monitor_.entry_frame();
        r.rip = f.rip, r.rflags = f.rflags, r.rsp = f.rsp;
      }
      g.rip = r.rip, g.rsp = r.rsp, g.rflags = r.rflags, g.rcx = r.rcx, g.r11 = r.r11;
      for (int i = 0; i < 16; i++) cpu.set_reg(kGprs[i], *gpr_slots(r, i));
      break;
    }
    if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
        (run->io.port == kTrapPort || run->io.port == kSyscallPort)) {
      // The registers are consistent only once KVM has finished the OUT
      // (KVM API: re-enter with immediate_exit set).
      bool trap = run->io.port == kTrapPort;
      run->immediate_exit = 1;
      (void)vcpu_->enter();
      run->immediate_exit = 0;
      disarm_timer();
      struct kvm_regs r {};
      struct kvm_sregs s {};
      if (!vcpu_->get_regs(r).ok() || !vcpu_->get_sregs(s).ok()) {
        x = stop(RunEndReason::VmmError, "cannot read the vCPU's registers after a trap");
        break;
      }
      for (int i = 0; i < 16; i++) cpu.set_reg(kGprs[i], *gpr_slots(r, i));
      if (!trap) {
        // SYSCALL reached the monitor in ring 0 (VT-x, AMD-V): RCX and R11
        // hold the return RIP and RFLAGS, RSP is still the user's.
        x.kind = emulation::Ring3Exit::Kind::Syscall;
        x.syscall_rip = r.rcx - 2;
        g.rip = r.rcx, g.rflags = r.r11, g.rsp = r.rsp, g.rcx = r.rcx, g.r11 = r.r11;
        cause_ = SwitchCause::Syscall;
        rip_ = x.syscall_rip;
        break;
      }
      TrapFrame f = monitor_.trap_frame();
      if ((f.cs & 3) != 3) {
        x = stop(RunEndReason::VmmError,
                 fmt::format("the monitor's own code at {:#x} took vector {} (error code {:#x}) while entering ring "
                             "3 at {:#x}; the guest's user segments or page tables do not allow it",
                             f.rip, f.vector, f.error_code, g.rip));
        break;
      }
      g.rip = f.rip, g.rsp = f.rsp, g.rflags = f.rflags, g.rcx = r.rcx, g.r11 = r.r11;
      cpu.set_reg(UC_X86_REG_RSP, f.rsp);
      rip_ = f.rip;
      vector_ = static_cast<uint8_t>(f.vector);
      // PVM (pvm_quirks.h style, bt_quirks.h): SYSCALL stays in ring 3 and
      // jumps to LSTAR, where ring 3 faults on the monitor's page.
      if (quirks::syscall_left_in_ring3(f.rip, monitor_.syscall_entry())) {
        stats_.pvm_syscall_fixups++;
        x.kind = emulation::Ring3Exit::Kind::Syscall;
        x.syscall_rip = r.rcx - 2;
        g.rip = r.rcx, g.rflags = r.r11;
        cause_ = SwitchCause::Syscall;
        rip_ = x.syscall_rip;
        break;
      }
      x.kind = emulation::Ring3Exit::Kind::Event;
      arch::InterruptRequest& req = x.event;
      req.vector = static_cast<uint8_t>(f.vector);
      req.return_rip = req.instruction_rip = f.rip;
      req.error_code = static_cast<uint32_t>(f.error_code);
      req.cr2 = s.cr2;
      req.source = arch::EventSource::Exception;
      cause_ = SwitchCause::Exception;
      PagingState paging{g.cr0, g.cr3, g.cr4, g.efer};
      if (auto n = quirks::int_raised_as_ud(machine_.memory(), paging, f.vector, f.rip)) {
        // PVM: `int n` from ring 3 arrives as #UD; the architecture delivers vector n.
        stats_.pvm_int_fixups++;
        req.vector = *n;
        req.source = arch::EventSource::SoftInt;
        req.instruction_rip = f.rip;
        req.return_rip = f.rip + 2;
        cause_ = SwitchCause::SoftInt;
        vector_ = *n;
      } else if (f.vector >= 32) {
        req.source = arch::EventSource::SoftInt;  // nothing is injected: only `int n` reaches these
        req.instruction_rip = f.rip - 2;
        cause_ = SwitchCause::SoftInt;
      }
      rip_ = req.instruction_rip;  // the instruction that trapped, on every host
      break;
    }
    x = stop(RunEndReason::InternalError,
             fmt::format("ring 3 under KVM stopped with KVM exit reason {} at a place the monitor does not expect",
                         run->exit_reason));
    break;
  }
  disarm_timer();
  uint64_t t_out = monotonic_ns();
  if (x.kind != emulation::Ring3Exit::Kind::Stop) {
    struct kvm_sregs s {};
    if (vcpu_->get_sregs(s).ok()) {
      cpu.set_reg(UC_X86_REG_FS_BASE, s.fs.base);
      cpu.set_reg(UC_X86_REG_GS_BASE, s.gs.base);
    }
    struct kvm_fpu& f = fpu_;
    if (vcpu_->get_fpu(f).ok()) {
      for (int i = 0; i < 16; i++) uc_reg_write(cpu.uc(), kXmm[i], f.xmm[i]);
      uint32_t mxcsr = f.mxcsr;
      uint16_t fcw = f.fcw;
      uc_reg_write(cpu.uc(), UC_X86_REG_MXCSR, &mxcsr);
      uc_reg_write(cpu.uc(), UC_X86_REG_FPCW, &fcw);
    }
    if (auto st = cpu.write_state(g); !st.ok()) x = stop(RunEndReason::VmmError, st.error().message);
  }
  monitor_.remove(machine_.memory());
  uint64_t t1 = monotonic_ns();
  stats_.switch_ns += t1 - t_out;
  stats_.direct_ns += t1 - t0;
  timing_ = {t0, t_in - t0, t_out, t1 - t_out};
  x.direct_ns = t1 - t0;
  x.kvm_exits = 1;  // the trap or kick that ended the stretch (a trampoline's completion re-entry is not an exit)
  return x;
}

}  // namespace ringscope::bt
