// emu_loop.h — the emulation mode's run loop.
//
// Unicorn runs the guest until a hook asks it to stop; the loop then does
// what Unicorn cannot (deliver an exception or `int n` through the IDT,
// execute SYSCALL, refuse HLT in ring 3) with the rules in core/src/arch,
// records it, and starts Unicorn again. Port I/O and MMIO go to the
// Machine's bus from the hooks, exactly as the KVM backend hands its exits
// to the same bus.
//
// One class, one file per job (emu_loop.cpp lists them), as Tracy splits
// its View: the loop, device hooks, instruction watching, ring
// transitions, the VT-x model adapter, external interrupts.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulation_backend.h"
#include "insn_decoder.h"
#include "ringscope/arch/transitions.h"
#include "ringscope/backend.h"
#include "ringscope/control/run_control.h"
#include "ringscope/deferred_sink.h"
#include "ringscope/devices/lapic.h"
#include "ringscope/halt_wait.h"
#include "ringscope/mode_tracker.h"
#include "ringscope/run_limits.h"
#include "ringscope/vmx/model.h"
#include "unicorn_cpu.h"

namespace ringscope::emulation {

// The seam a mixed-mode monitor (mode `bt`, sim-modes/bt/) drives the loop
// through: it runs the guest's ring 3 somewhere else (directly, under KVM).
// The loop stops before any block would run at CPL 3 and calls the runner;
// the runner leaves the guest's state at the trap in the UnicornCpu and says
// what stopped ring 3, and the loop delivers it with the same rules as ever.
struct Ring3Exit {
  enum class Kind : uint8_t {
    Event,    // an exception or `int n`: deliver `event` through the guest's IDT
    Syscall,  // a SYSCALL at `syscall_rip` (RIP is already past it)
    Resume,   // nothing to deliver (e.g. an interrupt became due): back to the loop's checks
    Stop,     // the run is over: `stop`
  };
  Kind kind = Kind::Resume;
  arch::InterruptRequest event;
  uint64_t syscall_rip = 0;
  RunStop stop;
  uint64_t direct_ns = 0;  // time ring 3 ran: it advances guest time (the PIT's clock)
  uint64_t kvm_exits = 0;  // exits that reached the VMM meanwhile (the run's `exits`)
};
using Ring3Runner = std::function<Ring3Exit()>;

// What a vCPU of a multi-vCPU run shares with the others (emu_smp.cpp):
// the local APICs and the run's one guest clock.
struct SmpSeat {
  LocalApics* lapics = nullptr;
  std::function<uint64_t()> clock;  // guest time, ns: every vCPU's timers run on it
};

// Why a turn (EmuLoop::turn) ended.
enum class TurnEnd : uint8_t {
  Yield,   // its quantum of instructions ran, or it spun on PAUSE: the next vCPU's turn
  Halted,  // HLT (several vCPUs): it waits for an interrupt
  Ended,   // the run is over (ended())
};

class EmuLoop {
 public:
  EmuLoop(Machine& machine, UnicornCpu& cpu, EventSink& sink, const RunOptions& options, EmulationOptions emu,
          uint32_t vcpu = 0);
  Status install_hooks();
  RunResult run();  // thread: the emulation thread
  uint32_t vcpu() const { return vcpu_; }

  // Several vCPUs (emu_smp.cpp): the scheduler calls begin() once, then
  // turn() for each vCPU in turn, and finish_vcpu() for each at the end.
  // No run control and no run_end here: the scheduler has them.
  void join_smp(SmpSeat seat);
  void begin();
  TurnEnd turn(uint64_t quantum);  // at least `quantum` instructions (0: no limit), to a block boundary
  const RunResult& ended() const { return stop_result_; }
  RunResult finish_vcpu(RunResult result);
  void finish_devices() { machine_.finish_devices(ctx_); }
  // Halted (TurnEnd::Halted): whether an interrupt would wake it now, and
  // when its timer next could (guest ns).
  bool halted() const { return halted_; }
  bool wakes();
  std::optional<uint64_t> wake_deadline();
  // INIT or STARTUP from another CPU's local APIC (LocalApics::take_startups).
  Status startup(const LocalApics::Startup& s);
  void request_stop();  // thread: the watchdog
  uint64_t instructions() const { return instructions_.load(std::memory_order_relaxed); }

  // Guest time, the clock the machine's PIT runs on under emulation: one
  // nanosecond per instruction executed, plus the time the CPU spent halted
  // (a halted CPU skips straight to the next timer edge). Deterministic:
  // the same guest takes its interrupts at the same instructions on any host.
  static constexpr uint64_t kGuestNsPerInstruction = 1;
  uint64_t guest_ns() const {
    return smp_.clock ? smp_.clock() : instructions() * kGuestNsPerInstruction + halted_ns_ + direct_ns_;
  }
  uint64_t device_accesses() const { return io_.load(std::memory_order_relaxed); }
  // Mode bt: ring 3 runs elsewhere (Ring3Exit above). Guest time then also
  // counts the time ring 3 ran. Set before run().
  void set_ring3_runner(Ring3Runner runner) { ring3_ = std::move(runner); }
  // Counters of its own a mode records as the run ends, before `run_end`.
  void set_finish_counters(std::function<void(EventSink&, uint64_t time_ns)> f) { finish_counters_ = std::move(f); }
  // Instructions the loop ran at CPL 3 (0 whenever a Ring3Runner is set: it is how a test proves it).
  uint64_t ring3_instructions() const { return ring3_instructions_; }

 private:
  // Unicorn callbacks (C ABI; `self` is the EmuLoop). No exceptions escape.
  static EmuLoop& self_of(void* p) { return *static_cast<EmuLoop*>(p); }
  static uint32_t on_in(uc_engine* uc, uint32_t port, int size, void* self);
  static void on_out(uc_engine* uc, uint32_t port, int size, uint32_t value, void* self);
  static void on_intr(uc_engine* uc, uint32_t intno, void* self);
  static void on_syscall(uc_engine* uc, void* self);
  static void on_block(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static void on_code(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static uint64_t on_mmio_read(uc_engine* uc, uint64_t offset, unsigned size, void* self);
  static bool on_unmapped(uc_engine* uc, uc_mem_type type, uint64_t address, int size, int64_t value, void* self);
  static void on_mmio_write(uc_engine* uc, uint64_t offset, unsigned size, uint64_t value, void* self);
  static void on_sensitive(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static int on_cpuid(uc_engine* uc, void* self);
  static void on_store(uc_engine* uc, uc_mem_type type, uint64_t address, int size, int64_t value, void* self);

  uint64_t port_access(uint16_t port, uint8_t size, bool out, uint64_t value);
  uint64_t mmio_access(uint64_t gpa, uint8_t size, bool write, uint64_t value);
  void after_device_access(const AccessResult& devices);

  // The VT-x model (vmx/model.h): what would have exited under VT-x.
  void model(const vmx::GuestAction& a);
  void model_boundary(const vmx::GuestAction& a);
  vmx::GuestAction io_action(uint16_t port, uint8_t size, bool out);
  void model_sensitive(uint64_t rip, const uint8_t* bytes, size_t len);
  Status watch_kernel_sensitive();
  bool store_gpa(uint64_t va, uint64_t& gpa);
  void model_page_table_write(uint64_t va, uint64_t gpa, int size, uint64_t value);
  void stop_emulation(RunEndReason reason, std::string message);
  void stop_emulation(RunStop stop);

  // Ring transitions.
  void note_return(uint64_t rip, ReturnKind kind, uint64_t block_end);
  void resolve_return(uint64_t rip_to);
  void cancel_return_if_not_executed(uint64_t fault_rip);
  bool deliver(arch::InterruptRequest request);  // false: the run is over (triple fault)
  void handle_interrupt(uint32_t vector, uint64_t rip, uint64_t cr2);
  void handle_syscall(uint64_t rip);
  bool handle_vmcall(uint64_t rip);
  bool handle_sysret(uint64_t rip);
  void emit_trap(const arch::Delivered& d, TrapCause cause);
  void emit_transition(EventKind kind, TrapCause cause, uint8_t from_cpl, uint8_t to_cpl, uint64_t rip,
                       uint64_t rip_to);
  void record_mode_change(uint64_t time_ns);
  void refresh_paging();

  // External interrupts (Machine::pending_irq: the PIC, virtio lines).
  bool interrupts_enabled() const;
  bool interrupt_due();  // in the block hook: stop before the block to take one
  // RDMSR/WRMSR of an MSR the CPU model lacks: #GP(0) (arch/msr.h).
  void check_msr(uint64_t rip, const uint8_t* bytes, size_t len);
  bool count_fault();  // every fault and `int n` counts against the exit limit; false: the run is over
  ExitCount exit_count() const { return ExitCount::emulated(io_.load(std::memory_order_relaxed), faults_); }
  bool deliver_external(uint64_t return_rip);  // false: the run is over
  // The interrupt controllers this vCPU listens to: the PIC (one vCPU, or
  // the boot CPU through LINT0) and its local APIC (several vCPUs).
  std::optional<uint8_t> irq_pending();
  std::optional<uint64_t> irq_deadline();
  uint8_t irq_acknowledge();
  bool run_ring3();           // Ring3Runner: false: the run is over
  Wake wait_for_interrupt();  // halt_wait.h, in guest time

  RunResult finish(RunResult result);
  TurnEnd end_turn(RunResult result);
  // Run control (control/run_control.h): parks here while the guest is
  // paused. In a hook or between two uc_emu_start calls; true: the run ends.
  bool control_checkpoint();
  bool controlled() const { return control_ && control_->wanted(); }

  Machine& machine_;
  UnicornCpu& cpu_;
  uint32_t vcpu_ = 0;
  SmpSeat smp_;
  // The turn (several vCPUs): where its instruction count started, how many
  // it may run, and why the block hook stopped Unicorn.
  uint64_t turn_start_ = 0, quantum_ = 0;
  bool quantum_stop_ = false, pause_seen_ = false;
  // The block the block hook saw last: where it stopped Unicorn, if it did
  // (quantum_stop_, irq_stop_, ring3_stop_), and so where the guest goes on
  // (UnicornCpu::resume_at_block).
  uint64_t block_pc_ = 0;
  bool halted_ = false, halted_for_good_ = false;  // HLT: waiting for an interrupt; with IF clear
  uint64_t halt_rip_ = 0;                          // the instruction after the HLT
  EventSink& sink_;
  RunOptions options_;
  EmulationOptions emu_;
  bool tracing_;
  DeviceContext ctx_;
  InsnDecoder decoder_;
  PagingState paging_;  // refreshed at every transition; CR3 read where it matters
  uint8_t cpl_ = 0;     // the CPL the trace last recorded
  ModeTracker modes_;

  // What a hook asked the loop to do once Unicorn has stopped.
  enum class Pending : uint8_t { None, Interrupt, Syscall, MsrFault };
  Pending pending_ = Pending::None;
  uint32_t pending_vector_ = 0;
  uint64_t pending_rip_ = 0;
  uint64_t pending_cr2_ = 0;  // read in the hook: by the time Unicorn has stopped, CR2 may have moved on
  uint64_t pending_rax_ = 0, pending_rdx_ = 0;  // MsrFault: the registers the faulting RDMSR must not change

  // A block (or instruction) that ends in IRETQ/SYSRETQ: recorded once the
  // guest is seen running where it returned to.
  struct PendingReturn {
    bool armed = false;
    ReturnKind kind = ReturnKind::None;
    uint64_t rip = 0, block_start = 0, block_end = 0;
    uint8_t from_cpl = 0;
  } ret_;

  // The VT-x model, when tracing. Device events wait in deferred_ so the
  // modelled exit is recorded before the device work it caused, as the KVM
  // backend records them. At block granularity a code hook watches each
  // of the kernel's sensitive instructions (watch_kernel_sensitive).
  std::unique_ptr<vmx::VmxModel> model_;
  DeferredSink deferred_;
  size_t watched_ = 0;
  // Which I/O instruction an I/O hook belongs to (Unicorn's RIP there can be
  // stale, see InsnDecoder::io_insn): at block granularity the current
  // block's I/O instructions, taken in order (a REP one until RCX runs
  // out); per instruction, the instruction on_code last saw.
  bool per_insn_ = false;
  const std::vector<IoInsn>* block_io_ = nullptr;
  int io_index_ = -1;
  uint64_t prev_rcx_ = 0, insn_rip_ = 0;
  // Shadow paging (EPT off only): every guest store is checked against the
  // model's page-table pages (on_store). Stores above guest RAM (aliases)
  // are translated through the guest's tables, a few pages cached; the
  // cache holds while the model's page tables keep their generation.
  uint64_t ram_size_ = 0;
  struct StoreTlb {
    uint64_t va_page = ~0ull, pa_page = ~0ull, generation = ~0ull;
  };
  std::array<StoreTlb, 16> store_tlb_{};

  bool stopping_ = false;  // a hook ended the run
  RunResult stop_result_;
  std::atomic<bool> watchdog_{false};
  // Interrupt delivery (interrupt_due): the guest time at which the timer
  // may next interrupt; `look_` asks the next block to poll the controllers
  // whatever the time (a device access may have raised a line or sent an
  // EOI); `irq_stop_` says the block hook
  // stopped Unicorn to take one.
  uint64_t next_irq_ns_ = 0;
  bool irq_look_ = true;
  bool irq_held_ = false;  // one was pending, held off by IF clear or a shadow
  bool if_dirty_ = false;  // held: an instruction that may set IF ran since IF was last read
  bool irq_stop_ = false;
  // The instruction executed last opened an interrupt shadow (STI, MOV SS):
  // set as a block that ends in one starts (or per instruction, in
  // on_code), cleared by any delivery.
  bool shadow_ = false;
  uint64_t halted_ns_ = 0;
  Ring3Runner ring3_;  // mode bt: who runs ring 3
  std::function<void(EventSink&, uint64_t)> finish_counters_;
  bool ring3_stop_ = false;  // the block hook stopped before a ring-3 block
  uint64_t direct_ns_ = 0, ring3_instructions_ = 0, direct_exits_ = 0;
  uint64_t faults_ = 0;  // exceptions and `int n` delivered (the exit limit counts them too)
  std::atomic<uint64_t> instructions_{0}, io_{0};
  uint64_t steps_ = 0;
  uint64_t step_page_va_ = ~0ull, step_page_pa_ = 0, step_cr3_ = 0;
  control::RunControl* control_ = nullptr;  // run --qmp
};

}  // namespace ringscope::emulation
