// emu_smp.h — mode `emulation` with several vCPUs (emu_smp.cpp).
#pragma once

#include <cstdint>

#include "emulation_backend.h"
#include "ringscope/backend.h"

namespace ringscope::emulation {

// Runs the machine's vCPUs (machine.config().vcpus > 1) in deterministic
// round-robin on this thread's supervisor; `instructions` gets the sum
// every vCPU executed.
Result<RunResult> run_smp(Machine& machine, EventSink& sink, const RunOptions& options, EmulationOptions emu,
                          uint64_t* instructions);

}  // namespace ringscope::emulation
