// defs.h — every kernel function other files call, grouped by file.
#pragma once
#include "types.h"
#include "../user/include/ringscope/guest_abi.h"  // probe port, hypercall numbers: shared with the VMM

struct trapframe;
struct proc;
struct cpu;
struct context;
struct spinlock;
struct hvm_start_info;

// bootinfo.c
struct bootmodule {
  uint64 paddr, size;
  char cmdline[64];
};
void bootinfo_init(uint64 start_info_pa);
int bootmodules(struct bootmodule **mods);
const char *cmdline_get(const char *key);
int64 cmdline_int(const char *key, int64 dflt);
const char *cmdline_string(void);
extern uint64 boot_start_info;  // entry.S stores the PVH start_info GPA here
extern uint64 boot_rsdp;        // the ACPI RSDP's address from start_info, or 0

// kalloc.c
void kinit(void);
void *kalloc(void);
void kfree(void *pa);
uint64 kfree_pages(void);

// vm.c
pte_t *uvmcreate(void);
void uvmfree(pte_t *pml4);
int mappage(pte_t *pml4, uint64 va, uint64 pa, uint64 perm);
uint64 uva2pa(pte_t *pml4, uint64 va);
pte_t *uvmpte(pte_t *pml4, uint64 va);
void switchkvm(void);
void switchuvm(pte_t *pml4);
uint64 kmapmmio(uint64 pa);
int uvmfault(struct proc *p, uint64 va);
void uvmshrink(struct proc *p, uint64 newbrk, uint64 oldbrk);
int copyin(struct proc *p, void *dst, uint64 src, uint64 n);
int copyout(struct proc *p, uint64 dst, const void *src, uint64 n);

// seg.c
void seginit(void);
void set_kstack(uint64 top);

// trap.c
void idtinit(void);
void idtload(void);
void trap(struct trapframe *tf);
extern uint64 ud_syscalls;

// decode.c
void describe_insn(struct proc *p, uint64 rip, char *buf, int size);
const char *exception_name(uint64 vector);

// syscall.c
void syscallinit(void);
void syscall(struct trapframe *tf);

// proc.c
void procinit(void);
int runprog(struct bootmodule *m, int firstpid, int copies);
void scheduler(void) __attribute__((noreturn));
void yield(void);
void exitproc(int status);
void killproc(int status, const char *why);

// spinlock.c
void initlock(struct spinlock *lk, const char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int holding(struct spinlock *lk);
void pushcli(void);
void popcli(void);

// acpi.c
int acpi_cpus(uint64 rsdppa, uint8 *apicids, int max, uint64 *lapicpa);

// lapic.c
void lapicinit(int bsp);
uint32 lapicid(void);
void lapiceoi(void);
void lapictimer(int on);
void lapicipi(uint32 apicid, int vector);
void lapicstartap(uint32 apicid, uint64 addr);

// smp.c
void smpinit(void);
void mpenter(void);

// exec.c
int exec(struct proc *p, struct bootmodule *m, uint64 *entry, uint64 *sp, uint64 *argc, uint64 *argv);

// tasks.c
int runtask(const char *name);

// nanobench.c
int bench(int op, int64 n, uint64 addr);

// uart.c
void uartinit(void);
void uartputc(int c);
int uartgetc(void);

// console.c
void consoleinit(void);
void diskinit(void);
void consputc(int c);
void consflush(void);
void conslock_acquire(void);
void conslock_release(void);
extern volatile int panicked;
int64 conswrite(struct proc *p, uint64 buf, uint64 n);
int64 consread(struct proc *p, uint64 buf, uint64 n);
int disk_rw(int write, uint64 sector, void *buf, uint32 nsect);

// ide.c
int ide_rw(int write, uint64 sector, void *buf, uint32 nsect);

// picirq.c
void picinit(void);
void picenable(int irq);
void picdisable(int irq);
int piceoi(int irq);

// timer.c
extern volatile uint64 ticks;
int timerinit(int hz, uint64 n);
void timerstop(void);
void timerintr(void);
void irq(struct trapframe *tf);

// rtc.c
int64 clocktime(void);

#ifdef PV
// hypercall.c (numbers HC_*: guest_abi.h, docs/hypercalls.md)
extern int pv;
void pvinit(void);
int64 hc_console_write(const char *buf, uint64 n);
int64 hc_time_ns(void);
int64 hc_yield(void);
void hc_halt(int status);
#endif

#ifdef VIRTIO
// Whether to look for virtio devices. The PV kernel (-DPV) uses them only
// under ringscope's hypervisor, which it has asked (pvinit). The HVM kernel
// with PV drivers (kernel-hvmpv: -DVIRTIO alone, no hypercalls, as AWS's
// HVM images ship) knows nothing of the hypervisor: its drivers probe the
// bus for their device, as any driver does, and fall back to the UART and
// the ATA disk where there is none.
#ifdef PV
#define virtio_wanted() (pv)
#else
#define virtio_wanted() 1
#endif

// virtio.c, virtio_console.c, virtio_blk.c, virtio_balloon.c
void virtio_intr(int dev);
int vcons_init(void);
void vcons_queue(uint64 pa, uint32 len);
void vcons_send(void);
int vcons_getc(void);
int vblk_init(void);
int vblk_rw(int write, uint64 sector, void *buf, uint32 nsect);
// virtio_balloon.c
int vballoon_init(void);
void vballoon_intr(void);
void vballoon_poll(void);
#endif

// printf.c
void cprintf(const char *fmt, ...);
int snprintf(char *buf, int size, const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));
void dumpregs(struct trapframe *tf);

// probe.c (ports and MARK_*: guest_abi.h, docs/probe-port.md)
void probeinit(void);
int under_ringscope(void);
void marker(int phase, uint32 value, const char *label);
void probe_exit(int status) __attribute__((noreturn));

// string.c
void *memset(void *dst, int c, uint64 n);
void *memcpy(void *dst, const void *src, uint64 n);
void *memmove(void *dst, const void *src, uint64 n);
int memcmp(const void *a, const void *b, uint64 n);
uint64 strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, uint64 n);
char *safestrcpy(char *dst, const char *src, int size);

// swtch.S
void swtch(struct context **old, struct context *new);
