// proc.h — CPUs and processes.
//
// Each CPU has a struct cpu: what it is running, its own stacks for traps
// from ring 3 (its TSS, with its own GDT to hold the TSS descriptor), and
// where its scheduler loop waits while a process runs. A process is a
// struct proc in the process table (proc.c); any CPU may run any RUNNABLE
// process.
#pragma once
#include "types.h"

#define NCPU 8    // at most this many CPUs are started
#define NPROC 16  // at most this many processes at once

// Callee-saved registers for swtch(): enough to resume kernel code that
// called swtch(), exactly like xv6's struct context.
struct context {
  uint64 r15, r14, r13, r12, rbx, rbp, rip;
};

// The 64-bit task state segment: where the CPU finds a kernel stack when a
// trap arrives from ring 3 (seg.c).
struct tss {
  uint32 reserved0;
  uint64 rsp0;        // stack for traps from ring 3
  uint64 rsp1, rsp2;
  uint64 reserved1;
  uint64 ist[7];
  uint64 reserved2;
  uint16 reserved3;
  uint16 iomap_base;  // past the end: no I/O bitmap, so user in/out -> #GP
} __attribute__((packed));

struct cpu {
  // syscallentry (trapasm.S) finds these two through %gs after `swapgs`:
  // keep them first, at offsets 0 and 8.
  uint64 kstack;               // top of the running process's kernel stack
  uint64 user_rsp;             // the user's rsp while syscallentry saves it
  int id;                      // index in cpus[]: 0 is the boot CPU
  uint8 apicid;                // its local APIC's ID (acpi.c)
  volatile int started;        // set by the CPU itself once it runs C code
  struct context *scheduler;   // swtch() here to enter the scheduler
  struct proc *proc;           // the process running here, or 0
  int ncli;                    // depth of pushcli nesting (spinlock.c)
  int intena;                  // were interrupts on before pushcli?
  uint64 ticks;                // timer interrupts this CPU has taken
  volatile int ipis;           // inter-processor interrupts it has taken
  void (*volatile call)(void); // work the boot CPU asks of it (tasks.c)
  uint64 gdt[7];               // its own GDT: its own TSS descriptor
  struct tss tss;
};

extern struct cpu cpus[NCPU];
extern int ncpu;    // how many CPUs run this kernel (1 unless acpi.c found more)
extern int ismp;    // 1 once the other CPUs are started: locks and timers matter

enum procstate { UNUSED, EMBRYO, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
  enum procstate state;
  int pid;
  char name[32];
  pte_t *pml4;             // the program's page table (kernel half shared)
  uint64 heap_base;        // first heap byte: page after the loaded image
  uint64 brk;              // program break: heap is [heap_base, brk)
  int status;              // exit status (0..255)
  char *kstack;            // bottom of its kernel stack (KSTACKSIZE bytes)
  struct context *context; // where swtch() left this process's kernel stack
  char label[56];          // its "run NAME" marker
  uint64 divresume;        // on a #DE, continue here (ondivzero); 0: kill
};

struct cpu *mycpu(void);
struct proc *myproc(void);
