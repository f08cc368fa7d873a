// hypercalls.h — the one table of ringscope hypercalls (docs/hypercalls.md).
//
// ABI, the same idea as VMware's backdoor port: the guest loads the number
// into RAX and up to four arguments into RBX, RCX, RDX, RSI, then executes
// `outl %eax, $0xf8`. The VMM sees the port exit, reads the registers,
// does the call, writes the result into RAX and resumes the guest after the
// `out`. No `vmcall`: on this project's PVM host it hangs (docs/hosts.md), and
// a port exit is the one path every KVM flavour (and the emulator) has.
//
// This header is read by the VMM (core/src/devices/hypercall.cpp), the CLI
// and the docs. The numbers themselves are the guest ABI header's
// (scenarios/user/include/ringscope/guest_abi.h, HC_*), which the teaching
// kernel includes too: one copy, nothing to keep in step.
//
// Errors are negative numbers in RAX, errno style (-ENOSYS, -EFAULT, ...),
// so a guest can test `(int64)rax < 0`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ringscope/guest_abi.h"

namespace ringscope {

// Port 0xf8: right after the probe port (0xf0..0xf7), and below 0x100 so
// `outl %eax, $0xf8` takes the port as an immediate and RDX stays free for
// an argument (VMware's backdoor, with its port in DX, cannot do that).
inline constexpr uint16_t kHypercallPort = HC_PORT;
inline constexpr uint16_t kHypercallWindow = HC_PORTS;

enum class Hypercall : uint64_t {
  Version = HC_VERSION,             // () -> kHypercallAbiVersion
  ConsoleWrite = HC_CONSOLE_WRITE,  // (gpa, len) -> bytes written: the whole buffer in one exit
  Yield = HC_YIELD,                 // () -> 0: give the host CPU back (sched_yield)
  Halt = HC_HALT,                   // (status) -> does not return: power off, run ends with status
  TimeNs = HC_TIME_NS,              // () -> host wall-clock time, ns since the Unix epoch
  MonotonicNs = HC_MONOTONIC_NS,    // () -> host monotonic time, ns
};

inline constexpr uint64_t kHypercallAbiVersion = HC_ABI_VERSION;
inline constexpr uint64_t kHypercallConsoleMax = 64 * 1024;  // most bytes one ConsoleWrite takes

// Results (two's complement in RAX).
inline constexpr int64_t kHcENOSYS = HC_ENOSYS;  // unknown hypercall number
inline constexpr int64_t kHcEFAULT = HC_EFAULT;  // a buffer outside guest RAM
inline constexpr int64_t kHcEINVAL = HC_EINVAL;  // an argument out of range
static_assert(kHypercallPort + kHypercallWindow <= 0x100, "outl %eax, $HC_PORT takes the port as an 8-bit immediate");

// ---- the `vmcall` transport: KVM's own hypercalls ---------------------------
// On VT-x/AMD-V hosts a guest can execute `vmcall` (`vmmcall`); the CPU
// exits (reason 18) and KVM answers the KVM_HC_* numbers it implements in
// the kernel, without a user-space exit; the vCPU's `hypercalls` stat
// counts them. Same registers: number in RAX, arguments in RBX, RCX, RDX,
// RSI, result in RAX (Linux, Documentation/virt/kvm/x86/hypercalls.rst).
// On this project's PVM host `vmcall` hangs inside KVM_RUN (docs/hosts.md);
// the emulation backend answers the way KVM would (kvm_hypercall_result).
inline constexpr uint64_t kKvmHcVapicPollIrq = 1;  // KVM_HC_VAPIC_POLL_IRQ: returns 0, nothing else
inline constexpr int64_t kKvmENOSYS = -1000;       // -KVM_ENOSYS: a number KVM does not handle
inline constexpr int64_t kKvmEPERM = -1;           // -KVM_EPERM: vmcall from CPL > 0

// What KVM returns in RAX for `vmcall` number nr made at cpl, for the
// numbers that need no other state (VAPIC_POLL_IRQ, unknown ones).
inline uint64_t kvm_hypercall_result(uint64_t nr, uint8_t cpl) {
  if (cpl != 0) return static_cast<uint64_t>(kKvmEPERM);
  return nr == kKvmHcVapicPollIrq ? 0 : static_cast<uint64_t>(kKvmENOSYS);
}

struct HypercallInfo {
  Hypercall number;
  std::string_view name;  // "console_write"
  uint8_t args;           // how many of RBX, RCX, RDX, RSI it reads
  std::string_view summary;
};

// The table, in number order.
std::span<const HypercallInfo> hypercall_table();
const HypercallInfo* find_hypercall(uint64_t number);
std::optional<Hypercall> hypercall_from_name(std::string_view name);

}  // namespace ringscope
