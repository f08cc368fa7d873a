// irqchip_probe.cpp — a throwaway VM that checks the in-kernel irqchip and
// irqfd path on this host (see irqchip_probe.h).
//
// The host side, step by step:
//   1. /dev/kvm -> KVM_CREATE_VM -> 64 KiB of guest RAM at guest address 0.
//   2. KVM_CREATE_IRQCHIP: from now on KVM emulates the two 8259A PICs, the
//      IOAPIC and each vCPU's local APIC inside the kernel. It must come before
//      KVM_CREATE_VCPU (the vCPU gets its LAPIC when it is created).
//   3. KVM_CREATE_VCPU, mmap its kvm_run area, start it in 16-bit real mode at
//      0000:1000. KVM_IRQFD ties an eventfd to GSI 5 (the PIC's input IRQ 5).
//   4. The guest programs the PIC: those `out`s to ports 0x20/0x21 are
//      handled inside the kernel, no exit. It then says "ready" with
//      `out 0x99`, a port nothing in the kernel claims: KVM_EXIT_IO.
//   5. The host writes 1 to the eventfd. That is all a device thread has to
//      do to raise an interrupt: no ioctl, no vCPU to stop.
//   6. KVM_RUN again. The guest does `sti; hlt`. With an in-kernel irqchip
//      `hlt` does not exit: the vCPU sleeps in the kernel until the PIC has an
//      interrupt for it. The handler sends EOI and reports with `out 0x98`.
// The watchdog every run has (ringscope::supervise) bounds all of this: after
// 500 ms it sets kvm_run.immediate_exit and signals the vCPU thread, so a
// KVM_RUN that never returns gives EINTR. Every ioctl goes through the KVM
// objects (kvm_vm.h), as the VMM's own do.
#include "irqchip_probe.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>

#include "kick.h"
#include "kvm_vm.h"
#include "ringscope/supervisor.h"

namespace ringscope::kvm {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kBudget = std::chrono::milliseconds(500);
constexpr uint32_t kIrq = 5;                              // the GSI we raise = the PIC's IRQ 5
constexpr uint8_t kVector = 0x20 + kIrq;                  // ICW2 below puts IRQ 0 at vector 0x20
constexpr uint16_t kPortReady = 0x99, kPortTaken = 0x98;  // used by the bytes below
constexpr size_t kRamSize = 64 * 1024;
constexpr uint64_t kCodeAt = 0x1000, kHandlerAt = 0x1100, kStackTop = 0x8000;

// The guest's program, 16-bit real mode, at 0000:1000.
constexpr uint8_t kProgram[] = {
    0xfa,        // cli
    0xb0, 0x11,  // mov al, 0x11   ICW1: edge triggered, cascaded, ICW4 follows
    0xe6, 0x20,  // out 0x20, al
    0xb0, 0x20,  // mov al, 0x20   ICW2: IRQ 0..7 arrive as vectors 0x20..0x27
    0xe6, 0x21,  // out 0x21, al
    0xb0, 0x04,  // mov al, 0x04   ICW3: the slave PIC hangs on IRQ 2
    0xe6, 0x21,  // out 0x21, al
    0xb0, 0x01,  // mov al, 0x01   ICW4: 8086 mode
    0xe6, 0x21,  // out 0x21, al
    0xb0, 0xdf,  // mov al, 0xdf   OCW1: mask every line but IRQ 5
    0xe6, 0x21,  // out 0x21, al
    0xe6, 0x99,  // out 0x99, al   "ready" (exits to the host)
    0xfb,        // sti
    0xf4,        // hlt            (the jmp comes back here)
    0xeb, 0xfd,  // jmp $-1        (back to the hlt)
};
// The handler of vector 0x25, at 0000:1100.
constexpr uint8_t kHandler[] = {
    0xb0, 0x20,  // mov al, 0x20   OCW2: non-specific end of interrupt
    0xe6, 0x20,  // out 0x20, al
    0xe6, 0x98,  // out 0x98, al   "taken" (exits to the host)
    0xcf,        // iret
};

// A mapping that unmaps itself.
class Mapping {
 public:
  Mapping(void* p, size_t n) : p_(p == MAP_FAILED ? nullptr : p), n_(n) {}
  ~Mapping() {
    if (p_) munmap(p_, n_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  void* get() const { return p_; }

 private:
  void* p_;
  size_t n_;
};

// What the vCPU thread and the watchdog share: the run area, while it is
// mapped (the watchdog sets its immediate_exit), and whether the watchdog
// has kicked (a signal before that is somebody else's).
struct Watch {
  std::mutex mu;
  struct kvm_run* run = nullptr;
  std::atomic<bool> kicked{false};
};

// Shows the run area to the watchdog for as long as it is mapped.
struct Published {
  Watch& w;
  Published(Watch& watch, struct kvm_run* run) : w(watch) {
    std::lock_guard lk(w.mu);
    w.run = run;
  }
  ~Published() {
    std::lock_guard lk(w.mu);
    w.run = nullptr;
  }
};

IrqchipProbe fail(std::string detail) { return {false, std::move(detail)}; }
IrqchipProbe fail_on(const Error& e) { return fail(e.message + ", so the in-kernel irqchip could not be tried"); }
// TRY for the probe: a failed step is a sentence in the probe's answer.
#define PROBE_TRY(expr)                                             \
  do {                                                              \
    auto probe_status_ = (expr);                                    \
    if (!probe_status_.ok()) return fail_on(probe_status_.error()); \
  } while (0)

// Where the guest stands, for the sentence when it got stuck.
std::string guest_state(const Vcpu& vcpu, const Vm& vm) {
  std::string s;
  struct kvm_regs r;
  if (vcpu.get_regs(r).ok()) s = fmt::format("RIP {:#x}, IF={}", r.rip, (r.rflags >> 9) & 1);
  auto pic = vm.master_pic_state();
  if (pic.ok()) s += "; " + pic.value();
  return s;
}

// The probe proper; runs on its own thread, which the watchdog may signal.
IrqchipProbe attempt(Watch& w) {
  auto created = Vm::create();  // honours RINGSCOPE_NO_KVM
  if (!created.ok()) return fail(created.error().message);
  Vm& vm = *created.value();
  if (vm.system().check_extension(KVM_CAP_IRQCHIP) <= 0)
    return fail(
        "this host's KVM has no in-kernel irqchip (KVM_CAP_IRQCHIP is absent), so a VMM must emulate "
        "the PIC itself and inject with KVM_INTERRUPT");
  if (vm.system().check_extension(KVM_CAP_IRQFD) <= 0)
    return fail(
        "this host's KVM has an in-kernel irqchip but no irqfd (KVM_CAP_IRQFD is absent), so devices "
        "must raise lines with the KVM_IRQ_LINE ioctl instead of an eventfd");

  // Guest RAM: the program, its handler, and the real-mode IVT entry for
  // vector 0x25 (4 bytes at 0x25 * 4 = 0x94: offset, then segment).
  Mapping ram(mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), kRamSize);
  if (!ram.get()) return fail(fmt::format("mmap of 64 KiB of guest RAM failed: {}", strerror(errno)));
  auto* mem = static_cast<uint8_t*>(ram.get());
  std::memcpy(mem + kCodeAt, kProgram, sizeof kProgram);
  std::memcpy(mem + kHandlerAt, kHandler, sizeof kHandler);
  const uint16_t ivt_entry[2] = {static_cast<uint16_t>(kHandlerAt), 0};
  std::memcpy(mem + kVector * 4, ivt_entry, sizeof ivt_entry);
  PROBE_TRY(vm.set_memory(mem, kRamSize));
  // VT-x without "unrestricted guest" runs real mode in vm86 and needs three
  // pages for a TSS; give it the address QEMU uses (harmless elsewhere).
  PROBE_TRY(vm.set_tss_addr(0xfffbd000UL));

  // The interrupt controllers move into the kernel, before any vCPU exists.
  // (No PIT: nothing here needs a timer.)
  auto chip = vm.create_irqchip(Vm::Pit::None);
  if (!chip.ok()) return fail(chip.error().message);

  auto made = vm.create_vcpu(0);
  if (!made.ok()) return fail_on(made.error());
  Vcpu& vcpu = *made.value();
  struct kvm_run* run = vcpu.run();
  Published published(w, run);

  // Real mode, CS = 0 (base 0), IP = 0x1000, a stack below 0x8000.
  struct kvm_sregs sregs;
  PROBE_TRY(vcpu.get_sregs(sregs));
  sregs.cs.selector = 0;
  sregs.cs.base = 0;
  PROBE_TRY(vcpu.set_sregs(sregs));
  struct kvm_regs regs {};
  regs.rip = kCodeAt;
  regs.rsp = kStackTop;
  regs.rflags = 0x2;  // bit 1 is always set; IF clear
  PROBE_TRY(vcpu.set_regs(regs));

  // The device's doorbell: writing to this eventfd raises GSI 5.
  auto irqfd = vm.irqfd(kIrq);
  if (!irqfd.ok()) return fail_on(irqfd.error());
  const Fd& irq_event = irqfd.value();
  // (Closing the VM releases the irqfd; KVM_IRQFD_FLAG_DEASSIGN would too.)

  bool raised = false;
  Clock::time_point raised_at;
  for (;;) {
    auto entry = vcpu.enter();
    if (!entry.ok()) return fail_on(entry.error());
    if (entry.value() == Entry::Interrupted) {
      if (!w.kicked) continue;  // somebody else's signal
      std::string where = guest_state(vcpu, vm);
      if (!raised)
        return fail(fmt::format("the guest never reached its \"ready\" out to port {:#x} within {} ms ({})", kPortReady,
                                kBudget.count(), where));
      return fail(
          fmt::format("IRQ {} was raised through an irqfd but the guest did not take it within {} ms, "
                      "the vCPU stayed halted in KVM ({})",
                      kIrq, kBudget.count(), where));
    }
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        bool out = run->io.direction == KVM_EXIT_IO_OUT;
        if (out && run->io.port == kPortReady && !raised) {
          const uint64_t one = 1;
          raised_at = Clock::now();
          if (write(irq_event.get(), &one, sizeof one) != sizeof one)
            return fail(fmt::format("the write to the irqfd's eventfd failed: {}", strerror(errno)));
          raised = true;
          continue;
        }
        if (out && run->io.port == kPortTaken && raised) {
          auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - raised_at).count();
          return {true,
                  fmt::format("the guest took IRQ {} from an irqfd through KVM's in-kernel 8259A in {} us", kIrq, us)};
        }
        return fail(
            fmt::format("the guest made an unexpected {} of port {:#x} ({} the interrupt was raised), "
                        "which KVM passed to user space",
                        out ? "out" : "in", run->io.port, raised ? "after" : "before"));
      }
      case KVM_EXIT_HLT:
        return fail(
            "the guest's hlt exited to user space (KVM_EXIT_HLT) although KVM_CREATE_IRQCHIP succeeded, "
            "so the in-kernel irqchip is not in charge of halted vCPUs");
      case KVM_EXIT_INTERNAL_ERROR:
        return fail(fmt::format("KVM stopped the guest with an internal error (suberror {}) at {}",
                                run->internal.suberror, guest_state(vcpu, vm)));
      case KVM_EXIT_SHUTDOWN:
        return fail(fmt::format("the guest shut down (a triple fault) {} the interrupt was raised",
                                raised ? "after" : "before"));
      case KVM_EXIT_FAIL_ENTRY:
        return fail(fmt::format("KVM could not enter the guest (hardware entry failure reason {:#x})",
                                run->fail_entry.hardware_entry_failure_reason));
      default: return fail(fmt::format("the guest stopped with an unexpected exit reason {}", run->exit_reason));
    }
  }
}

}  // namespace

IrqchipProbe probe_in_kernel_irqchip() {
  try {
    install_kick_handler();
    Watch w;
    IrqchipProbe result;
    // The shared watchdog (core/src/supervisor.cpp), as around every run:
    // past the budget it stops the vCPU every 20 ms until its thread ends.
    RunOptions options;
    options.limits.wall_ms = static_cast<uint64_t>(kBudget.count());
    SupervisedLoop loop;
    loop.run = [&] {
      accept_kicks();  // the kick must reach this thread, whatever mask the caller had
      try {
        result = attempt(w);
      } catch (...) {
        result = fail("the probe ran out of memory");
      }
      return RunResult{};
    };
    loop.stop = [&](std::thread::native_handle_type t) {
      w.kicked = true;
      std::lock_guard lk(w.mu);
      kick_vcpu(w.run, t);
    };
    loop.progress = [] { return std::string(); };
    supervise(options, loop);
    return result;
  } catch (...) {
    return fail("the probe could not start its vCPU thread");
  }
}

}  // namespace ringscope::kvm
