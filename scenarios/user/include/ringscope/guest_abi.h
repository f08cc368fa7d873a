// guest_abi.h — what a guest and ringscope's VMM agree on: the probe port
// (docs/probe-port.md) and the hypercalls (docs/hypercalls.md).
//
// The one copy of these numbers. Plain C, so the teaching kernel includes
// it as it is (scenarios/kernel/defs.h), and so does any PVH kernel written
// against the installed SDK. The VMM's C++ headers (core/include/ringscope/
// hypercalls.h, devices/probe.h) define their constants from these macros,
// with static_asserts where a C++ type restates one, so the two sides
// cannot differ.
// tests/core/guest_abi_test.cpp checks that no guest source defines them a
// second time.
#pragma once

// ---- the probe port ---------------------------------------------------------
//   in  dword PROBE_PORT       PROBE_MAGIC under ringscope (all ones elsewhere)
//   out dword PROBE_PORT       a marker: the physical address of a probe_marker
//   out       PROBE_EXIT_PORT  the exit status; ends the run (QEMU's isa-debug-exit)
#define PROBE_PORT       0xf0
#define PROBE_EXIT_PORT  0xf4
#define PROBE_PORTS      8            // 0xf0..0xf7 belong to the probe
#define PROBE_MAGIC      0x52494e47   // "RING"

// A marker, as the guest lays it out in memory (64 bytes):
//   struct probe_marker { uint32 phase; uint32 value; char label[PROBE_LABEL_MAX]; };
#define PROBE_MARKER_SIZE 64
#define PROBE_LABEL_MAX   56          // NUL-terminated

// Marker phases: a point in time, or the begin and end of a phase.
#define MARK_POINT 0
#define MARK_BEGIN 1
#define MARK_END   2

// ---- hypercalls -------------------------------------------------------------
// Number in rax, arguments in rbx, rcx, rdx, rsi, then `outl %eax, $HC_PORT`;
// the result comes back in rax (negative: an error, errno style).
#define HC_PORT          0xf8
#define HC_PORTS         4            // 0xf8..0xfb belong to the doorbell

#define HC_VERSION       0   // () -> HC_ABI_VERSION
#define HC_CONSOLE_WRITE 1   // (gpa, len) -> bytes written
#define HC_YIELD         2   // () -> 0: give the host CPU back
#define HC_HALT          3   // (status) -> does not return
#define HC_TIME_NS       4   // () -> wall-clock time, ns since the Unix epoch
#define HC_MONOTONIC_NS  5   // () -> monotonic time, ns

#define HC_ABI_VERSION   1

#define HC_EFAULT  (-14)     // a buffer outside guest RAM
#define HC_EINVAL  (-22)     // an argument out of range
#define HC_ENOSYS  (-38)     // no such hypercall
