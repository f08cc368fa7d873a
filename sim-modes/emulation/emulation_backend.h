// emulation_backend.h — mode `emulation`: the same guest image, the same
// Machine (RAM, bus, devices), run instruction by instruction in software
// on Unicorn instead of on the CPU under KVM. Events carry source `emulator`.
#pragma once

#include "ringscope/backend.h"

namespace ringscope::emulation {

// How the backend watches the guest when the trace level does not need
// every instruction. Unicorn's own FAQ warns that a per-instruction hook can
// cost up to 10x; bench_emulation measures it here.
enum class HookGranularity : uint8_t {
  Block,        // one callback per translated block (instructions counted from a decoded-block cache)
  Instruction,  // one callback per instruction
};

struct EmulationOptions {
  HookGranularity granularity = HookGranularity::Block;  // at level `exits`; level `full` always steps
  // The VT-x model (what would have exited under VT-x) when tracing. Mode bt
  // turns it off: there the guest's ring 3 really runs under KVM.
  bool vmx_model = true;
};

// Several vCPUs (emu_smp.cpp): one Unicorn engine each, run in turn on one
// host thread, each turn this many instructions (a PAUSE or HLT ends one
// sooner). Deterministic round-robin: a round is this many ns of guest time.
inline constexpr uint64_t kSmpQuantum = 20'000;

class EmulationBackend final : public Backend {
 public:
  EmulationBackend() = default;
  explicit EmulationBackend(EmulationOptions options) : options_(options) {}
  std::string_view name() const override { return "unicorn"; }
  Result<RunResult> run(Machine& machine, EventSink& sink, const RunOptions& options) override;

  // Instructions the last run executed (counted at levels exits and full).
  uint64_t instructions() const { return instructions_; }

 private:
  EmulationOptions options_;
  uint64_t instructions_ = 0;
};

}  // namespace ringscope::emulation
