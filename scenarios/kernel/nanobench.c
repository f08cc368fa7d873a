// nanobench.c — the kernel's half of the nanobench scenario: the
// nanobenchmarks of Adams & Agesen (ASPLOS 2006) that must run in ring 0.
//
// bench(op, n, addr) does one operation n times between markers of its own
// ("in: 100 reads"), so the phase in the trace holds the loop and nothing
// else: no system-call entry or exit, no label copied from user memory.
// Each loop is the smallest that does its operation once per iteration.
// Where ring 0 is emulated instruction by instruction (PVM, docs/hosts.md)
// every instruction here costs microseconds, so n stays small.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "../user/include/ringscope/sysnum.h"

#define COM1_SCR 0x3ff  // the UART's scratch register (uart.c: COM1 + 7)

// in: a port read from kernel code. The scratch register is the most
// harmless port there is: a byte that holds what was last written to it,
// which nothing else reads or depends on. Under VT-x every `in` is a VM
// exit, answered by the VMM's UART model; a binary translator turns it
// into a callout inside its monitor, with no exit at all.
static void bench_in(int64 n) {
  for (int64 i = 0; i < n; i++)
    (void)inb(COM1_SCR);
}

// cr8wr: CR8 is the task-priority register: interrupts of a priority
// class at or below it are held back. Writing 0 lets everything through;
// the kernel runs with interrupts off anyway, so nothing changes. VT-x
// runs it without an exit when the hypervisor gives the guest a TPR
// shadow (KVM does, with its local APIC in the kernel); without one,
// every write exits.
static void bench_cr8(int64 n) {
  for (int64 i = 0; i < n; i++)
    lcr8(0);
}

// call/ret: a call of a function that does nothing. The empty asm keeps
// the compiler from inlining it or dropping the call. Native and VT-x run
// it as it is; a binary translator must look up where each `ret` goes
// back to in its translation cache, which is what the paper measured.
__attribute__((noinline)) static uint64 leaf(uint64 x) {
  asm volatile("" : "+r"(x));
  return x;
}

static void bench_callret(int64 n) {
  uint64 x = 0;
  for (int64 i = 0; i < n; i++)
    x = leaf(x);
}

// ptemod: change a page-table entry, then drop the TLB's copy of it
// (invlpg), as a kernel does whenever it changes a mapping. The change:
// flip the accessed bit of the caller's page at va, which the CPU itself
// sets on every access, so the page works the same in either state.
// With EPT the guest's page tables are its own memory and the store is
// free; with shadow paging the hypervisor must see it (docs/vmx-model.md).
static int bench_ptemod(int64 n, uint64 va) {
  volatile pte_t *pte = uvmpte(myproc()->pml4, va);
  if (!pte)
    return -1;
  for (int64 i = 0; i < n; i++) {
    *pte ^= PTE_A;
    invlpg(va);
  }
  return 0;
}

static const struct {
  int op;
  const char *name;   // the row of the paper's table
  const char *unit;   // "in: 100 reads"
} ops[] = {
  {BENCH_IN, "in", "reads"},
  {BENCH_CR8, "cr8wr", "writes"},
  {BENCH_CALLRET, "call/ret", "calls"},
  {BENCH_PTEMOD, "ptemod", "changes"},
};

// 0, or -1 for an unknown op, an n out of range, or (ptemod) an addr that
// is not a page of the caller's.
int bench(int op, int64 n, uint64 addr) {
  char label[56];
  uint64 i;
  for (i = 0; i < NELEM(ops); i++)
    if (ops[i].op == op)
      break;
  if (i == NELEM(ops) || n < 1 || n > BENCH_MAX)
    return -1;
  if (op == BENCH_PTEMOD && !uvmpte(myproc()->pml4, addr))
    return -1;
  snprintf(label, sizeof(label), "%s: %ld %s", ops[i].name, n, ops[i].unit);
  marker(MARK_BEGIN, (uint32)n, label);
  switch (op) {
  case BENCH_IN: bench_in(n); break;
  case BENCH_CR8: bench_cr8(n); break;
  case BENCH_CALLRET: bench_callret(n); break;
  case BENCH_PTEMOD: bench_ptemod(n, addr); break;
  }
  marker(MARK_END, (uint32)n, label);
  return 0;
}
