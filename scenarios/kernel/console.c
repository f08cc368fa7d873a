// console.c — where the kernel's and the programs' output goes.
//
// One interface, two drivers, chosen at boot. The native build always has
// the UART. The PV build (-DPV) asks whether it runs under ringscope's
// hypervisor (hypercall.c) and, if so, uses virtio-console: kernel output
// is collected a line at a time, and a program's write() hands the
// program's own pages to the device, one descriptor per page piece, one
// notify per call. Elsewhere (QEMU, a machine without virtio) the PV build
// falls back to the UART, like a real kernel's pv_ops.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"

// Kernel output (cprintf, markers) and programs' write()s from several
// CPUs take turns through this lock, a line or a write() at a time. After
// a panic nobody takes it: the panicking CPU may already hold it.
static struct spinlock conslock = {0, "console", 0};
volatile int panicked;

void conslock_acquire(void) {
  if (!panicked)
    acquire(&conslock);
}
void conslock_release(void) {
  if (!panicked)
    release(&conslock);
}

#ifdef PV
static int use_virtio;
static char line[256];
static int nline;
#endif

void consoleinit(void) {
#ifdef PV
  use_virtio = pv && vcons_init() == 0;
#endif
}

// Sends kernel output collected so far.
void consflush(void) {
#ifdef PV
  if (!use_virtio || nline == 0)
    return;
  vcons_queue((uint64)line, nline);  // identity map: the address is physical
  vcons_send();
  nline = 0;
#endif
}

void consputc(int c) {
#ifdef PV
  if (use_virtio) {
    line[nline++] = (char)c;
    if (c == '\n' || nline == sizeof(line))
      consflush();
    return;
  }
#endif
  uartputc(c);
}

static int64 conswrite_locked(struct proc *p, uint64 buf, uint64 n);

// write(1, buf, n) from program p: n bytes at user address buf.
int64 conswrite(struct proc *p, uint64 buf, uint64 n) {
  conslock_acquire();
  int64 r = conswrite_locked(p, buf, n);
  conslock_release();
  return r;
}

static int64 conswrite_locked(struct proc *p, uint64 buf, uint64 n) {
#ifdef PV
  if (use_virtio) {
    consflush();
    for (uint64 done = 0; done < n;) {
      uint64 va = buf + done, pa = uva2pa(p->pml4, va);
      if (!pa && (uvmfault(p, va) < 0 || !(pa = uva2pa(p->pml4, va))))
        return done ? (int64)done : -1;
      uint64 m = PGSIZE - (va & (PGSIZE - 1));
      if (m > n - done)
        m = n - done;
      vcons_queue(pa, (uint32)m);
      done += m;
    }
    vcons_send();
    return (int64)n;
  }
#endif
  char chunk[128];
  for (uint64 done = 0; done < n;) {
    uint64 m = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
    if (copyin(p, chunk, buf + done, m) < 0)
      return done ? (int64)done : -1;
    for (uint64 i = 0; i < m; i++)
      uartputc(chunk[i]);
    done += m;
  }
  return (int64)n;
}

static int consgetc(void) {
#ifdef PV
  if (use_virtio)
    return vcons_getc();
#endif
  return uartgetc();
}

// read(0, buf, n) from program p: what the console has received, at most
// n bytes and at most one line (it stops after a newline). 0 when nothing
// is left: the end of the input.
int64 consread(struct proc *p, uint64 buf, uint64 n) {
  char chunk[64];
  uint64 done = 0;
  int c = 0;
  while (done < n && c != '\n') {
    uint64 m = 0;
    while (m < sizeof(chunk) && done + m < n && (c = consgetc()) >= 0) {
      chunk[m++] = (char)c;
      if (c == '\n')
        break;
    }
    if (m == 0)
      break;
    if (copyout(p, buf + done, chunk, m) < 0)
      return done ? (int64)done : -1;
    done += m;
    if (c < 0)
      break;
  }
  return (int64)done;
}

// The disk: virtio-blk under ringscope's hypervisor (PV build), else the
// ATA disk. Whole 512-byte sectors; buf is a kernel (physical) address.
// The driver is set up at the first request, or earlier by disk_init()
// (disk-read does, so that its first timed read is a read and nothing else).
#ifdef PV
static int vblk = -1;
#endif

void disk_init(void) {
#ifdef PV
  if (vblk < 0)
    vblk = pv && vblk_init() == 0;
#endif
}

int disk_rw(int write, uint64 sector, void *buf, uint32 nsect) {
  disk_init();
#ifdef PV
  if (vblk)
    return vblk_rw(write, sector, buf, nsect);
#endif
  return ide_rw(write, sector, buf, nsect);
}
