// hypercall.c — calling ringscope's hypervisor directly (PV build only).
//
// A paravirtual kernel knows it is a guest, so instead of poking a device
// register and letting the hypervisor guess what it meant, it asks: number
// in rax, arguments in rbx, rcx, rdx, rsi, then one `out` to port 0xf8 (the
// doorbell). The VMM handles the exit, puts the result in rax, and we go on
// after the `out`. One exit per request, whatever the request carries.
// docs/hypercalls.md; the numbers (HC_*) are in guest_abi.h, which the VMM
// reads too.
//
// Why a port and not `vmcall`: `vmcall` is the instruction made for this,
// but on this project's PVM host it hangs (docs/hosts.md), while a port
// exit works under every KVM flavour and under the emulator.

#include "types.h"
#include "defs.h"

int pv;  // 1: running under ringscope's hypervisor, use PV drivers

static int64 hypercall(uint64 nr, uint64 a0, uint64 a1, uint64 a2, uint64 a3) {
  uint64 ret = nr;
  asm volatile("outl %%eax, %1"
               : "+a"(ret)
               : "i"(HC_PORT), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
               : "memory");
  return (int64)ret;
}

// Detect the hypervisor without cpuid (which hangs on this host): the
// probe port answers "RING", and the doorbell answers the ABI version.
// Elsewhere (QEMU) the `out` is ignored and rax keeps the number, 0.
void pvinit(void) {
  pv = under_ringscope() && hypercall(HC_VERSION, 0, 0, 0, 0) == HC_ABI_VERSION;
}

int64 hc_console_write(const char *buf, uint64 n) {
  return hypercall(HC_CONSOLE_WRITE, (uint64)buf, n, 0, 0);  // identity map: the address is physical
}
int64 hc_time_ns(void) { return hypercall(HC_TIME_NS, 0, 0, 0, 0); }
int64 hc_yield(void) { return hypercall(HC_YIELD, 0, 0, 0, 0); }
void hc_halt(int status) { hypercall(HC_HALT, (uint64)status, 0, 0, 0); }
