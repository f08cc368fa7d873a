// tasks.c — work the kernel does by itself, chosen with task=NAME on the
// command line. No user program involved: these show what ring-0 device
// access costs on its own.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "proc.h"
#include "x86.h"

// task=hello: a greeting, written by ring 0 one UART register at a time.
static int hello(void) {
  marker(MARK_BEGIN, 0, "hello");
  cprintf("Hello from the ringscope teaching kernel!\n");
  cprintf("Every byte of this line cost two port accesses: LSR, then THR.\n");
  marker(MARK_END, 0, "hello");
  return 0;
}

// task=io-burst bytes=N: N bytes of a fixed printable pattern, a newline
// every 64 bytes. Byte i of line k is alphabet[(k + i) % 62], so every line
// is different and a lost or doubled byte shows in a diff.
static int ioburst(void) {
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  int64 n = cmdline_int("bytes", 4096);
  char label[56];
  if (n < 0 || n > (1 << 20)) {
    cprintf("kernel: io-burst: bytes=%ld out of range 0..1048576\n", n);
    return 2;
  }
  snprintf(label, sizeof(label), "io-burst: %ld bytes", n);
  marker(MARK_BEGIN, (uint32)n, label);
  for (int64 i = 0; i < n; i++) {
    int64 line = i / 64, col = i % 64;
    uartputc(col == 63 ? '\n' : alphabet[(line + col) % 62]);
  }
  marker(MARK_END, (uint32)n, label);
  return 0;
}

// task=disk-io sectors=N: write N sectors of a known pattern to the disk,
// read them back into a second, empty buffer, and compare. The native
// kernel uses the ATA disk (ide.c), the PV kernel virtio-blk
// (virtio_blk.c); the output is the same, the trace is not. Requests move
// at most 16 sectors.
//
// Markers: one phase per direction, and around both the whole transfer,
// "disk-io: 2N sectors" (N written, N read), which is what `ringscope
// compare` divides by for exits and time per KiB. Nothing else happens
// inside it: the pattern is made before, and checked after.
#define DISKIO_MAX 1024  // sectors: 512 KiB each way, so a sweep spans three orders of magnitude
// Both are written in full before they are read, so they live in
// .bss.scratch, which boot does not clear (kernel.ld). Page-aligned, so no
// sector straddles a page: KVM splits a `rep insl` that crosses a page
// boundary into two exits, and lab 9 counts one exit per sector read.
__attribute__((section(".bss.scratch"), aligned(4096))) static uint64 wbuf[DISKIO_MAX * 512 / 8];
__attribute__((section(".bss.scratch"), aligned(4096))) static uint64 rbuf[DISKIO_MAX * 512 / 8];

// Writes buf to (or reads it from) sectors 0..n-1, 16 sectors a request,
// inside its own phase "disk-io: write N sectors". 0, or -1 on a failure.
static int transfer(int write, uint64 *buf, int64 n) {
  const char *verb = write ? "write" : "read";
  char label[56];
  snprintf(label, sizeof(label), "disk-io: %s %ld sectors", verb, n);
  marker(MARK_BEGIN, (uint32)n, label);
  for (int64 s = 0; s < n; s += 16) {
    uint32 m = n - s < 16 ? (uint32)(n - s) : 16;
    if (disk_rw(write, (uint64)s, (char *)buf + s * 512, m) < 0) {
      cprintf("disk-io: %s of sector %ld failed\n", verb, s);
      return -1;
    }
  }
  marker(MARK_END, (uint32)n, label);
  return 0;
}

static int diskio(void) {
  int64 n = cmdline_int("sectors", 16);
  char total[56];
  if (n < 1 || n > DISKIO_MAX) {
    cprintf("kernel: disk-io: sectors=%ld out of range 1..%d\n", n, DISKIO_MAX);
    return 2;
  }
  uint64 words = (uint64)n * 512 / 8;
  // Eight bytes at a time: ring-0 work is slow on this host (emulated).
  for (uint64 i = 0; i < words; i++)
    wbuf[i] = 0x0101010101010101ULL * ((i / 64) + 1) ^ (i * 0x9e3779b97f4a7c15ULL);
  snprintf(total, sizeof(total), "disk-io: %ld sectors", 2 * n);
  marker(MARK_BEGIN, (uint32)(2 * n), total);
  if (transfer(1, wbuf, n) < 0 || transfer(0, rbuf, n) < 0)
    return 1;
  marker(MARK_END, (uint32)(2 * n), total);
  uint64 bad = 0;
  for (uint64 i = 0; i < words; i++)
    if (rbuf[i] != wbuf[i])
      bad++;
  cprintf("disk-io: wrote %ld sectors, read them back: %s\n", n, bad ? "MISMATCH" : "all bytes match");
  return bad ? 1 : 0;
}

// task=disk-read sectors=N cache=C: read sectors 0..N-1 twice, each read
// in its own phase ("disk-read: first read N sectors", then "second"), and
// check that both reads saw the same bytes (whatever the image holds).
// Requests move at most 16 sectors, as in disk-io.
//
// cache=1 puts the guest's own buffer cache in front of the disk, the way
// xv6's bio.c does at its simplest: sectors are read into the cache's
// buffers, and a read hands back the buffer (no copy, as bread() returns a
// struct buf). A request whose sectors are all there already never reaches
// the device: the second read makes no device access at all, no exits,
// nothing for the host's cache to do. With cache=0 each read goes to the
// disk, into its own buffer, and what changes between the two reads is
// only on the host (`run --disk-cache`: its page cache, or O_DIRECT).
// The cache's buffers are wbuf (disk-read writes nothing); bvalid says
// which of them hold what the disk has.
static uint8 bvalid[DISKIO_MAX];
// Where the first read lands without the cache (the second lands in rbuf),
// and a copy of what the first read returned, made outside the phases.
__attribute__((section(".bss.scratch"), aligned(4096))) static uint64 firstbuf[DISKIO_MAX * 512 / 8];

// Reads sectors 0..n-1 inside the phase "disk-read: WHICH read N sectors":
// into buf, or with the cache into its buffers. Returns where the sectors
// are (NULL on a failure); *fromcache counts the ones the cache had.
static uint64 *bread(const char *which, uint64 *buf, int64 n, int usecache, int64 *fromcache) {
  char label[56];
  uint64 *data = usecache ? wbuf : buf;
  snprintf(label, sizeof(label), "disk-read: %s read %ld sectors", which, n);
  marker(MARK_BEGIN, (uint32)n, label);
  for (int64 s = 0; s < n; s += 16) {
    uint32 m = n - s < 16 ? (uint32)(n - s) : 16;
    int hit = usecache;
    for (uint32 i = 0; i < m && hit; i++)
      hit = bvalid[s + i];
    if (hit) {
      *fromcache += m;
      continue;
    }
    if (disk_rw(0, (uint64)s, (char *)data + s * 512, m) < 0) {
      cprintf("disk-read: read of sector %ld failed\n", s);
      return 0;
    }
    for (uint32 i = 0; i < m && usecache; i++)
      bvalid[s + i] = 1;
  }
  marker(MARK_END, (uint32)n, label);
  return data;
}

static int diskread(void) {
  int64 n = cmdline_int("sectors", 64), usecache = cmdline_int("cache", 0);
  int64 first = 0, second = 0;
  if (n < 1 || n > DISKIO_MAX || usecache < 0 || usecache > 1) {
    cprintf("kernel: disk-read: sectors=%ld (1..%d) or cache=%ld (0 or 1) out of range\n", n, DISKIO_MAX, usecache);
    return 2;
  }
  uint64 words = (uint64)n * 512 / 8;
  // The second read's buffer starts different from the first's, so a read
  // that delivered nothing cannot pass for a match.
  memset(rbuf, 0xa5, words * 8);
  memset(bvalid, 0, sizeof(bvalid));
  // The disk's driver was set up at boot (diskinit), so the first timed
  // read is a read and nothing else.
  uint64 *a = bread("first", firstbuf, n, (int)usecache, &first);
  if (a == 0)
    return 1;
  if (a != firstbuf)
    memcpy(firstbuf, a, words * 8);
  uint64 *b = bread("second", rbuf, n, (int)usecache, &second);
  if (b == 0)
    return 1;
  uint64 bad = 0;
  for (uint64 i = 0; i < words; i++)
    if (firstbuf[i] != b[i])
      bad++;
  cprintf("disk-read: read %ld sectors twice, guest buffer cache %s\n", n, usecache ? "on" : "off");
  cprintf("disk-read: second read: %ld sectors from the guest's cache, %ld from the disk; %s\n", second, n - second,
          bad ? "the reads DIFFER" : "both reads match");
  return bad ? 1 : 0;
}

// task=tick ticks=N hz=H: program the PIT for H interrupts a second and
// the PIC to let IRQ 0 through, then enable interrupts and wait for N of
// them with `sti; hlt`: the CPU sleeps until the timer wakes it, runs the
// handler (trap.c -> timer.c), and the loop looks at the count again.
// Interrupts are off again before anything else runs.
static int tick(void) {
  int64 n = cmdline_int("ticks", 20), hz = cmdline_int("hz", 100);
  char label[56];
  if (n < 1 || n > 1000 || hz < 19 || hz > 10000) {
    cprintf("kernel: tick: ticks=%ld (1..1000) or hz=%ld (19..10000) out of range\n", n, hz);
    return 2;
  }
  picinit();
  int count = timerinit((int)hz, (uint64)n);
  cprintf("tick: PIT channel 0 in mode 2, count %d: %ld interrupts a second on IRQ 0\n", count, hz);
  cprintf("tick: PIC IRQ 0-15 at vectors %d-%d, only IRQ 0 unmasked\n", T_IRQ0, T_IRQ0 + NIRQ - 1);
  snprintf(label, sizeof(label), "tick: %ld timer interrupts", n);
  marker(MARK_BEGIN, (uint32)n, label);
  while (ticks < (uint64)n)
    asm volatile("sti; hlt; cli" ::: "memory");
  marker(MARK_END, (uint32)n, label);
  timerstop();
  cprintf("tick: %ld ticks counted, each one a timer interrupt handled in ring 0\n", (int64)ticks);
  return 0;
}

// The vmcall transport (docs/hypercalls.md): KVM's own hypercall ABI, the
// same registers as ringscope's doorbell (number in rax, arguments in rbx,
// rcx, rdx, rsi, result in rax) but the instruction made for it. On VT-x
// `vmcall` always exits; KVM answers its KVM_HC_* numbers in the kernel,
// without asking the VMM. On this project's PVM host it hangs inside
// KVM_RUN, and under QEMU's TCG (no VMX) it is #UD: the scenario declares
// that it needs vmcall, and ringscope refuses to run it under KVM here.
#define KVM_HC_VAPIC_POLL_IRQ 1     // KVM answers 0 and does nothing else
#define KVM_HC_UNKNOWN        0x7f  // no such KVM hypercall
#define KVM_ENOSYS            1000

static int64 kvm_hypercall(uint64 nr) {
  uint64 ret = nr;
  asm volatile("vmcall" : "+a"(ret) : "b"(0), "c"(0), "d"(0), "S"(0) : "memory");
  return (int64)ret;
}

// task=vmcall calls=N: N vmcall hypercalls KVM handles in the kernel
// (KVM_HC_VAPIC_POLL_IRQ), between markers, then one it does not know.
// Under KVM on VT-x the trace shows no user-space exit for them, only the
// vCPU's `hypercalls` statistic moving by N + 1.
static int vmcalltask(void) {
  int64 n = cmdline_int("calls", 16), bad = 0;
  char label[56];
  if (n < 1 || n > 100000) {
    cprintf("kernel: vmcall: calls=%ld out of range 1..100000\n", n);
    return 2;
  }
  snprintf(label, sizeof(label), "vmcall: %ld x KVM_HC_VAPIC_POLL_IRQ", n);
  marker(MARK_BEGIN, (uint32)n, label);
  for (int64 i = 0; i < n; i++)
    if (kvm_hypercall(KVM_HC_VAPIC_POLL_IRQ) != 0)
      bad++;
  marker(MARK_END, (uint32)n, label);
  cprintf("hypercall-vmcall: %ld vmcall KVM_HC_VAPIC_POLL_IRQ: %s\n", n, bad ? "SOME FAILED" : "all returned 0");
  int64 r = kvm_hypercall(KVM_HC_UNKNOWN);
  cprintf("hypercall-vmcall: vmcall of an unknown number returned %ld (%s)\n", r,
          r == -KVM_ENOSYS ? "-KVM_ENOSYS, as expected" : "UNEXPECTED");
  return bad || r != -KVM_ENOSYS ? 1 : 0;
}

// Ask CPU i to run fn (in its scheduler's idle loop, proc.c) and wait
// until it has. An idle CPU sleeps in hlt; its timer wakes it within a
// tick to look.
static void runon(int i, void (*fn)(void)) {
  cpus[i].call = fn;
  while (cpus[i].call)
    asm volatile("pause");
}

// task=smp-hello: every CPU reports in, itself, in turn: the boot CPU
// first, then each CPU smp.c started (runon).
static void reportin(void) {
  struct cpu *c = mycpu();
  if (ismp)
    cprintf("smp-hello: cpu%d reporting in (local APIC ID %d)\n", c->id, c->apicid);
  else
    cprintf("smp-hello: cpu%d reporting in (the only CPU)\n", c->id);
}

static int smphello(void) {
  cprintf("smp-hello: %d CPU%s running this kernel\n", ncpu, ncpu == 1 ? "" : "s");
  marker(MARK_BEGIN, (uint32)ncpu, "smp-hello");
  reportin();
  for (int i = 1; i < ncpu; i++)
    runon(i, reportin);
  marker(MARK_END, (uint32)ncpu, "smp-hello");
  return 0;
}

// task=ipi: one CPU wakes another. For each other CPU in turn: it stops
// its own timer and sleeps in hlt, so that nothing but an IPI can wake
// it; the boot CPU sends it one (vector T_IPI, through its local APIC's
// interrupt command register); it wakes, says so, and sends one back,
// which wakes the boot CPU from its own hlt.
static volatile int ipi_sleeping;

static void ipisleep(void) {
  struct cpu *c = mycpu();
  int before = c->ipis;
  lapictimer(0);
  ipi_sleeping = 1;
  while (c->ipis == before)
    asm volatile("sti; hlt; cli" ::: "memory");
  ipi_sleeping = 0;
  lapictimer(1);
  cprintf("ipi: cpu%d woke from hlt on IPI vector %d; replying to cpu0\n", c->id, T_IPI);
  lapicipi(cpus[0].apicid, T_IPI);
}

static int ipi(void) {
  marker(MARK_BEGIN, (uint32)(ncpu - 1), "ipi: wake each CPU");
  if (ncpu < 2)
    cprintf("ipi: only one CPU, nobody to wake (run it with 2 or more CPUs)\n");
  for (int i = 1; i < ncpu; i++) {
    cpus[i].call = ipisleep;
    while (!ipi_sleeping)
      asm volatile("pause");
    cprintf("ipi: cpu0 sends IPI vector %d to cpu%d (local APIC ID %d)\n", T_IPI, i, cpus[i].apicid);
    int before = cpus[0].ipis;
    lapicipi(cpus[i].apicid, T_IPI);
    while (cpus[0].ipis == before)
      asm volatile("sti; hlt; cli" ::: "memory");
    cprintf("ipi: cpu0 woke on cpu%d's reply\n", i);
    while (cpus[i].call)
      asm volatile("pause");
  }
  marker(MARK_END, (uint32)(ncpu - 1), "ipi: wake each CPU");
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(void);
} tasks[] = {
  {"hello", hello},
  {"io-burst", ioburst},
  {"disk-io", diskio},
  {"disk-read", diskread},
  {"tick", tick},
  {"vmcall", vmcalltask},
  {"smp-hello", smphello},
  {"ipi", ipi},
};

int runtask(const char *name) {
  for (uint64 i = 0; i < NELEM(tasks); i++)
    if (strcmp(tasks[i].name, name) == 0)
      return tasks[i].fn();
  cprintf("kernel: unknown task '%s' (known: hello io-burst disk-io disk-read tick vmcall smp-hello ipi)\n", name);
  return 2;
}
