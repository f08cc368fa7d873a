// emu_smp.cpp — several vCPUs on Unicorn: one engine per vCPU, all over the
// one guest RAM (the Machine's mapping, shared by every engine), run in
// turn on one host thread.
//
// Deterministic round-robin, as QEMU's single-threaded TCG does it: each
// vCPU in order gets a turn of kSmpQuantum instructions (to the end of the
// block that crosses it); a PAUSE ends its turn early (a spin-wait loop
// cannot make progress until another vCPU runs: VT-x calls this PAUSE-loop
// exiting); HLT ends it until an interrupt can wake it. A round is
// kSmpQuantum ns of guest time, the clock every local APIC timer and the
// PIT run on, as if the vCPUs had run side by side; when every vCPU is
// halted the clock jumps to the earliest timer. The same guest therefore
// takes its interrupts and IPIs at the same instructions on any host.
//
// The application processors wait for INIT and STARTUP from the boot CPU's
// local APIC (core's LocalApics, the machine's device at 0xfee00000), then
// start in real mode at the STARTUP page, as on a PC.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "emu_loop.h"
#include "emu_smp.h"
#include "ringscope/i18n.h"
#include "ringscope/machine.h"
#include "ringscope/supervisor.h"
#include "unicorn_cpu.h"

namespace ringscope::emulation {

namespace {

// The run's guest clock: the start of the round plus what the vCPU running
// now has run of it, never going back (a later vCPU of the same round sees
// the time the earlier ones reached).
class SmpClock {
 public:
  uint64_t now() {
    uint64_t t = base_ + (running_ ? running_->instructions() - start_ : 0) * EmuLoop::kGuestNsPerInstruction;
    last_ = std::max(last_, t);
    return last_;
  }
  void running(const EmuLoop* loop) {
    now();
    running_ = loop;
    start_ = loop ? loop->instructions() : 0;
  }
  // The round is over: `quantum` ns of it passed (0: only what ran).
  void end_round(uint64_t quantum) {
    base_ = std::max(last_, base_ + quantum);
    last_ = base_;
  }
  void jump_to(uint64_t t) {
    base_ = std::max(base_, t);
    last_ = std::max(last_, base_);
  }

 private:
  uint64_t base_ = 0, last_ = 0, start_ = 0;
  const EmuLoop* running_ = nullptr;
};

struct Vcpu {
  std::unique_ptr<UnicornCpu> cpu;
  std::unique_ptr<EmuLoop> loop;
  bool started = false;
};

}  // namespace

Result<RunResult> run_smp(Machine& machine, EventSink& sink, const RunOptions& options, EmulationOptions emu,
                          uint64_t* instructions) {
  LocalApics* lapics = machine.lapics();
  const auto n = static_cast<size_t>(machine.config().vcpus);
  if (!lapics || lapics->count() != static_cast<int>(n))
    return make_error(ErrorKind::Usage, trf("{} vCPUs under emulation need the machine's own local APICs "
                                            "(--irqchip vmm, the emulation default)",
                                            n));
  SmpClock clock;
  auto now = [&clock] { return clock.now(); };
  std::vector<Vcpu> vcpus(n);
  for (size_t i = 0; i < n; i++) {
    TRY_ASSIGN(vcpus[i].cpu, UnicornCpu::create(machine.memory()));
    vcpus[i].loop = std::make_unique<EmuLoop>(machine, *vcpus[i].cpu, sink, options, emu, static_cast<uint32_t>(i));
    TRY(vcpus[i].loop->install_hooks());
    vcpus[i].loop->join_smp({lapics, now});
  }
  // Only the boot CPU gets the boot state; the others wait for STARTUP.
  TRY(vcpus[0].cpu->apply_boot_state(machine.boot()));
  vcpus[0].started = true;
  lapics->set_clock(now);
  machine.pit().set_clock(now);

  std::atomic<bool> stop{false};
  SupervisedLoop supervised;
  supervised.run = [&] {
    for (auto& v : vcpus) v.loop->begin();
    RunResult result;
    size_t winner = 0;
    int idle_jumps = 0;
    auto end = [&](size_t i, RunResult r) {
      winner = i;
      result = std::move(r);
    };
    for (bool over = false; !over;) {
      if (stop.load(std::memory_order_relaxed)) {
        RunStop s = wall_time_stop(options.limits);
        RunResult r;
        r.end = s.end;
        r.message = std::move(s.message);
        end(0, std::move(r));
        break;
      }
      bool yielded = false;
      for (size_t i = 0; i < n && !over; i++) {
        Vcpu& v = vcpus[i];
        for (const LocalApics::Startup& s : lapics->take_startups(static_cast<uint32_t>(i))) {
          auto st = v.loop->startup(s);
          if (!st.ok()) {
            RunResult r;
            r.end = RunEndReason::VmmError;
            r.message = st.error().message;
            end(i, std::move(r));
            over = true;
            break;
          }
          v.started = s.mode == LocalApics::Delivery::Startup;
        }
        if (over) break;
        if (lapics->waiting_for_startup(static_cast<uint32_t>(i))) v.started = false;
        if (!v.started || (v.loop->halted() && !v.loop->wakes())) continue;
        clock.running(v.loop.get());
        TurnEnd e = v.loop->turn(kSmpQuantum);
        clock.running(nullptr);
        if (e == TurnEnd::Yield) yielded = true;
        if (e == TurnEnd::Ended) {
          end(i, v.loop->ended());
          over = true;
        }
      }
      if (over) break;
      clock.end_round(yielded ? kSmpQuantum : 0);
      // Is any vCPU able to run now? If not, every one waits for a timer:
      // the clock jumps to the earliest (twice at most without a wake-up,
      // as a lone vCPU's HLT: an edge that wakes nobody twice never will).
      bool runnable = false;
      std::optional<uint64_t> wake;
      for (size_t i = 0; i < n; i++) {
        Vcpu& v = vcpus[i];
        if (!v.started) {
          // A STARTUP on its way is taken at the top of its turn.
          if (lapics->has_startups(static_cast<uint32_t>(i))) runnable = true;
          continue;
        }
        if (!v.loop->halted() || v.loop->wakes()) {
          runnable = true;
          continue;
        }
        if (auto d = v.loop->wake_deadline(); d && (!wake || *d < *wake)) wake = d;
      }
      if (runnable) {
        idle_jumps = 0;
        continue;
      }
      if (!wake || ++idle_jumps > 2) {
        RunResult r;
        r.end = RunEndReason::Halted;
        r.message = tr("every vCPU halted with nothing left to wake it (interrupts off, or no timer armed)");
        end(0, std::move(r));
        break;
      }
      clock.jump_to(*wake);
    }
    // Every vCPU records its counters on its lane; the run, one run_end.
    for (size_t i = 0; i < n; i++) {
      RunResult r = vcpus[i].loop->finish_vcpu(i == winner ? result : RunResult{});
      if (i == winner) result = std::move(r);
    }
    result.exits = 0;
    result.steps = 0;
    vcpus[winner].loop->finish_devices();
    uint64_t frozen = clock.now();
    machine.pit().set_clock([frozen] { return frozen; });
    lapics->set_clock([frozen] { return frozen; });
    if (options.level != TraceLevel::Off) emit_run_end(sink, result, static_cast<uint32_t>(winner), monotonic_ns());
    return result;
  };
  supervised.stop = [&](std::thread::native_handle_type) {
    stop.store(true, std::memory_order_relaxed);
    for (auto& v : vcpus) v.loop->request_stop();
  };
  supervised.progress = [&] {
    uint64_t insns = 0;
    for (const auto& v : vcpus) insns += v.loop->instructions();
    return fmt::format("{} vCPUs, {} instructions", n, insns);
  };
  RunResult result = supervise(machine, options, supervised);
  uint64_t total = 0;
  for (const auto& v : vcpus) total += v.loop->instructions();
  if (instructions) *instructions = total;
  return result;
}

}  // namespace ringscope::emulation
