// bootinfo.c — read the PVH start_info the loader left us (pvh.h).
//
// Everything the kernel learns from its loader arrives here: the command
// line, the boot modules (user programs), the memory map. We copy what we
// need into kernel variables at once, so the loader's pages (start_info,
// cmdline, module list) need not be kept free afterwards.

#include "types.h"
#include "defs.h"
#include "pvh.h"

#define MAXMODS 8
#define CMDLINE_MAX 512

static char cmdline[CMDLINE_MAX];
static struct bootmodule mods[MAXMODS];
static int nmods;
uint64 boot_rsdp;  // the ACPI root pointer's address, or 0 (acpi.c)

// The RAM ranges from the memory map, for kinit().
struct memrange {
  uint64 start, end;
};
struct memrange bootram[16];
int nbootram;

// Copy a NUL-terminated string from a physical address (identity-mapped).
static void copystr(char *dst, uint64 pa, int size) {
  if (pa == 0 || pa >= 0x40000000UL) {
    dst[0] = 0;
    return;
  }
  safestrcpy(dst, (const char *)pa, size);
}

void bootinfo_init(uint64 pa) {
  struct hvm_start_info *si = (struct hvm_start_info *)pa;
  if (pa == 0 || pa >= 0x40000000UL || si->magic != XEN_HVM_START_MAGIC)
    panic("no PVH start_info at %p (RBX/EBX at entry must point at it, magic 0x336ec578)", (void *)pa);

  copystr(cmdline, si->cmdline_paddr, sizeof(cmdline));
  boot_rsdp = si->rsdp_paddr;

  struct hvm_modlist_entry *ml = (struct hvm_modlist_entry *)si->modlist_paddr;
  for (uint32 i = 0; i < si->nr_modules && nmods < MAXMODS; i++) {
    mods[nmods].paddr = ml[i].paddr;
    mods[nmods].size = ml[i].size;
    copystr(mods[nmods].cmdline, ml[i].cmdline_paddr, sizeof(mods[nmods].cmdline));
    nmods++;
  }

  if (si->version >= 1 && si->memmap_entries > 0) {
    struct hvm_memmap_table_entry *mm = (struct hvm_memmap_table_entry *)si->memmap_paddr;
    for (uint32 i = 0; i < si->memmap_entries && nbootram < (int)NELEM(bootram); i++) {
      if (mm[i].type != HVM_MEMMAP_RAM)
        continue;
      bootram[nbootram].start = mm[i].addr;
      bootram[nbootram].end = mm[i].addr + mm[i].size;
      nbootram++;
    }
  } else {
    // A version 0 start_info has no memory map; assume the default 64 MiB.
    bootram[0].start = 0x100000;
    bootram[0].end = 64 * 1024 * 1024;
    nbootram = 1;
  }
}

int bootmodules(struct bootmodule **m) {
  *m = mods;
  return nmods;
}

const char *cmdline_string(void) { return cmdline; }

// The value of key=value on the command line, or 0. Values end at a space;
// the returned pointer points into a static copy that ends there.
const char *cmdline_get(const char *key) {
  static char val[64];
  uint64 klen = strlen(key);
  const char *p = cmdline;
  while (*p) {
    while (*p == ' ')
      p++;
    if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
      p += klen + 1;
      int i = 0;
      while (p[i] && p[i] != ' ' && i < (int)sizeof(val) - 1) {
        val[i] = p[i];
        i++;
      }
      val[i] = 0;
      return val;
    }
    while (*p && *p != ' ')
      p++;
  }
  return 0;
}

int64 cmdline_int(const char *key, int64 dflt) {
  const char *v = cmdline_get(key);
  if (!v || !*v)
    return dflt;
  int64 n = 0;
  for (; *v; v++) {
    if (*v < '0' || *v > '9')
      return dflt;
    n = n * 10 + (*v - '0');
  }
  return n;
}
