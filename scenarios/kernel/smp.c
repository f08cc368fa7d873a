// smp.c — finding and starting the other CPUs.
//
// At power-on one CPU runs (the bootstrap processor, BSP: the one that ran
// entry.S and main()). The others, the application processors (APs), sit
// waiting for the BSP to start them. main() calls smpinit() once memory
// is set up:
//
//  1. Ask ACPI how many CPUs there are and their local APIC IDs (acpi.c).
//     One CPU, or no ACPI: return, and the kernel stays a uniprocessor
//     kernel that never touches a local APIC.
//  2. Map the local APIC's registers and set up the BSP's (lapic.c).
//  3. Copy the AP start-up code (entryother.S) to a page below 1 MiB: an
//     AP starts in 16-bit real mode, which can only reach the first MiB.
//  4. For each AP: give it a stack, send INIT, STARTUP, STARTUP through
//     the local APIC, and wait until it says it runs (cpu->started).
//
// Each AP climbs from real mode to long mode on the BSP's page tables,
// then runs mpenter(): its own local APIC, GDT, TSS, IDT and syscall
// MSRs, then the scheduler, forever.

#include "types.h"
#include "defs.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"

#define TRAMPOLINE 0x7000  // entryother.S's page; must match it

extern char trampoline[], trampoline_end[];
extern volatile uint32 *lapic;
uint64 ap_stack;           // entryother.S loads the starting AP's rsp from here

// How long an AP gets to report in before we give up on it: 500 ticks of
// the boot CPU's local APIC timer, 5 s. Generous: a virtual CPU is a host
// thread, and a busy host may not run it at once.
#define AP_START_TICKS 500

// The APs start here, in 64-bit mode on ap_stack (entryother.S).
void mpenter(void) {
  lapicinit(0);
  seginit();
  idtload();
  syscallinit();
  struct cpu *c = mycpu();
  xchg((volatile uint32 *)&c->started, 1);  // tell the BSP we are up
  scheduler();
}

void smpinit(void) {
  uint8 ids[NCPU];
  uint64 lapicpa = 0;
  int n = acpi_cpus(boot_rsdp, ids, NCPU, &lapicpa);
  if (n <= 1)
    return;  // one CPU: nothing to start

  // With several CPUs, ring 3 runs with interrupts on (the scheduler's
  // timer must get in), so whatever firmware left the 8259A doing must be
  // tamed first: its PIT ticks would arrive at vectors 8-15, the CPU's own
  // exceptions. picinit() moves IRQ 0-15 to vectors 32-47, all masked.
  picinit();
  lapic = (volatile uint32 *)kmapmmio(lapicpa);
  lapicinit(1);

  // cpus[0] is the BSP, whatever its place in the MADT; the rest follow
  // in MADT order.
  uint32 me = lapicid();
  cpus[0].apicid = (uint8)me;
  for (int i = 0; i < n; i++)
    if (ids[i] != me && ncpu < NCPU) {
      cpus[ncpu].id = ncpu;
      cpus[ncpu].apicid = ids[i];
      ncpu++;
    }
  ismp = 1;  // from now on mycpu() asks the local APIC

  memmove((void *)TRAMPOLINE, trampoline, (uint64)(trampoline_end - trampoline));
  for (int i = 1; i < ncpu; i++) {
    char *stack = kalloc();  // its scheduler's stack, for good
    if (!stack)
      panic("smpinit: out of memory");
    ap_stack = (uint64)stack + PGSIZE;
    lapicstartap(cpus[i].apicid, TRAMPOLINE);
    // Spin with interrupts open for a moment each turn, so the timer can
    // count the time we wait (trap.c: cpu->ticks).
    uint64 t0 = cpus[0].ticks;
    while (!cpus[i].started) {
      if (cpus[0].ticks - t0 >= AP_START_TICKS)
        panic("smpinit: cpu%d (local APIC %d) did not start after INIT-SIPI-SIPI", i, cpus[i].apicid);
      asm volatile("sti; pause; cli" ::: "memory");
    }
  }
  cpus[0].started = 1;
}
