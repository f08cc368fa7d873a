// hostile_guest.h — builds and runs the hostile suite's small guests.
//
// A case's guest is a few lines of x86-64 assembly (GNU as, Intel syntax),
// assembled at test time with the host compiler into a flat binary loaded
// at 1 MiB and wrapped into a PVH kernel ELF (support/tiny_elf.h). It starts
// in 64-bit ring 0 with the first 1 GiB identity-mapped, interrupts off.
// hostile_prelude.inc (prepended to every source) gives it macros for the
// probe port, virtio-mmio set-up and the legacy devices.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/machine.h"
#include "ringscope/trace.h"

namespace ringscope::test {

// The ways a case can run: the three modes, paravirt with either irqchip,
// and emulation with either device set (its virtio set is paravirt's guest
// run in software).
enum class HostileMode : uint8_t { FullVirt, Paravirt, ParavirtVmmPic, Emulation, EmulationVirtio };
inline constexpr int kHostileModeCount = 5;
const char* hostile_mode_name(HostileMode m);
bool hostile_mode_uses_kvm(HostileMode m);

// Assembles `source` (after the prelude) into a kernel ELF image; nullopt
// with `error` set if the assembler refused it.
std::optional<std::vector<uint8_t>> build_hostile_guest(const std::string& source, std::string* error);

struct HostileRun {
  RunResult result;
  std::string console;
  Trace trace;              // the run's trace, written and read back
  std::string trace_error;  // why it could not be read, if it could not
  uint64_t trace_bytes = 0;
  std::vector<std::string> device_texts;  // every device event's register text, for checks
};

// Runs a built guest in `mode` with `limits`; nullopt (with the failure
// recorded) if the run could not happen at all. `disk` names a disk image
// (empty: a scratch one).
std::optional<HostileRun> run_hostile_guest(const std::vector<uint8_t>& elf, HostileMode mode, const RunLimits& limits,
                                            const std::string& disk = {});

}  // namespace ringscope::test
