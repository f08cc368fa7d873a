// direct.h — direct execution: guest ring 3 on the real CPU under KVM, and
// the world switch that takes the guest's state there from the translator
// (Unicorn) and back.
//
// Into ring 3: the guest's registers, segments, control registers, FS/GS
// bases and FPU/SSE state go from the UnicornCpu to the KVM vCPU; GDTR,
// IDTR, TR and LSTAR name the monitor's pages (monitor.h), mapped into the
// guest's address space for as long as ring 3 runs; the vCPU starts at the
// monitor's `iretq`, which pops the guest's own frame. Out of ring 3: a
// trampoline (any exception, `int n`, SYSCALL) or a kick (the machine's
// timer is due, the watchdog) brings KVM_RUN back; the state goes back to
// the UnicornCpu, the monitor's slot comes out, and the EmuLoop delivers
// what happened to the guest kernel, in the translator.
#pragma once

#include <linux/kvm.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "emulation/emu_loop.h"
#include "emulation/unicorn_cpu.h"
#include "kvm/kvm_vm.h"
#include "monitor.h"
#include "ringscope/machine.h"

namespace ringscope::bt {

// Why a stretch of direct execution ended (the world switch's cause).
enum class SwitchCause : uint8_t { Exception, SoftInt, Syscall, Interrupt, Stop };

struct DirectStats {
  uint64_t entries = 0;               // world switches into direct execution
  uint64_t direct_ns = 0;             // time inside direct execution (KVM_RUN and the switches around it)
  uint64_t switch_ns = 0;             // time spent switching (state both ways, the monitor's tables)
  uint64_t kvm_exits = 0;             // KVM_RUN returns
  uint64_t tlb_flushes = 0;           // KVM's shadow of the guest's page tables dropped (they changed)
  uint64_t pvm_int_fixups = 0;        // `int n` that PVM raised as #UD, delivered as `int n`
  uint64_t pvm_syscall_fixups = 0;    // SYSCALL that PVM left in ring 3, delivered as SYSCALL
  uint64_t fingerprints = 0;          // entries that walked the guest's page tables to see whether they changed
  uint64_t fingerprints_skipped = 0;  // entries the page-table trace answered instead (page_table_watch.h)
};

// What the monitor's trace of the guest's page-table pages says before an
// entry (page_table_watch.h): whether it covers every table, and whether a
// traced store changed an entry since the last entry.
struct PageTableHint {
  bool complete = false;
  bool changed = false;
};

class DirectExecution {
 public:
  static Result<std::unique_ptr<DirectExecution>> create(Machine& machine);

  // Runs ring 3 from the state in `cpu` until it traps, for at most
  // `budget_ns` (the machine's timer is due then; ~0: no timer).
  emulation::Ring3Exit run(emulation::UnicornCpu& cpu, uint64_t budget_ns, PageTableHint hint = {});
  // The watchdog: end the run (called from another thread, then a kick).
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  struct kvm_run* run_area() const {
    return vcpu_->run();
  }

  const DirectStats& stats() const { return stats_; }
  // The last stretch: when the switch in began and took, when the trap came
  // back and how long the switch out took (world_switch events).
  struct Timing {
    uint64_t in_at = 0, in_ns = 0, out_at = 0, out_ns = 0;
  };
  const Timing& last_timing() const { return timing_; }
  SwitchCause last_cause() const { return cause_; }
  uint8_t last_vector() const { return vector_; }
  uint64_t last_rip() const { return rip_; }
  const MonitorPages& monitor() const { return monitor_; }

 private:
  DirectExecution(Machine& machine) : machine_(machine) {}
  Status enter(emulation::UnicornCpu& cpu, const arch::CpuState& guest, PageTableHint hint);
  Status flush_if_page_tables_changed(uint64_t cr3, PageTableHint hint);
  Status flush_shadows();
  emulation::Ring3Exit leave(emulation::UnicornCpu& cpu, const arch::CpuState& guest);
  void arm_timer(uint64_t budget_ns);
  void disarm_timer();
  emulation::Ring3Exit stop(RunEndReason end, std::string message);

  Machine& machine_;
  std::unique_ptr<kvm::Vm> vm_;
  std::unique_ptr<kvm::Vcpu> vcpu_;
  MonitorPages monitor_;
  int lstar_slot_ = -1;        // the slot LSTAR was last set for
  struct kvm_sregs sregs_ {};  // what KVM_SET_SREGS was last given
  bool have_sregs_ = false;
  struct kvm_fpu fpu_ {};  // the SSE/x87 state as KVM last had it
  bool have_fpu_ = false;
  uint64_t page_tables_ = 0;  // fingerprint of the guest's page tables as KVM last saw them
  bool seen_page_tables_ = false;
  bool fingerprint_stale_ = false;  // entries since it was taken went by the trace instead
  uint64_t entered_cr3_ = 0;        // the CR3 KVM last ran the guest on
  void* timer_ = nullptr;           // a POSIX timer_t that kicks this thread
  bool timer_made_ = false;
  std::atomic<bool> stop_{false};
  DirectStats stats_;
  Timing timing_;
  SwitchCause cause_ = SwitchCause::Stop;
  uint8_t vector_ = 0;
  uint64_t rip_ = 0;
};

}  // namespace ringscope::bt
