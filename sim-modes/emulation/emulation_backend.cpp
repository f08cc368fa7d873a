// emulation_backend.cpp — assemble Unicorn for a Machine, run the loop on its
// own thread, and watch the wall clock.
//
// The watchdog is ringscope::supervise (core), as for KVM. Unicorn can be
// stopped from any thread (uc_emu_stop), so a guest that loops forever ends
// with a typed failure and its trace intact.
#include "emulation_backend.h"

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <thread>

#include "emu_loop.h"
#include "emu_smp.h"
#include "ringscope/machine.h"
#include "ringscope/supervisor.h"
#include "unicorn_cpu.h"

namespace ringscope::emulation {

Result<RunResult> EmulationBackend::run(Machine& machine, EventSink& sink, const RunOptions& options) {
  if (machine.config().vcpus > 1) return run_smp(machine, sink, options, options_, &instructions_);
  TRY_ASSIGN(auto cpu, UnicornCpu::create(machine.memory()));
  TRY(cpu->apply_boot_state(machine.boot()));
  EmuLoop loop(machine, *cpu, sink, options, options_);
  TRY(loop.install_hooks());

  SupervisedLoop supervised;
  supervised.run = [&] {
    auto thread = machine.vcpu_threads().enter(0);  // named vcpu0, as the KVM backend's
    return loop.run();
  };
  supervised.sink = &sink;
  // Unicorn can be stopped from any thread (uc_emu_stop); a stop that lands
  // between two uc_emu_start calls is caught by the loop's own check.
  supervised.stop = [&](std::thread::native_handle_type) { loop.request_stop(); };
  // No kick: the loop takes timer interrupts itself, on guest time.
  supervised.progress = [&] {
    return fmt::format("{} instructions, {} device accesses", loop.instructions(), loop.device_accesses());
  };
  RunResult result = supervise(machine, options, supervised);
  instructions_ = loop.instructions();
  return result;
}

}  // namespace ringscope::emulation
