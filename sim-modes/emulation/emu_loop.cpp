// emu_loop.cpp — run Unicorn, stop at what it cannot do, do it, go on.
//
// [SECTION] hooks: devices      port I/O and MMIO to the Machine's bus
// [SECTION] hooks: watching     blocks / instructions: counts, steps, returns
// [SECTION] ring transitions    exceptions, int n, SYSCALL through core/src/arch
// [SECTION] the VT-x model      what would have exited (core/src/vmx), and watching sensitive instructions
// [SECTION] the loop            start, stop, decide, record the end
#include "emu_loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ringscope/arch/msr.h"
#include "ringscope/hypercalls.h"
#include "ringscope/machine.h"
#include "ringscope/supervisor.h"

namespace ringscope::emulation {

namespace {
constexpr uint64_t kUntilNowhere = ~0ull;          // uc_emu_start's `until`: an address no code reaches
constexpr uint64_t kRflagsIf = 1ull << 9;
constexpr uint64_t kNever = ~0ull;
constexpr uint64_t kMmioTop = 1ull << 32;           // non-RAM physical addresses below 4 GiB are MMIO
EmuLoop& self_of(void* p) { return *static_cast<EmuLoop*>(p); }

// The guest's registers for a device that needs them (the hypercall
// doorbell, DeviceContext::regs): Unicorn's own, read and written in the
// I/O hook, before the `out` completes.
class UnicornRegisters final : public VcpuRegisters {
 public:
  UnicornRegisters(UnicornCpu& cpu, uint64_t rip) : cpu_(cpu), rip_(rip) {}
  uint64_t get(Gpr r) override { return cpu_.reg(id(r)); }
  void set(Gpr r, uint64_t value) override { cpu_.set_reg(id(r), value); }
  uint64_t rip() override { return rip_; }
  uint8_t cpl() override { return cpu_.cpl(); }
  Source observed_by() const override { return Source::Emulator; }

 private:
  static int id(Gpr r) {
    switch (r) {
      case Gpr::Rax: return UC_X86_REG_RAX;
      case Gpr::Rbx: return UC_X86_REG_RBX;
      case Gpr::Rcx: return UC_X86_REG_RCX;
      case Gpr::Rdx: return UC_X86_REG_RDX;
      case Gpr::Rsi: return UC_X86_REG_RSI;
      case Gpr::Rdi: return UC_X86_REG_RDI;
    }
    return UC_X86_REG_RAX;
  }
  UnicornCpu& cpu_;
  uint64_t rip_;
};
}  // namespace

EmuLoop::EmuLoop(Machine& machine, UnicornCpu& cpu, EventSink& sink, const RunOptions& options, EmulationOptions emu)
    : machine_(machine), cpu_(cpu), sink_(sink), options_(options), emu_(emu) {
  tracing_ = options.level != TraceLevel::Off;
  ctx_.memory = &machine.memory();
  ctx_.sink = tracing_ ? &sink : nullptr;
  ctx_.vcpu = 0;
  ctx_.now_ns = &monotonic_ns;
  ctx_.stop_flag = &watchdog_;     // a device stops mid-drain when the wall-time watchdog fires
  deferred_.set_overflow(&sink_);  // a burst past its bound goes to the trace at once
  if (tracing_) {
    vmx::Profile profile = options.vmx_profile ? *options.vmx_profile : vmx::preset("kvm-default").value();
    model_ = std::make_unique<vmx::VmxModel>(std::move(profile), sink, 0);
    ctx_.sink = &deferred_;  // drained after each modelled exit
  }
}

Status EmuLoop::install_hooks() {
  uc_engine* uc = cpu_.uc();
  uc_hook h;
  // The PIT counts guest time from here on (docs/interrupts.md).
  machine_.pit().set_clock([this] { return guest_ns(); });
  auto check = [](uc_err err, const char* what) -> Status {
    if (err != UC_ERR_OK) return make_error(ErrorKind::Internal, fmt::format("cannot add the {}: {}", what, uc_error_text(err)));
    return ok_status();
  };
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_in), this, 1, 0, UC_X86_INS_IN), "IN hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_out), this, 1, 0, UC_X86_INS_OUT), "OUT hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_syscall), this, 1, 0, UC_X86_INS_SYSCALL),
            "SYSCALL hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_intr), this, 1, 0), "interrupt hook"));
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&on_unmapped), this, 1, 0),
            "unmapped-memory hook"));
  bool per_insn = options_.level == TraceLevel::Full ||
                  (options_.level == TraceLevel::Exits && emu_.granularity == HookGranularity::Instruction);
  per_insn_ = per_insn;
  // RDMSR/WRMSR must fault on an MSR the CPU lacks: per instruction,
  // on_code sees them; otherwise the kernel's own are watched.
  if (!per_insn) TRY(watch_kernel_sensitive());
  if (model_) {
    TRY(check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_cpuid), this, 1, 0, UC_X86_INS_CPUID),
              "CPUID hook"));
    // Shadow paging's cost, modelled only where it exists: with EPT off,
    // a write hook on every guest store (the model says which land in a
    // page table). With EPT on nothing is added, and stores stay on
    // Unicorn's fast path.
    if (model_->track_page_tables(machine_.memory())) {
      ram_size_ = machine_.memory().size();
      TRY(check(uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&on_store), this, 1, 0),
                "page-table write hook"));
    }
  }
  if (per_insn)
    TRY(check(uc_hook_add(uc, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_code), this, 1, 0), "instruction hook"));
  // At every level: the block hook counts instructions (guest time) and is
  // where external interrupts are taken.
  TRY(check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&on_block), this, 1, 0), "block hook"));
  // Every physical address that is not RAM is MMIO, as under KVM: the bus
  // decides who (if anyone) answers.
  uint64_t ram = machine_.memory().size();
  if (ram < kMmioTop)
    TRY(check(uc_mmio_map(uc, ram, kMmioTop - ram, &on_mmio_read, this, &on_mmio_write, this), "MMIO window"));
  return ok_status();
}

void EmuLoop::request_stop() {
  watchdog_.store(true, std::memory_order_relaxed);
  uc_emu_stop(cpu_.uc());
}

void EmuLoop::stop_emulation(RunEndReason reason, std::string message) {
  if (!stopping_) {
    stopping_ = true;
    stop_result_ = RunResult{};
    stop_result_.end = reason;
    stop_result_.message = std::move(message);
  }
  uc_emu_stop(cpu_.uc());
}

// ---- [SECTION] hooks: devices ---------------------------------------------

uint64_t EmuLoop::port_access(uint16_t port, uint8_t size, bool out, uint64_t value) {
  io_.store(io_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (tracing_) record_mode_change(monotonic_ns());
  vmx::GuestAction a;
  if (model_) {
    a = io_action(port, size, out);
    model_boundary(a);
  }
  // Unicorn reports each element of a REP OUTS as its own access; the
  // registers are offered to single ones only, as under KVM.
  UnicornRegisters regs(cpu_, model_ ? a.rip : cpu_.reg(UC_X86_REG_RIP));
  if (!(model_ && a.string && a.rep)) ctx_.regs = &regs;
  ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  if (out)
    machine_.bus().write(ctx_, AddressSpace::Pio, port, size, value, nullptr);
  else
    value = machine_.bus().read(ctx_, AddressSpace::Pio, port, size, nullptr);
  ctx_.regs = nullptr;
  if (model_) {
    a.value = value;
    model(a);
  }
  after_device_access();
  return value;
}

uint64_t EmuLoop::mmio_access(uint64_t gpa, uint8_t size, bool write, uint64_t value) {
  io_.store(io_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (model_ && model_->holding()) {
    model_->flush();
    deferred_.drain(sink_);
  }
  ctx_.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  if (write)
    machine_.bus().write(ctx_, AddressSpace::Mmio, gpa, size, value, nullptr);
  else
    value = machine_.bus().read(ctx_, AddressSpace::Mmio, gpa, size, nullptr);
  if (model_) {
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Mmio;
    a.gpa = gpa;
    a.size = size;
    a.write = write;
    a.value = value;
    a.rip = cpu_.reg(UC_X86_REG_RIP);
    a.cpl = cpu_.cpl();
    model(a);
  }
  after_device_access();
  return value;
}

// The same limits as the KVM backend: here every device access is what
// would have been a user-space exit there.
void EmuLoop::after_device_access() {
  if (ctx_.limit_hit) {  // inside one access, which is an exit under KVM
    stop_emulation(*ctx_.limit_hit, limit_inside_exit_message(*ctx_.limit_hit, options_.limits));
    return;
  }
  if (ctx_.stop_requested) {
    stop_emulation(RunEndReason::GuestExit, fmt::format("the guest reported exit status {}", ctx_.guest_status));
    stop_result_.guest_status = ctx_.guest_status;
    return;
  }
  uint64_t n = io_.load(std::memory_order_relaxed);
  if (n + faults_ >= options_.limits.max_exits)
    stop_emulation(RunEndReason::WatchdogExits,
                   fmt::format("the guest made {} device accesses and took {} exceptions and interrupts (each a VM "
                               "exit or an injection under KVM), the limit",
                               n, faults_));
  else if (machine_.console_bytes() > options_.limits.max_output_bytes)
    stop_emulation(RunEndReason::WatchdogOutput, fmt::format("the guest wrote more than {} bytes of console output, "
                                                             "the limit",
                                                             options_.limits.max_output_bytes));
  // The access may have raised an interrupt (a virtio completion, an EOI
  // letting the next one through, a PIT or PIC reprogrammed): the CPU takes
  // it at the next instruction boundary if IF is set; here, at the next
  // block boundary, where the block hook looks.
  else
    irq_look_ = true;
}

uint32_t EmuLoop::on_in(uc_engine*, uint32_t port, int size, void* p) {
  return static_cast<uint32_t>(self_of(p).port_access(static_cast<uint16_t>(port), static_cast<uint8_t>(size), false, 0));
}

void EmuLoop::on_out(uc_engine*, uint32_t port, int size, uint32_t value, void* p) {
  self_of(p).port_access(static_cast<uint16_t>(port), static_cast<uint8_t>(size), true, value);
}

uint64_t EmuLoop::on_mmio_read(uc_engine*, uint64_t offset, unsigned size, void* p) {
  EmuLoop& s = self_of(p);
  return s.mmio_access(s.machine_.memory().size() + offset, static_cast<uint8_t>(size), false, 0);
}

void EmuLoop::on_mmio_write(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* p) {
  EmuLoop& s = self_of(p);
  s.mmio_access(s.machine_.memory().size() + offset, static_cast<uint8_t>(size), true, value);
}

// See UnicornCpu::alias_page: the first touch of a page outside guest RAM
// mirrors the guest's mapping of it into Unicorn's map, and the access goes
// on (through the guest's page tables, which may still raise #PF).
bool EmuLoop::on_unmapped(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t, void* p) {
  EmuLoop& s = self_of(p);
  bool ok = s.cpu_.alias_page(address, s.machine_.memory());
  // An access that straddles two pages needs both.
  uint64_t last = address + uint64_t(size > 0 ? size - 1 : 0);
  if (ok && (last & ~0xfffull) != (address & ~0xfffull)) s.cpu_.alias_page(last, s.machine_.memory());
  return ok;
}

// ---- [SECTION] hooks: watching ----------------------------------------------

void EmuLoop::refresh_paging() {
  uint64_t old_cr3 = paging_.cr3;
  paging_ = cpu_.paging();
  if (paging_.cr3 != old_cr3) {
    decoder_.flush();  // the decoded-block cache is keyed by virtual address
    block_io_ = nullptr;
  }
}

// One callback per block executed, at every level: guest time, external
// interrupts, and at level exits the instruction count and returns.
void EmuLoop::on_block(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  if (s.ret_.armed) s.resolve_return(address);
  if (s.interrupt_due()) return;  // Unicorn stops before this block runs
  if (s.per_insn_) return;        // on_code counts every instruction
  const InsnDecoder::Block& b = s.decoder_.block(s.machine_.memory(), s.paging_, address, size);
  s.shadow_ = b.shadow;  // as the next block starts, this one's last instruction has run
  s.if_dirty_ = s.if_dirty_ || b.sets_if;
  s.block_io_ = &b.io;
  s.io_index_ = -1;
  s.instructions_.store(s.instructions_.load(std::memory_order_relaxed) + b.count, std::memory_order_relaxed);
  if (b.last != ReturnKind::None) {
    s.ret_ = {true, b.last, b.last_rip, address, address + size, s.cpl_};
  }
}

// Trace level full (and exits with per-instruction hooks): one callback
// before every instruction. At level full each one is a `step` event.
void EmuLoop::on_code(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  if (s.ret_.armed) s.resolve_return(address);
  s.instructions_.store(s.instructions_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.insn_rip_ = address;
  uint8_t bytes[16] = {};
  size = std::min<uint32_t>(size, 15);
  // Translate through the guest's page tables, one page cached.
  uint64_t cr3 = s.cpu_.reg(UC_X86_REG_CR3);
  uint64_t page = address & ~0xfffull;
  if (cr3 != s.step_cr3_ || page != s.step_page_va_) {
    s.paging_.cr3 = cr3;
    auto pa = translate(s.machine_.memory(), s.paging_, page);
    s.step_cr3_ = cr3;
    s.step_page_va_ = pa ? page : ~0ull;
    s.step_page_pa_ = pa ? *pa : 0;
  }
  if (s.step_page_va_ == page && (address & 0xfff) + size <= 0x1000)
    s.machine_.memory().read(s.step_page_pa_ + (address & 0xfff), bytes, size);
  else
    read_virtual(s.machine_.memory(), s.paging_, address, bytes, size);
  if (s.options_.level == TraceLevel::Full) {
    Event e;
    e.time_ns = monotonic_ns();
    e.kind = EventKind::Step;
    e.source = Source::Emulator;
    e.rip = address;
    e.cpl = s.cpl_;
    e.text = std::string_view(reinterpret_cast<const char*>(bytes), size);
    s.sink_.emit(e);
    if (++s.steps_ >= s.options_.limits.max_exits)
      s.stop_emulation(RunEndReason::WatchdogExits,
                       fmt::format("the guest executed {} instructions, the limit at trace level full", s.steps_));
  }
  ReturnKind k = return_kind(bytes, size);
  if (k != ReturnKind::None) s.ret_ = {true, k, address, address, address + size, s.cpl_};
  if (s.model_) s.model_sensitive(address, bytes, size);
  s.check_msr(address, bytes, size);
  s.shadow_ = opens_interrupt_shadow(bytes, size);
  s.if_dirty_ = s.if_dirty_ || may_set_if(bytes, size);
}

// ---- [SECTION] ring transitions ---------------------------------------------

// IRETQ and SYSRETQ are executed by Unicorn itself (QEMU's helpers check
// and load the segments exactly as the SDM says); the loop only records
// them, once the guest runs where they went.
// A ring transition without a vector (syscall, iretq, sysretq) as a trap or
// trap_return event; emit_trap records the ones delivered through the IDT.
void EmuLoop::emit_transition(EventKind kind, TrapCause cause, uint8_t from_cpl, uint8_t to_cpl, uint64_t rip,
                              uint64_t rip_to) {
  if (!tracing_) return;
  uint64_t t = monotonic_ns();
  if (kind == EventKind::Trap) record_mode_change(t);
  Event e;
  e.time_ns = t;
  e.kind = kind;
  e.source = Source::Emulator;
  e.cause = cause;
  e.from_cpl = from_cpl;
  e.to_cpl = to_cpl;
  e.rip = rip;
  e.rip_to = rip_to;
  sink_.emit(e);
}

void EmuLoop::resolve_return(uint64_t rip_to) {
  ret_.armed = false;
  uint8_t to = cpu_.cpl();
  emit_transition(EventKind::TrapReturn, ret_.kind == ReturnKind::Iret ? TrapCause::Iret : TrapCause::Sysret,
                  ret_.from_cpl, to, ret_.rip, rip_to);
  cpl_ = to;
  refresh_paging();
}

// An exception inside the block that ends in IRETQ means the return never
// ran; one anywhere else happened after it (at its target, or later).
void EmuLoop::cancel_return_if_not_executed(uint64_t fault_rip) {
  if (!ret_.armed) return;
  if (fault_rip >= ret_.block_start && fault_rip < ret_.block_end)
    ret_.armed = false;
  else
    resolve_return(fault_rip);
}

void EmuLoop::on_intr(uc_engine*, uint32_t intno, void* p) {
  EmuLoop& s = self_of(p);
  uint64_t rip = s.cpu_.reg(UC_X86_REG_RIP);
  s.cancel_return_if_not_executed(rip);
  s.pending_ = Pending::Interrupt;
  s.pending_vector_ = intno;
  s.pending_rip_ = rip;
  s.pending_cr2_ = s.cpu_.reg(UC_X86_REG_CR2);
  uc_emu_stop(s.cpu_.uc());
}

void EmuLoop::on_syscall(uc_engine*, void* p) {
  EmuLoop& s = self_of(p);
  s.pending_ = Pending::Syscall;
  s.pending_rip_ = s.cpu_.reg(UC_X86_REG_RIP);  // the SYSCALL itself; Unicorn then skips it
  uc_emu_stop(s.cpu_.uc());
}

void EmuLoop::emit_trap(const arch::Delivered& d, TrapCause cause) {
  if (!tracing_) return;
  uint64_t t = monotonic_ns();
  record_mode_change(t);
  Event e;
  e.time_ns = t;
  e.kind = EventKind::Trap;
  e.source = Source::Emulator;
  e.vector = d.vector;
  e.has_error_code = d.has_error_code;
  e.error_code = d.error_code;
  if (d.vector == arch::vec::kPF && cause == TrapCause::Exception) e.cr2 = d.cr2;
  e.from_cpl = d.from_cpl;
  e.to_cpl = d.to_cpl;
  e.rip = d.from_rip;
  e.rip_to = d.to_rip;
  e.cause = cause;
  sink_.emit(e);
}

// Every event delivered through the IDT counts against the exit limit, as
// device accesses do: a guest that faults in a loop (a #UD handler that
// returns to the ud2) makes no device access at all, yet must end.
bool EmuLoop::count_fault() {
  faults_++;
  uint64_t n = io_.load(std::memory_order_relaxed);
  if (n + faults_ <= options_.limits.max_exits) return true;
  stop_emulation(RunEndReason::WatchdogExits,
                 fmt::format("the guest took {} exceptions and interrupts and made {} device accesses (each a VM "
                             "exit or an injection under KVM), past the limit of {}",
                             faults_ - 1, n, options_.limits.max_exits));
  return false;
}

bool EmuLoop::deliver(arch::InterruptRequest req) {
  shadow_ = false;  // an event delivered ends any interrupt shadow
  if (!count_fault()) return false;
  cpu_.drop_aliases();  // the kernel may change the page tables now
  arch::CpuState s = cpu_.read_state();
  refresh_paging();
  arch::PagedMemory memory(machine_.memory(), s.paging());
  arch::DeliveryOutcome out = arch::deliver(s, memory, req);
  if (out.triple_fault) {
    stop_emulation(RunEndReason::TripleFault, "triple fault: " + out.why);
    return false;
  }
  auto st = cpu_.write_state(s);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return false;
  }
  const arch::Delivered& d = out.delivered;
  TrapCause cause = d.source == arch::EventSource::SoftInt    ? TrapCause::SoftInt
                    : d.source == arch::EventSource::External ? TrapCause::Interrupt
                    : d.vector >= 32                          ? TrapCause::Interrupt
                                                              : TrapCause::Exception;
  if (model_ && cause == TrapCause::Exception) {
    // Under VT-x the exception bitmap is consulted first; an intercepted
    // exception exits, and the hypervisor re-injects it (the trap below).
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Exception;
    a.vector = d.vector;
    a.has_error_code = d.has_error_code;
    a.error_code = d.error_code;
    a.cr2 = d.cr2;
    a.rip = d.from_rip;
    a.cpl = d.from_cpl;
    model(a);
  }
  emit_trap(d, cause);
  cpl_ = d.to_cpl;
  return true;
}

// Which event Unicorn reported: `int n` (it reports the RIP after the
// instruction) or an exception (the RIP of the faulting instruction).
void EmuLoop::handle_interrupt(uint32_t vector, uint64_t rip, uint64_t cr2) {
  // SYSRETQ: Unicorn raises #UD because of the lost EFER.SCE (see
  // assume_sce); the arch rules execute it instead.
  if (vector == arch::vec::kUD && cpu_.cpl() == 0) {
    uint8_t insn[4] = {};
    read_virtual(machine_.memory(), cpu_.paging(), rip, insn, sizeof insn);
    if (return_kind(insn, sizeof insn) == ReturnKind::Sysret && handle_sysret(rip)) return;
  }
  // VMCALL / VMMCALL: Unicorn's CPU has no VMX or SVM, so it raises #UD.
  // A CPU under KVM would exit to the hypervisor instead; answer for it.
  if (vector == arch::vec::kUD && handle_vmcall(rip)) return;
  arch::InterruptRequest req;
  req.vector = static_cast<uint8_t>(vector);
  req.return_rip = rip;
  req.instruction_rip = rip;
  uint8_t before[2] = {};
  PagingState paging = cpu_.paging();
  bool have = read_virtual(machine_.memory(), paging, rip - 2, before, 2) == 2;
  if (have && before[0] == 0xcd && before[1] == vector) {  // int imm8
    req.source = arch::EventSource::SoftInt;
    req.instruction_rip = rip - 2;
  } else if (have && ((vector == 3 && before[1] == 0xcc) || (vector == 4 && before[1] == 0xce))) {  // int3, into
    req.source = arch::EventSource::SoftInt;
    req.instruction_rip = rip - 1;
  } else if (vector >= 32) {
    req.source = arch::EventSource::SoftInt;  // Unicorn reports only `int n` there; external interrupts come from the loop
    req.instruction_rip = rip - 2;
  } else if (vector == arch::vec::kPF) {
    // Unicorn 2.0 keeps the page-fault error code to itself; rebuild it
    // (SDM Vol. 3A §4.7): present = the translation exists (so it was a
    // protection violation), user = CPL 3, fetch = CR2 inside the faulting
    // instruction, write = the instruction stores to memory.
    bool present = translate(machine_.memory(), paging, cr2).has_value();
    bool fetch = cr2 >= rip && cr2 < rip + 15;
    bool write = !fetch && decoder_.writes_memory(machine_.memory(), paging, rip);
    req.error_code = arch::page_fault_error(present, write, cpu_.cpl() == 3, fetch && (paging.efer & (1ull << 11)));
    req.cr2 = cr2;
  }
  // Other error codes (#GP from a privileged instruction, ...) are 0, which
  // is what the CPU pushes for every fault the teaching kernel provokes.
  deliver(req);
}

// Unicorn 2.0.1's CPU model drops the guest's write of IA32_EFER.SCE (its
// CPUID lacks the SYSCALL bit), so EFER.SCE always reads 0. A kernel that
// has programmed LSTAR clearly enabled SYSCALL: treat SCE as set then.
static void assume_sce(arch::CpuState& s) {
  if (s.lstar != 0) s.efer |= arch::kEferSce;
}

// `vmcall` (0f 01 c1) or `vmmcall` (0f 01 d9) at rip: do what KVM on a
// VT-x/AMD-V host does. The CPU exits (reason 18, whatever the CPL), KVM
// answers in the kernel (hypercalls.h: kvm_hypercall_result), RAX gets the
// result and the guest goes on after the 3-byte instruction. Recorded as a
// `hypercall` event with transport vmcall; the VT-x model records the exit.
bool EmuLoop::handle_vmcall(uint64_t rip) {
  uint8_t insn[3] = {};
  if (read_virtual(machine_.memory(), cpu_.paging(), rip, insn, sizeof insn) != sizeof insn) return false;
  if (insn[0] != 0x0f || insn[1] != 0x01 || (insn[2] != 0xc1 && insn[2] != 0xd9)) return false;
  uint8_t cpl = cpu_.cpl();
  uint64_t nr = cpu_.reg(UC_X86_REG_RAX);
  uint64_t t = monotonic_ns();
  if (model_) {
    vmx::GuestAction a;
    a.kind = vmx::ActionKind::Vmcall;
    a.rip = rip;
    a.cpl = cpl;
    a.value = nr;
    model(a);
  }
  uint64_t result = kvm_hypercall_result(nr, cpl);
  if (tracing_) {
    Event e;
    e.time_ns = t;
    e.kind = EventKind::Hypercall;
    e.source = Source::Emulator;
    e.number = nr;
    e.args = {cpu_.reg(UC_X86_REG_RBX), cpu_.reg(UC_X86_REG_RCX), cpu_.reg(UC_X86_REG_RDX),
              cpu_.reg(UC_X86_REG_RSI)};
    e.result = result;
    e.transport = Transport::Vmcall;
    e.rip = rip;
    e.cpl = cpl;
    e.duration_ns = monotonic_ns() - t;
    sink_.emit(e);
  }
  cpu_.set_reg(UC_X86_REG_RAX, result);
  cpu_.set_reg(UC_X86_REG_RIP, rip + 3);
  return true;
}

void EmuLoop::handle_syscall(uint64_t rip) {
  arch::CpuState s = cpu_.read_state();  // s.rip: the instruction after SYSCALL
  assume_sce(s);
  auto r = arch::syscall(s);
  if (auto* f = std::get_if<arch::Fault>(&r)) {
    arch::InterruptRequest req;
    req.vector = f->vector;
    req.return_rip = req.instruction_rip = rip;
    deliver(req);
    return;
  }
  const arch::CpuState& n = std::get<arch::CpuState>(r);
  cpu_.drop_aliases();  // the kernel may change the page tables now
  auto st = cpu_.write_state(n);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return;
  }
  emit_transition(EventKind::Trap, TrapCause::Syscall, s.cpl(), n.cpl(), rip, n.rip);
  cpl_ = n.cpl();
}

bool EmuLoop::handle_sysret(uint64_t rip) {
  arch::CpuState s = cpu_.read_state();
  assume_sce(s);
  auto r = arch::sysretq(s);
  if (std::holds_alternative<arch::Fault>(r)) return false;  // the #UD (or #GP) stands
  const arch::CpuState& n = std::get<arch::CpuState>(r);
  auto st = cpu_.write_state(n);
  if (!st.ok()) {
    stop_emulation(RunEndReason::VmmError, st.error().message);
    return true;
  }
  emit_transition(EventKind::TrapReturn, TrapCause::Sysret, s.cpl(), n.cpl(), rip, n.rip);
  cpl_ = n.cpl();
  return true;
}

void EmuLoop::record_mode_change(uint64_t time_ns) {
  PagingState p = cpu_.paging();
  if (p.cr0 == cr0_ && p.cr4 == cr4_ && p.efer == efer_) return;
  Event m;
  m.time_ns = time_ns;
  m.kind = EventKind::ModeChange;
  m.source = Source::Emulator;
  m.prev_cr0 = cr0_, m.prev_cr4 = cr4_, m.prev_efer = efer_;
  m.cr0 = p.cr0, m.cr4 = p.cr4, m.efer = p.efer;
  m.rip = cpu_.reg(UC_X86_REG_RIP);
  sink_.emit(m);
  cr0_ = p.cr0, cr4_ = p.cr4, efer_ = p.efer;
}

// ---- [SECTION] external interrupts ------------------------------------------
//
// Unicorn has no interrupt pin. The loop plays the CPU's part: at a block
// boundary it asks the machine's interrupt controllers for a pending
// vector, and if RFLAGS.IF allows, takes it (the PIC's INTA cycle) and
// delivers it through the IDT with the rules in core/src/arch (SDM Vol. 3A
// §6.8.1: recognised between instructions, IF gates it). The block hook
// looks before every block (interrupt_due) and stops Unicorn there; HLT
// waits in guest time. Everything happens on the emulation thread: no other
// thread stops Unicorn except the wall-time watchdog, which ends the run.

bool EmuLoop::interrupts_enabled() const { return cpu_.reg(UC_X86_REG_RFLAGS) & kRflagsIf; }

// STI delays interrupts by one instruction (SDM Vol. 2B, STI), so that
// `sti; hlt` cannot lose a wake-up between the two, and MOV SS delays them
// so that `mov ss; mov rsp` is never split (Vol. 3A §6.8.3). Unicorn keeps
// that state to itself, but QEMU ends a translated block right after
// either instruction, so the loop knows it from the block that ran last
// (shadow_, set in on_block and on_code). Peeking at the byte before RIP
// is not enough: in `sti; 1: jmp 1b` the loop's own target follows an STI.

// The block hook's question, asked before every block: should the CPU take
// an external interrupt here? Cheap while nothing can be pending (guest time
// before the timer's next edge, no device access since the last look); when
// one is pending and IF allows, Unicorn is stopped before the block runs and
// the loop delivers it with RIP at the block, an instruction boundary.
bool EmuLoop::interrupt_due() {
  // One is pending but IF (or a shadow) held it: only those can change
  // now, and IF only by an instruction that sets it (STI, POPF, IRET,
  // SYSRET), so a handler's loops pay nothing until one has run.
  if (irq_held_) {
    if (!if_dirty_ || shadow_) return false;
    if (!interrupts_enabled()) {
      if_dirty_ = false;
      return false;
    }
  }
  if (!irq_held_ && !irq_look_ && guest_ns() < next_irq_ns_) return false;
  irq_look_ = irq_held_ = false;
  std::optional<uint8_t> vector = machine_.pending_irq();  // the PIT brought up to guest time
  next_irq_ns_ = machine_.next_irq_deadline_ns().value_or(kNever);
  if (!vector) return false;
  if (!interrupts_enabled() || shadow_) {
    irq_held_ = true;     // look again once IF is set and no shadow is open
    if_dirty_ = shadow_;  // STI: IF is already set, only the shadow holds it
    return false;
  }
  irq_stop_ = true;
  uc_emu_stop(cpu_.uc());
  return true;
}

bool EmuLoop::deliver_external(uint64_t return_rip) {
  if (ret_.armed) resolve_return(cpu_.reg(UC_X86_REG_RIP));  // the IRETQ before it did run
  arch::InterruptRequest req;
  req.vector = machine_.acknowledge_irq();
  req.source = arch::EventSource::External;
  req.return_rip = req.instruction_rip = return_rip;
  return deliver(req);
}

// HLT in ring 0: the CPU sleeps until an interrupt it may take arrives.
// In guest time a sleep costs nothing: the clock jumps to the timer's next
// edge (as QEMU's icount does when all CPUs are idle). Only the timer can
// wake a halted CPU here (a device raises its line only when the guest
// touches it), so with no edge to come, or IF clear, nothing ever will.
EmuLoop::Wake EmuLoop::wait_for_interrupt() {
  if (!interrupts_enabled()) return Wake::Never;
  for (int i = 0; i < 2; i++) {
    if (watchdog_.load(std::memory_order_relaxed)) return Wake::Watchdog;
    if (machine_.pending_irq()) return Wake::Interrupt;
    std::optional<uint64_t> deadline = machine_.next_irq_deadline_ns();
    if (!deadline) return Wake::Never;
    uint64_t now = guest_ns();
    if (*deadline > now) halted_ns_ += *deadline - now;
  }
  return machine_.pending_irq() ? Wake::Interrupt : Wake::Never;
}

// ---- [SECTION] the VT-x model ------------------------------------------------

void EmuLoop::model(const vmx::GuestAction& a) {
  model_boundary(a);
  model_->observe(a, monotonic_ns());
  if (!model_->holding()) deferred_.drain(sink_);  // a REP INS batch keeps its device events until its exit is out
}

// Before an action's device work: if it ends an open REP INS batch, the
// batch's exit and device events go out first.
void EmuLoop::model_boundary(const vmx::GuestAction& a) {
  if (model_->holding() && !model_->continues_batch(a)) {
    model_->flush();
    deferred_.drain(sink_);
  }
}

// IN/OUT as the model sees it; INS/OUTS carry their REP prefix, RCX and,
// for INS, RDI.
vmx::GuestAction EmuLoop::io_action(uint16_t port, uint8_t size, bool out) {
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::PortIo;
  a.port = port;
  a.size = size;
  a.write = out;
  a.cpl = cpu_.cpl();
  uint64_t rcx = cpu_.reg(UC_X86_REG_RCX);
  IoInsn io;
  if (per_insn_) {
    io = decoder_.io_insn(machine_.memory(), paging_, insn_rip_);
  } else {
    bool same = block_io_ && io_index_ >= 0 && (*block_io_)[size_t(io_index_)].rep && prev_rcx_ > 1;
    if (!same) io_index_++;
    if (block_io_ && size_t(io_index_) < block_io_->size())
      io = (*block_io_)[size_t(io_index_)];
    else
      io = decoder_.io_insn(machine_.memory(), paging_, cpu_.reg(UC_X86_REG_RIP));
  }
  prev_rcx_ = rcx;
  a.rip = io.rip;
  if (io.string) {
    a.string = true;
    a.rep = io.rep;
    a.rep_count = rcx;
    a.string_addr = cpu_.reg(UC_X86_REG_RDI);
  }
  return a;
}

// Shadow paging: a store into a guest page-table page exits (the model's
// PageTableWrite). Unicorn calls this before every guest store, before it
// even checks the translation, with the *virtual* address; Unicorn 2.0.1
// stores below the top of guest RAM at that address itself (unicorn_cpu.h:
// its MMU "identity maps"), so there the address is the guest-physical one
// too; above it are the aliases, translated through the guest's tables.
// The common case costs one array lookup. (A store that straddles into a
// page table from the page before it is not seen: no kernel writes its
// entries that way.)
void EmuLoop::on_store(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t value, void* p) {
  EmuLoop& s = self_of(p);
  uint64_t gpa = address;
  if (address >= s.ram_size_ && !s.store_gpa(address, gpa)) return;
  if (!s.model_->page_tables().contains(gpa)) return;
  s.model_page_table_write(address, gpa, size, static_cast<uint64_t>(value));
}

bool EmuLoop::store_gpa(uint64_t va, uint64_t& gpa) {
  const vmx::PageTableSet& tables = model_->page_tables();
  uint64_t page = va & ~0xfffull;
  StoreTlb& e = store_tlb_[(va >> 12) % store_tlb_.size()];
  // Translations change only through a page-table store the set saw, or a
  // new CR3; with the set truncated, a store into an untracked table could
  // change one unseen, so nothing is cached then.
  if (e.va_page != page || e.generation != tables.generation() || tables.truncated()) {
    auto pa = translate(machine_.memory(), cpu_.paging(), page);
    e = {page, pa ? *pa : ~0ull, tables.generation()};
  }
  if (e.pa_page == ~0ull) return false;
  gpa = e.pa_page | (va & 0xfff);
  return true;
}

void EmuLoop::model_page_table_write(uint64_t va, uint64_t gpa, int size, uint64_t value) {
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::PageTableWrite;
  a.rip = cpu_.reg(UC_X86_REG_RIP);
  a.cpl = cpu_.cpl();
  a.gpa = gpa;
  size = std::clamp(size, 1, 8);
  a.size = static_cast<uint8_t>(size);
  a.write = true;
  a.value = size == 8 ? value : value & ((1ull << (8 * size)) - 1);
  a.cr2 = va;
  model(a);
}

// Unicorn has no hook for RDMSR, WRMSR, MOV CR or INVLPG (it has one for
// CPUID, on_cpuid). At trace level full, or with per-instruction hooks,
// on_code sees every instruction anyway. At block granularity the loop
// finds the kernel's sensitive instructions before the run, by decoding its
// loaded image from start to end, and puts a code hook on exactly those
// addresses: a few dozen hooks, and nothing paid per instruction. (Stopping
// in a block hook to add a watch on the fly would be the other way, but
// Unicorn 2.0.1 comes back from such a stop with CR2 and its pending-fault
// state changed under the guest.) Ring-3 programs are not scanned: there
// these instructions fault (#GP) before VT-x could exit, except CPUID
// (hooked everywhere) and RDTSC (modelled only at level full).
Status EmuLoop::watch_kernel_sensitive() {
  // Segment by segment: an image's segments may be megabytes apart (GNU
  // ld's default layout puts a note segment at 4 MiB), and the gaps hold
  // no code.
  for (const GpaRange& seg : machine_.kernel_image().segments) {
    if (seg.end <= seg.begin || !machine_.memory().contains(seg.begin, seg.end - seg.begin)) continue;
    std::vector<uint8_t> image(seg.end - seg.begin);
    machine_.memory().read(seg.begin, image.data(), image.size());
    for (uint64_t rip : decoder_.find_sensitive(image.data(), image.size(), seg.begin)) {
      uc_hook h;
      uc_err err = uc_hook_add(cpu_.uc(), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_sensitive), this, rip, rip);
      if (err != UC_ERR_OK)
        return make_error(ErrorKind::Internal,
                          fmt::format("cannot watch the instruction at {:#x}: {}", rip, uc_error_text(err)));
      watched_++;
    }
  }
  return ok_status();
}

int EmuLoop::on_cpuid(uc_engine*, void* p) {
  EmuLoop& s = self_of(p);
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::Cpuid;
  a.rip = s.cpu_.reg(UC_X86_REG_RIP);
  a.cpl = s.cpu_.cpl();
  a.leaf = uint32_t(s.cpu_.reg(UC_X86_REG_RAX));
  s.model(a);
  return 0;  // 0: Unicorn executes CPUID itself
}

void EmuLoop::on_sensitive(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  uint8_t bytes[16] = {};
  size = std::min<uint32_t>(size, 15);
  size_t got = read_virtual(s.machine_.memory(), s.cpu_.paging(), address, bytes, size);
  if (s.model_) s.model_sensitive(address, bytes, got);
  s.check_msr(address, bytes, got);
}

namespace {
// ModRM register numbers (SDM Vol. 2A Table 2-2) to Unicorn's register ids.
constexpr int kGprs[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                           UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                           UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                           UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
int cr_reg(uint8_t cr) {
  switch (cr) {
    case 0: return UC_X86_REG_CR0;
    case 2: return UC_X86_REG_CR2;
    case 3: return UC_X86_REG_CR3;
    case 4: return UC_X86_REG_CR4;
    case 8: return UC_X86_REG_CR8;
    default: return UC_X86_REG_INVALID;
  }
}
}  // namespace

// RDMSR (0f 32) or WRMSR (0f 30) at rip, about to run in ring 0 (in ring 3
// QEMU raises the #GP itself): if the CPU model lacks the MSR in ECX, stop
// before it runs and raise #GP(0) there (arch/msr.h). RAX and RDX are kept
// in case Unicorn ran the instruction after all.
void EmuLoop::check_msr(uint64_t rip, const uint8_t* bytes, size_t len) {
  Sensitive kind = sensitive_kind(bytes, len).kind;
  if (kind != Sensitive::Rdmsr && kind != Sensitive::Wrmsr) return;
  if (cpu_.cpl() != 0 || arch::msr_implemented(uint32_t(cpu_.reg(UC_X86_REG_RCX)))) return;
  pending_ = Pending::MsrFault;
  pending_rip_ = rip;
  pending_rax_ = cpu_.reg(UC_X86_REG_RAX);
  pending_rdx_ = cpu_.reg(UC_X86_REG_RDX);
  uc_emu_stop(cpu_.uc());
}

// The registers as they are just before the instruction runs.
void EmuLoop::model_sensitive(uint64_t rip, const uint8_t* bytes, size_t len) {
  SensitiveInsn insn = sensitive_kind(bytes, len);
  // CPUID has its own hook; a watched address may now hold other code.
  if (insn.kind == Sensitive::None || insn.kind == Sensitive::Cpuid) return;
  vmx::GuestAction a;
  a.rip = rip;
  a.cpl = cpu_.cpl();
  auto rcx = [&] { return uint32_t(cpu_.reg(UC_X86_REG_RCX)); };
  switch (insn.kind) {
    case Sensitive::Rdmsr:
      a.kind = vmx::ActionKind::Rdmsr;
      a.msr = rcx();
      break;
    case Sensitive::Wrmsr:
      a.kind = vmx::ActionKind::Wrmsr;
      a.msr = rcx();
      a.value = (cpu_.reg(UC_X86_REG_RDX) << 32) | (cpu_.reg(UC_X86_REG_RAX) & 0xffffffffull);
      break;
    case Sensitive::Rdtsc: a.kind = vmx::ActionKind::Rdtsc; break;
    case Sensitive::MovToCr:
    case Sensitive::MovFromCr: {
      a.kind = insn.kind == Sensitive::MovToCr ? vmx::ActionKind::MovToCr : vmx::ActionKind::MovFromCr;
      a.cr = insn.cr;
      a.gpr = insn.gpr;
      int cr = cr_reg(insn.cr);
      uint64_t current = cr == UC_X86_REG_INVALID ? 0 : cpu_.reg(cr);
      a.old_value = current;
      a.value = a.kind == vmx::ActionKind::MovToCr ? cpu_.reg(kGprs[insn.gpr & 15]) : current;
      break;
    }
    case Sensitive::Invlpg:
      // The operand's linear address is not computed (the teaching kernel
      // never executes INVLPG); the exit is still counted.
      a.kind = vmx::ActionKind::Invlpg;
      break;
    case Sensitive::None:
    case Sensitive::Cpuid: return;
  }
  model(a);
}

// ---- [SECTION] the loop -----------------------------------------------------

RunResult EmuLoop::run() {
  const BootState& boot = machine_.boot();
  cr0_ = boot.cr0, cr4_ = boot.cr4, efer_ = boot.efer;
  refresh_paging();
  cpl_ = cpu_.cpl();
  if (model_) model_->begin(monotonic_ns());
  // The tables the guest starts on (the VMM's boot tables, under the 64-bit
  // entry); with paging still off, the kernel's first MOV to CR3 names them.
  bool long_paging = (paging_.cr0 & (1ull << 31)) && (paging_.efer & (1ull << 10));
  if (model_ && model_->tracks_page_tables() && long_paging) model_->load_cr3(paging_.cr3);
  RunResult result;
  auto fail = [&](RunEndReason reason, std::string message) {
    RunResult r;
    r.end = reason;
    r.message = std::move(message);
    return r;
  };
  for (;;) {
    if (watchdog_.load(std::memory_order_relaxed)) {
      result = fail(RunEndReason::WatchdogTime,
                    fmt::format("the guest ran past the wall-time limit of {} ms", options_.limits.wall_ms));
      break;
    }
    pending_ = Pending::None;
    // An interrupt the block hook stopped for (or one already pending as
    // the loop comes back from an exception or HLT) is taken here, between
    // two instructions.
    irq_stop_ = false;
    if (machine_.pending_irq() && interrupts_enabled()) {
      uint64_t at = cpu_.reg(UC_X86_REG_RIP);
      if (!shadow_ && !deliver_external(at)) {
        result = stop_result_;
        break;
      }
    }
    irq_look_ = true;  // the handler may change the mask or send an EOI: look at the first block
    irq_held_ = false;
    uc_err err = uc_emu_start(cpu_.uc(), cpu_.reg(UC_X86_REG_RIP), kUntilNowhere, 0, 0);
    if (pending_ == Pending::Interrupt) handle_interrupt(pending_vector_, pending_rip_, pending_cr2_);
    if (pending_ == Pending::Syscall) handle_syscall(pending_rip_);
    if (pending_ == Pending::MsrFault) {
      // Undo the instruction if Unicorn ran it, then raise #GP(0) at it.
      cpu_.set_reg(UC_X86_REG_RAX, pending_rax_);
      cpu_.set_reg(UC_X86_REG_RDX, pending_rdx_);
      cpu_.set_reg(UC_X86_REG_RIP, pending_rip_);
      cancel_return_if_not_executed(pending_rip_);
      arch::InterruptRequest req;
      req.vector = arch::vec::kGP;
      req.return_rip = req.instruction_rip = pending_rip_;
      deliver(req);
    }
    if (stopping_) {
      result = stop_result_;
      break;
    }
    if (pending_ != Pending::None) continue;
    if (watchdog_.load(std::memory_order_relaxed)) continue;  // reported at the top
    if (irq_stop_ && err == UC_ERR_OK) continue;              // delivered at the top
    uint64_t rip = cpu_.reg(UC_X86_REG_RIP);
    if (err == UC_ERR_INSN_INVALID) {
      // Unicorn stops on an undefined opcode; the CPU raises #UD (vector 6).
      cancel_return_if_not_executed(rip);
      handle_interrupt(arch::vec::kUD, rip, 0);
      if (stopping_) {
        result = stop_result_;
        break;
      }
      continue;
    }
    if (err != UC_ERR_OK) {
      auto pa = translate(machine_.memory(), cpu_.paging(), rip);
      result = fail(RunEndReason::InternalError,
                    fmt::format("the emulator stopped at rip {:#x} (physical {}): {}", rip,
                                pa ? fmt::format("{:#x}", *pa) : "unmapped", uc_error_text(err)));
      break;
    }
    // Unicorn stops at HLT by itself, in any ring: in ring 3 with RIP at
    // the HLT, in ring 0 with RIP after it. The CPU only lets ring 0 halt
    // (SDM Vol. 2A, HLT: #GP(0) if CPL is not 0).
    uint8_t op[2] = {};
    read_virtual(machine_.memory(), cpu_.paging(), rip - 1, op, 2);
    bool ring0_halted = cpu_.cpl() == 0 && op[0] == 0xf4;
    if (ring0_halted) rip -= 1;  // the HLT itself
    if (op[1] == 0xf4 || ring0_halted) {
      if (model_) {
        vmx::GuestAction a;
        a.kind = vmx::ActionKind::Hlt;
        a.rip = rip;
        a.cpl = cpu_.cpl();
        model(a);
      }
      if (cpu_.cpl() != 0) {
        cancel_return_if_not_executed(rip);
        arch::InterruptRequest req;
        req.vector = arch::vec::kGP;
        req.return_rip = req.instruction_rip = rip;
        if (!deliver(req)) {
          result = stop_result_;
          break;
        }
        continue;
      }
      // Ring 0: wait for an interrupt, as the CPU does; it returns to the
      // instruction after HLT.
      Wake wake = wait_for_interrupt();
      if (wake == Wake::Watchdog) continue;  // reported at the top
      if (wake == Wake::Interrupt) {
        if (!deliver_external(rip + 1)) {
          result = stop_result_;
          break;
        }
        continue;
      }
      result = fail(RunEndReason::Halted, interrupts_enabled()
                                              ? "the guest executed hlt with nothing left to wake it"
                                              : "the guest executed hlt with interrupts off (nothing can wake it)");
      break;
    }
    // Unicorn sometimes stops at a VMCALL without reporting its #UD (a
    // translation block it ran before and cached); handle it the same way.
    if (handle_vmcall(rip)) continue;
    result = fail(RunEndReason::InternalError, fmt::format("the emulator stopped at rip {:#x} for no known reason", rip));
    break;
  }
  return finish(result);
}

RunResult EmuLoop::finish(RunResult result) {
  result.exits = 0;  // nothing exits: there is no hardware virtualisation here
  result.steps = steps_;
  if (result.end != RunEndReason::GuestExit) result.regs = cpu_.regs();  // every failure, halted for good too
  machine_.finish_devices(ctx_);
  // The timer stops with the CPU: its clock must not outlive this loop.
  machine_.pit().set_clock([end = guest_ns()] { return end; });
  if (!tracing_) return result;
  if (model_) model_->flush();
  deferred_.drain(sink_);
  uint64_t t = monotonic_ns();
  if (model_) model_->finish(t);
  emit_counter(sink_, t, 0, Source::Emulator, "instructions", instructions_.load());
  emit_counter(sink_, t, 0, Source::Emulator, "device_accesses", io_.load());
  emit_run_end(sink_, result, 0, t);
  return result;
}

}  // namespace ringscope::emulation

