// main.c — what the kernel does after entry.S, top to bottom.
//
// Set up the machine (segments, traps, system calls, memory), start the
// other CPUs if there are any (smp.c), then run the built-in task named on
// the command line (task=...), then every user program handed over as a
// boot module, one after the other (procs=N: N processes of each at once),
// then report the last status through the probe port, which ends the run.

#include "types.h"
#include "defs.h"
#include "proc.h"

void main(void) {
  uartinit();
  probeinit();
#ifdef PV
  pvinit();       // under ringscope's hypervisor? (probe port + a hypercall)
#endif
#ifdef VIRTIO
  picinit();      // virtio devices interrupt through the PIC (IRQ 5, 6)
#endif
  consoleinit();  // the UART, or virtio-console (PV and HVM-with-PV-drivers builds)
  diskinit();     // virtio-blk where the build has it and the device is there
  marker(MARK_BEGIN, 0, "boot");
  seginit();      // GDT + TSS of this CPU
  idtinit();      // exception vectors and int $0x40
  syscallinit();  // STAR/LSTAR/SFMASK for the syscall instruction
  bootinfo_init(boot_start_info);
  kinit();        // free memory from the PVH memory map
  procinit();     // the process table
#ifdef PV
  vballoon_init();  // a memory balloon, if the host gave us one
#endif
  smpinit();      // the other CPUs, if ACPI lists any
  marker(MARK_END, 0, "boot");

  int status = 0;
  int ran = 0;
  const char *task = cmdline_get("task");
  if (task) {
    status = runtask(task);
    ran++;
  }

  struct bootmodule *mods;
  int n = bootmodules(&mods);
  int64 copies = cmdline_int("procs", 1);
  if (n > 0 && (copies < 1 || copies > NPROC)) {
    cprintf("kernel: procs=%ld out of range 1..%d\n", copies, NPROC);
    n = 0;
    status = 2;
    ran++;
  }
  for (int i = 0, pid = 1; i < n; i++, pid += (int)copies) {
    status = runprog(&mods[i], pid, (int)copies);
    ran++;
#ifdef PV
    vballoon_poll();  // a target that came while the program ran
#endif
  }
  if (!ran)
    cprintf("kernel: nothing to run (no task= on the command line, no boot modules)\n");

  // How often user-mode `int $0x40` arrived as #UD and was emulated (trap.c).
  marker(MARK_POINT, (uint32)ud_syscalls, "int40-via-ud");
  probe_exit(status);
}
