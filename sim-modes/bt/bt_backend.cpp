// bt_backend.cpp — assemble mode bt: the translator (Unicorn), direct
// execution (KVM) and the monitor between them, on one thread, watched by
// the supervisor.
#include "bt_backend.h"

#include <fmt/format.h>
#include <pthread.h>

#include <cstring>
#include <thread>

#include "direct.h"
#include "emulation/emu_loop.h"
#include "emulation/unicorn_cpu.h"
#include "kvm/kick.h"
#include "ringscope/events.h"
#include "ringscope/machine.h"
#include "ringscope/paging.h"
#include "ringscope/supervisor.h"
#include "translation_cache.h"

namespace ringscope::bt {

namespace {
// Where the guest kernel will take a trap from ring 3: its own IDT gate's
// handler, or its LSTAR for a SYSCALL (both virtual, in the translator's CPU).
uint64_t guest_entry(GuestMemory& ram, emulation::UnicornCpu& cpu, TrapCause cause, uint8_t vector) {
  arch::CpuState s = cpu.read_state();
  if (cause == TrapCause::Syscall) return s.lstar;
  uint8_t gate[16] = {};
  if (uint64_t(vector) * 16 + 15 > s.idtr.limit) return 0;
  if (read_virtual(ram, s.paging(), s.idtr.base + uint64_t(vector) * 16, gate, 16) != 16) return 0;
  uint64_t lo = 0, mid = 0, hi = 0;
  std::memcpy(&lo, gate, 2);
  std::memcpy(&mid, gate + 6, 2);
  std::memcpy(&hi, gate + 8, 4);
  return lo | (mid << 16) | (hi << 32);
}
}  // namespace

Result<RunResult> BtBackend::run(Machine& machine, EventSink& sink, const RunOptions& options) {
  figures_ = {};
  if (machine.config().vcpus > 1)
    return make_error(ErrorKind::Usage,
                      fmt::format("--mode bt runs one vCPU (its monitor keeps one translator and one direct-execution "
                                  "CPU in step); {} vCPUs run under --mode full-virt",
                                  machine.config().vcpus));
  if (options.level == TraceLevel::Full)
    return make_error(ErrorKind::Usage,
                      "--mode bt has no trace level full: ring 3 runs directly and cannot be stepped from the "
                      "translator; use --level exits, or --mode emulation --level full to see every instruction");
  if (machine.config().irqchip == IrqChip::Kernel)
    return make_error(ErrorKind::Usage,
                      "--mode bt delivers interrupts itself, in the translator (--irqchip vmm); KVM's in-kernel "
                      "irqchip applies to full-virt and paravirt");
  TRY_ASSIGN(auto direct, DirectExecution::create(machine));
  TRY_ASSIGN(auto cpu, emulation::UnicornCpu::create(machine.memory()));
  TRY(cpu->apply_boot_state(machine.boot()));
  emulation::EmulationOptions emu;
  emu.vmx_model = false;  // nothing is modelled: ring 3 really runs under KVM
  bool tracing = options.level != TraceLevel::Off;
  // The EmuLoop's events pass through the cache, which records a callout
  // before the device work it caused.
  TranslationCache cache(machine, *cpu, sink, tracing);
  emulation::EmuLoop loop(machine, *cpu, cache.loop_sink(), options, emu);
  TRY(loop.install_hooks());
  TRY(cache.install());
  loop.set_ring3_runner([&] {
    uint64_t budget = ~0ull;
    if (auto due = machine.next_irq_deadline_ns()) {
      uint64_t now = loop.guest_ns();
      budget = *due > now ? *due - now : 0;
    }
    cache.flush(cpu->reg(UC_X86_REG_RIP));  // the IRETQ's block: its callouts before the switch
    uint64_t kernel_rip = cache.last_return().second;
    BtInsn ret = cache.last_return().first;
    uint64_t user_rip = cpu->reg(UC_X86_REG_RIP);
    PageTableWatch& tables = cache.page_tables();
    PageTableHint hint{tables.complete(), tables.take_dirty()};
    emulation::Ring3Exit x = direct->run(*cpu, budget, hint);
    if (tracing) {
      const DirectExecution::Timing& t = direct->last_timing();
      TrapCause in = ret == BtInsn::Iret     ? TrapCause::Iret
                     : ret == BtInsn::Sysret ? TrapCause::Sysret
                                             : TrapCause::None;
      Event ev = events::world_switch({t.in_at, 0, Source::Vmm}, BtWorld::Translated, BtWorld::Direct, in, 0,
                                      kernel_rip, user_rip, 0, t.in_ns);
      sink.emit(ev);
      if (x.kind != emulation::Ring3Exit::Kind::Stop) {
        TrapCause out = TrapCause::Interrupt;
        switch (direct->last_cause()) {
          case SwitchCause::Exception: out = TrapCause::Exception; break;
          case SwitchCause::SoftInt: out = TrapCause::SoftInt; break;
          case SwitchCause::Syscall: out = TrapCause::Syscall; break;
          default: break;
        }
        uint8_t vector = out == TrapCause::Exception || out == TrapCause::SoftInt ? direct->last_vector() : 0;
        uint64_t handler = out == TrapCause::Interrupt ? 0 : guest_entry(machine.memory(), *cpu, out, vector);
        Event back = events::world_switch({t.out_at, 0, Source::KvmExit}, BtWorld::Direct, BtWorld::Translated, out,
                                          vector, direct->last_rip(), handler, 3, t.out_ns);
        sink.emit(back);
      }
    }
    return x;
  });
  uint64_t started = monotonic_ns();
  loop.set_finish_counters([&](EventSink& out, uint64_t t) {
    cache.flush();  // the last block's callouts
    // VirtualBox-style statistics of the monitor (docs/bt.md).
    const DirectStats& d = direct->stats();
    uint64_t wall = t - started;
    emit_counter(out, t, 0, Source::Vmm, "bt_world_switches", d.entries);
    emit_counter(out, t, 0, Source::Vmm, "bt_direct_ns", d.direct_ns);
    emit_counter(out, t, 0, Source::Vmm, "bt_translated_ns", wall > d.direct_ns ? wall - d.direct_ns : 0);
    emit_counter(out, t, 0, Source::Vmm, "bt_switch_ns", d.switch_ns);
    emit_counter(out, t, 0, Source::Vmm, "bt_kvm_exits", d.kvm_exits);
    emit_counter(out, t, 0, Source::Vmm, "bt_tlb_flushes", d.tlb_flushes);
    emit_counter(out, t, 0, Source::Vmm, "bt_pvm_int_fixups", d.pvm_int_fixups);
    emit_counter(out, t, 0, Source::Vmm, "bt_pvm_syscall_fixups", d.pvm_syscall_fixups);
    emit_counter(out, t, 0, Source::Vmm, "bt_pt_fingerprints", d.fingerprints);
    emit_counter(out, t, 0, Source::Vmm, "bt_pt_fingerprints_skipped", d.fingerprints_skipped);
    emit_counter(out, t, 0, Source::Vmm, "bt_ring3_instructions_translated", loop.ring3_instructions());
    cache.emit_counters(out, t);
  });

  SupervisedLoop supervised;
  supervised.run = [&] {
    auto thread = machine.vcpu_threads().enter(0);  // named vcpu0
    if (tracing) {                                  // the kernel boots as translated code
      Event ev = events::world_switch({monotonic_ns(), 0, Source::Vmm}, BtWorld::None, BtWorld::Translated,
                                      TrapCause::None, 0, 0, machine.boot().rip, 0);
      sink.emit(ev);
    }
    return loop.run();
  };
  supervised.stop = [&](std::thread::native_handle_type t) {
    loop.request_stop();
    direct->request_stop();
    kvm::kick_vcpu(direct->run_area(), t);
  };
  supervised.progress = [&] {
    return fmt::format("{} kernel instructions translated, {} world switches", loop.instructions(),
                       direct->stats().entries);
  };
  supervised.sink = &sink;
  RunResult result = supervise(machine, options, supervised);
  const DirectStats& d = direct->stats();
  figures_.world_switches = d.entries;
  figures_.direct_ns = d.direct_ns;
  figures_.switch_ns = d.switch_ns;
  figures_.translated_ns = result.running_ns() > d.direct_ns ? result.running_ns() - d.direct_ns : 0;
  figures_.ring3_instructions = loop.ring3_instructions();
  figures_.kernel_instructions = loop.instructions();
  figures_.tlb_flushes = d.tlb_flushes;
  figures_.pvm_fixups = d.pvm_int_fixups + d.pvm_syscall_fixups;
  figures_.tc_blocks = cache.blocks();
  figures_.tc_bytes = cache.bytes();
  figures_.tc_block_runs = cache.block_runs();
  figures_.callouts = cache.callouts();
  figures_.io_callouts = cache.callouts(BtInsn::In) + cache.callouts(BtInsn::Out) + cache.callouts(BtInsn::Ins) +
                         cache.callouts(BtInsn::Outs);
  figures_.hottest_callout = cache.hottest_site();
  figures_.callout_ns = cache.callout_ns();
  figures_.pt_store_callouts = cache.callouts(BtInsn::PtStore);
  figures_.fingerprints = d.fingerprints;
  figures_.fingerprints_skipped = d.fingerprints_skipped;
  return result;
}

}  // namespace ringscope::bt
