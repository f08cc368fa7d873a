// probe.c — the probe port: how the kernel talks to ringscope's VMM
// (docs/probe-port.md).
//
//   in  dword 0xf0   "RING" (0x52494e47) under ringscope, all ones elsewhere
//   out dword 0xf0   a marker: the physical address of a struct probe_marker
//   out dword 0xf4   the exit status; ends the run (QEMU's isa-debug-exit)
//
// A marker costs one VM exit and lets the trace bracket a phase ("run
// syscalls: begin ... end"). Under QEMU the marker port is unclaimed and
// ignored, so the same kernel runs everywhere.

#include "types.h"
#include "x86.h"
#include "defs.h"

// PROBE_PORT, PROBE_EXIT_PORT, PROBE_MAGIC: guest_abi.h (via defs.h),
// the same header the VMM reads.
struct probe_marker {
  uint32 phase;     // MARK_POINT, MARK_BEGIN, MARK_END
  uint32 value;
  char label[PROBE_LABEL_MAX];   // NUL-terminated
};
_Static_assert(sizeof(struct probe_marker) == PROBE_MARKER_SIZE, "the VMM reads 64 bytes");

// The VMM reads the marker by physical address; the kernel's identity map
// makes this variable's address its physical address.
static struct probe_marker pm;
static int ringscope;

void probeinit(void) { ringscope = inl(PROBE_PORT) == PROBE_MAGIC; }

int under_ringscope(void) { return ringscope; }

// pm is one buffer for every CPU: the console lock makes them take turns.
void marker(int phase, uint32 value, const char *label) {
  conslock_acquire();
  consflush();  // output before the marker belongs before it in the trace
  pm.phase = (uint32)phase;
  pm.value = value;
  safestrcpy(pm.label, label, sizeof(pm.label));
  outl(PROBE_PORT, (uint32)(uint64)&pm);
  conslock_release();
}

void probe_exit(int status) {
  consflush();
  outl(PROBE_EXIT_PORT, (uint32)status & 0xff);
  // Only reached if nobody listens on the exit port.
  halt_forever();
  __builtin_unreachable();
}
