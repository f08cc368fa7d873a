// msr.h — which model-specific registers the emulated CPU has.
//
// RDMSR and WRMSR of an MSR the processor does not implement raise #GP(0)
// (SDM Vol. 2B, RDMSR/WRMSR: "If the value in ECX specifies a reserved or
// unimplemented MSR address"), and KVM does the same for one it does not
// emulate. QEMU's software CPU, which Unicorn carries, instead reads 0 and
// drops the write, so the emulation backend asks this table first and
// raises the fault itself.
#pragma once

#include <cstdint>

namespace ringscope::arch {

// True for the MSRs the emulation mode's CPU model implements (the set
// QEMU's TCG helpers answer: time stamp, APIC base, SYSENTER, SYSCALL,
// segment bases, PAT, MTRRs, machine check, misc enable). Anything else
// faults.
bool msr_implemented(uint32_t msr);

}  // namespace ringscope::arch
