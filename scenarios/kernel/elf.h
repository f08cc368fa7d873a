// elf.h — the parts of the ELF64 format the kernel needs to load a program.
#pragma once
#include "types.h"

#define ELF_MAGIC 0x464c457fU   // "\x7fELF" little-endian

struct elfhdr {
  uint32 magic;
  uint8 ident[12];
  uint16 type;
  uint16 machine;
  uint32 version;
  uint64 entry;
  uint64 phoff;
  uint64 shoff;
  uint32 flags;
  uint16 ehsize;
  uint16 phentsize;
  uint16 phnum;
  uint16 shentsize;
  uint16 shnum;
  uint16 shstrndx;
};

struct proghdr {
  uint32 type;
  uint32 flags;
  uint64 off;
  uint64 vaddr;
  uint64 paddr;
  uint64 filesz;
  uint64 memsz;
  uint64 align;
};

#define ELF_PROG_LOAD 1
#define ELF_PROG_NOTE 4
#define ELF_CLASS64   2   // ident[0]
#define ELF_MACHINE_X86_64 62
#define ELF_TYPE_EXEC 2
