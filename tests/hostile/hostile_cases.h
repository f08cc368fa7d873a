// hostile_cases.h — the hostile-guest suite's one table (hostile_cases.cpp):
// each case is a small guest that attacks the VMM one way, the modes it
// can run in, and what a contained run looks like.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "hostile_guest.h"

namespace ringscope::test {

enum ModeBits : uint8_t {
  kFV = 1 << 0,    // full-virt: KVM, legacy devices, the VMM's PIC
  kPV = 1 << 1,    // paravirt: KVM, virtio, KVM's in-kernel irqchip
  kPVV = 1 << 2,   // paravirt with the VMM's PIC
  kEMU = 1 << 3,   // emulation, legacy devices
  kEMUV = 1 << 4,  // emulation, virtio devices
  kVirtioModes = kPV | kPVV | kEMUV,
  kLegacyModes = kFV | kEMU,
  kAllModes = kFV | kPV | kPVV | kEMU | kEMUV,
};

struct HostileExpect {
  std::vector<RunEndReason> ends;  // any of these is contained
  int status = -1;                 // with GuestExit: this status (-1: any)
  const char* trace_says = "";     // a device event's text or the run_end message contains this
};

struct HostileCase {
  const char* name;
  const char* what;    // one line: the attack
  std::string source;  // the guest (assembly after hostile_prelude.inc)
  uint8_t modes;
  HostileExpect expect;
  RunLimits limits;
  // Emulation-mode cases that fail because of behaviour the emulation
  // loop's owner is fixing: skipped there, with this reason printed.
  const char* emulation_skip = nullptr;
};

const std::vector<HostileCase>& hostile_cases();

}  // namespace ringscope::test
