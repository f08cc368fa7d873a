// pvh.h — the Xen PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h).
// A PVH loader (QEMU -kernel, ringscope's VMM) hands the kernel one
// hvm_start_info describing the command line, boot modules and RAM.
#pragma once
#include "types.h"

#define XEN_HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
  uint32 magic;           // XEN_HVM_START_MAGIC
  uint32 version;         // 0, or 1 when memmap_* are present
  uint32 flags;
  uint32 nr_modules;
  uint64 modlist_paddr;   // array of hvm_modlist_entry
  uint64 cmdline_paddr;   // NUL-terminated kernel command line
  uint64 rsdp_paddr;
  uint64 memmap_paddr;    // version >= 1: array of hvm_memmap_table_entry
  uint32 memmap_entries;
  uint32 reserved;
};

struct hvm_modlist_entry {
  uint64 paddr;
  uint64 size;
  uint64 cmdline_paddr;
  uint64 reserved;
};

struct hvm_memmap_table_entry {
  uint64 addr;
  uint64 size;
  uint32 type;            // 1 = usable RAM (E820 numbering)
  uint32 reserved;
};
#define HVM_MEMMAP_RAM 1
