// vm.c — page tables for user programs, and demand paging.
//
// Each program gets its own PML4. Slot 0 is the kernel's identity map
// (shared, supervisor-only: the U bit is clear, so ring 3 cannot touch it);
// slot 1 covers the user region at USERBASE, built from 4 KiB pages with the
// U bit set. x86 requires U at every level of the walk for a user access.

#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "memlayout.h"
#include "proc.h"
#include "x86.h"

extern pte_t boot_pml4[];

static void *zalloc(void) {
  void *p = kalloc();
  if (p)
    memset(p, 0, PGSIZE);
  return p;
}

// The level-1 PTE for va, allocating intermediate tables if alloc is set.
static pte_t *walk(pte_t *pml4, uint64 va, int alloc) {
  pte_t *table = pml4;
  for (int level = 4; level > 1; level--) {
    pte_t *pte = &table[PX(level, va)];
    if (*pte & PTE_P) {
      if (*pte & PTE_PS)
        return 0;  // a 2 MiB kernel page, not a user page table
      table = (pte_t *)PTE_ADDR(*pte);
    } else {
      if (!alloc || !(table = zalloc()))
        return 0;
      *pte = (uint64)table | PTE_P | PTE_W | PTE_U;
    }
  }
  return &table[PX(1, va)];
}

pte_t *uvmcreate(void) {
  pte_t *pml4 = zalloc();
  if (pml4)
    pml4[0] = boot_pml4[0];
  return pml4;
}

int mappage(pte_t *pml4, uint64 va, uint64 pa, uint64 perm) {
  pte_t *pte = walk(pml4, va, 1);
  if (!pte)
    return -1;
  if (*pte & PTE_P)
    panic("mappage: %p already mapped", (void *)va);
  *pte = pa | perm | PTE_P;
  return 0;
}

// Free the user half: every page and page table under slots 1..255.
static void freetable(pte_t *table, int level) {
  for (int i = 0; i < 512; i++) {
    if (!(table[i] & PTE_P))
      continue;
    if (level > 1)
      freetable((pte_t *)PTE_ADDR(table[i]), level - 1);
    else
      kfree((void *)PTE_ADDR(table[i]));
  }
  kfree(table);
}

void uvmfree(pte_t *pml4) {
  for (int i = 1; i < 256; i++)
    if (pml4[i] & PTE_P)
      freetable((pte_t *)PTE_ADDR(pml4[i]), 3);
  kfree(pml4);
}

// The level-1 PTE of user address va, or 0 if it is not a mapped user
// page.
pte_t *uvmpte(pte_t *pml4, uint64 va) {
  if (va < USERBASE || va >= USERTOP)
    return 0;
  pte_t *pte = walk(pml4, va, 0);
  if (!pte || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
    return 0;
  return pte;
}

// The physical address behind user address va, or 0 if it is not a
// mapped user page.
uint64 uva2pa(pte_t *pml4, uint64 va) {
  pte_t *pte = uvmpte(pml4, va);
  return pte ? PTE_ADDR(*pte) | (va & (PGSIZE - 1)) : 0;
}

// Map the 2 MiB around device registers at physical pa (above the 1 GiB
// identity map, like the local APIC's at 0xfee00000) into the kernel's
// page tables, uncached, at virtual == physical; returns pa. Every process
// shares the kernel's PDPT (uvmcreate), so every process sees it too.
uint64 kmapmmio(uint64 pa) {
  extern pte_t boot_pdpt[];
  if (pa >= (1UL << 32))
    panic("kmapmmio: %p is above 4 GiB", (void *)pa);
  pte_t *pde = &boot_pdpt[PX(3, pa)];
  if (!(*pde & PTE_P)) {
    pte_t *pd = zalloc();
    if (!pd)
      panic("kmapmmio: out of memory");
    *pde = (uint64)pd | PTE_P | PTE_W;
  }
  pte_t *pd = (pte_t *)PTE_ADDR(*pde);
  pd[PX(2, pa)] = (pa & ~((1UL << 21) - 1)) | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
  return pa;
}

void switchkvm(void) { lcr3((uint64)boot_pml4); }
void switchuvm(pte_t *pml4) { lcr3((uint64)pml4); }

// Demand paging. sbrk() only moves the program break and the stack region
// starts with one page; the rest is mapped here, on the first touch, when
// the #PF arrives. Returns 0 if va was a legal address and is now mapped.
int uvmfault(struct proc *p, uint64 va) {
  int inheap = va >= p->heap_base && va < p->brk;
  int instack = va >= USTACKTOP - USTACKSIZE && va < USTACKTOP;
  if (!inheap && !instack)
    return -1;
  va = PGROUNDDOWN(va);
  if (uva2pa(p->pml4, va))
    return -1;  // already mapped: a protection fault, not a missing page
  void *mem = zalloc();
  if (!mem)
    return -1;
  if (mappage(p->pml4, va, (uint64)mem, PTE_W | PTE_U) < 0) {
    kfree(mem);
    return -1;
  }
  return 0;
}

// sbrk with a negative size: unmap the heap pages in [newbrk, oldbrk)
// and give them back to kalloc, where the balloon driver may take them.
void uvmshrink(struct proc *p, uint64 newbrk, uint64 oldbrk) {
  for (uint64 va = PGROUNDUP(newbrk); va < oldbrk; va += PGSIZE) {
    pte_t *pte = uvmpte(p->pml4, va);
    if (!pte)
      continue;  // never touched: nothing was mapped
    kfree((void *)PTE_ADDR(*pte));
    *pte = 0;
    invlpg(va);  // this CPU may still have the old translation
  }
}

// Copy n bytes from user address src. Pages the program may legally touch
// but has not touched yet are faulted in, as the CPU would have. -1 if any
// byte is not a legal user address.
// Copy n bytes from kernel address src to user address dst of p, mapping
// heap and stack pages on the way as a fault would. -1: not the program's.
int copyout(struct proc *p, uint64 dst, const void *src, uint64 n) {
  while (n > 0) {
    uint64 pa = uva2pa(p->pml4, dst);
    if (!pa) {
      if (uvmfault(p, dst) < 0)
        return -1;
      pa = uva2pa(p->pml4, dst);
    }
    uint64 chunk = PGSIZE - (dst & (PGSIZE - 1));
    if (chunk > n)
      chunk = n;
    memcpy((void *)pa, src, chunk);
    src = (const char *)src + chunk;
    dst += chunk;
    n -= chunk;
  }
  return 0;
}

int copyin(struct proc *p, void *dst, uint64 src, uint64 n) {
  while (n > 0) {
    uint64 pa = uva2pa(p->pml4, src);
    if (!pa) {
      if (uvmfault(p, src) < 0)
        return -1;
      pa = uva2pa(p->pml4, src);
    }
    uint64 chunk = PGSIZE - (src & (PGSIZE - 1));
    if (chunk > n)
      chunk = n;
    memcpy(dst, (void *)pa, chunk);
    dst = (char *)dst + chunk;
    src += chunk;
    n -= chunk;
  }
  return 0;
}
