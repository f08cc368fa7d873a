// acpi.c — how many CPUs are there? The ACPI MADT says.
//
// Firmware describes the machine in ACPI tables. The loader hands us the
// physical address of the root pointer (RSDP) in the PVH start_info's
// rsdp_paddr (QEMU's PVH loader fills it in; ringscope's VMM leaves it 0
// unless it gives the guest more than one vCPU). The chain is
//
//   RSDP ("RSD PTR ") -> RSDT (32-bit pointers) or XSDT (64-bit pointers)
//        -> one of the tables it lists: the MADT, signature "APIC"
//        -> after a header, entries of (type, length, ...); type 0 is a
//           processor's local APIC: its ID, and whether it is enabled.
//
// Every table is checked (signature, length, checksum) before it is
// believed. No RSDP, or no MADT: one CPU, and the kernel runs exactly as a
// uniprocessor kernel.

#include "types.h"
#include "defs.h"
#include "memlayout.h"

struct rsdp {
  char sig[8];          // "RSD PTR "
  uint8 checksum;       // the first 20 bytes sum to 0
  char oemid[6];
  uint8 revision;       // 0: ACPI 1.0 (RSDT only), 2: has an XSDT
  uint32 rsdt;
  uint32 length;
  uint64 xsdt;
  uint8 xchecksum;      // all `length` bytes sum to 0
  uint8 reserved[3];
} __attribute__((packed));

struct sdthdr {         // every other table starts with this
  char sig[4];
  uint32 length;        // of the whole table, this header included
  uint8 revision;
  uint8 checksum;       // all `length` bytes sum to 0
  char oemid[6];
  char oemtable[8];
  uint32 oemrevision, creator, creatorrevision;
} __attribute__((packed));

struct madt {
  struct sdthdr h;      // "APIC"
  uint32 lapicaddr;     // where every CPU sees its local APIC
  uint32 flags;
  uint8 entries[];      // variable-length entries up to h.length
} __attribute__((packed));

#define MADT_LAPIC 0              // entry type: processor local APIC
#define MADT_LAPIC_ENABLED 0x1    // flag: this processor can be used

static int sum(const void *p, uint64 n) {
  uint8 s = 0;
  for (uint64 i = 0; i < n; i++)
    s += ((const uint8 *)p)[i];
  return s;
}

// Only tables inside the kernel's identity map can be read.
static int mapped(uint64 pa, uint64 n) { return pa != 0 && pa < PHYSTOP && n <= PHYSTOP - pa; }

static struct sdthdr *table(uint64 pa, const char *sig) {
  struct sdthdr *h = (struct sdthdr *)pa;
  if (!mapped(pa, sizeof(*h)) || memcmp(h->sig, sig, 4) != 0 || h->length < sizeof(*h) ||
      !mapped(pa, h->length) || sum(h, h->length) != 0)
    return 0;
  return h;
}

static struct madt *findmadt(uint64 rsdppa) {
  struct rsdp *r = (struct rsdp *)rsdppa;
  if (!mapped(rsdppa, sizeof(*r)) || memcmp(r->sig, "RSD PTR ", 8) != 0 || sum(r, 20) != 0)
    return 0;
  // ACPI 2.0+ prefers the XSDT; its entries are 8 bytes wide, the RSDT's 4.
  struct sdthdr *root = 0;
  int width = 4;
  if (r->revision >= 2 && (root = table(r->xsdt, "XSDT")))
    width = 8;
  else if (!(root = table(r->rsdt, "RSDT")))
    return 0;
  uint8 *e = (uint8 *)(root + 1), *end = (uint8 *)root + root->length;
  for (; e + width <= end; e += width) {
    uint64 pa = 0;
    memcpy(&pa, e, width);
    struct sdthdr *h = table(pa, "APIC");
    if (h && h->length >= sizeof(struct madt))
      return (struct madt *)h;
  }
  return 0;
}

// The local APIC IDs of the enabled CPUs, at most max of them, and where
// the local APIC lives. Returns how many; 0 when there is no MADT.
int acpi_cpus(uint64 rsdppa, uint8 *apicids, int max, uint64 *lapicpa) {
  struct madt *m = findmadt(rsdppa);
  if (!m)
    return 0;
  *lapicpa = m->lapicaddr;
  int n = 0;
  uint8 *e = m->entries, *end = (uint8 *)m + m->h.length;
  while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
    // type 0: uint8 processor id, uint8 APIC id, uint32 flags
    if (e[0] == MADT_LAPIC && e[1] >= 8 && (e[4] & MADT_LAPIC_ENABLED) && n < max)
      apicids[n++] = e[3];
    e += e[1];
  }
  return n;
}
