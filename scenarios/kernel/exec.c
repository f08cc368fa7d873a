// exec.c — load a user program (an ELF64 boot module) into a fresh address
// space: map and fill its PT_LOAD segments, find its name, and build the
// first stack page with argc/argv.
//
// The module is untrusted input: every offset and size is checked against
// the module's length and the user region before it is used.

#include "types.h"
#include "defs.h"
#include "elf.h"
#include "mmu.h"
#include "memlayout.h"
#include "proc.h"

#define MAXARG 32
#define PF_W 2   // ELF segment flag: writable
#define NOTE_PROGNAME 2  // "ringscope" note type 2: the program's name

static int bad(struct bootmodule *m, const char *why) {
  cprintf("kernel: boot module at %p is not a program: %s\n", (void *)m->paddr, why);
  return -1;
}

// Map [va, va+memsz) in the program, copying filesz bytes from src.
static int loadseg(struct proc *p, struct proghdr *ph, const uint8 *src) {
  uint64 perm = PTE_U | ((ph->flags & PF_W) ? PTE_W : 0);
  for (uint64 va = PGROUNDDOWN(ph->vaddr); va < ph->vaddr + ph->memsz; va += PGSIZE) {
    if (!uva2pa(p->pml4, va)) {
      void *mem = kalloc();
      if (!mem)
        return -1;
      memset(mem, 0, PGSIZE);
      if (mappage(p->pml4, va, (uint64)mem, perm) < 0)
        return -1;
    }
  }
  // Copy page by page: physically, consecutive user pages are anywhere.
  for (uint64 off = 0; off < ph->filesz;) {
    uint64 va = ph->vaddr + off;
    uint64 n = PGSIZE - (va & (PGSIZE - 1));
    if (n > ph->filesz - off)
      n = ph->filesz - off;
    memcpy((void *)uva2pa(p->pml4, va), src + off, n);
    off += n;
  }
  return 0;
}

// The program's name from its "ringscope" ELF note (the SDK adds one).
static void notename(struct proc *p, struct proghdr *ph, const uint8 *img) {
  const uint8 *q = img + ph->off, *end = q + ph->filesz;
  while (q + 12 <= end) {
    uint32 namesz = ((uint32 *)q)[0], descsz = ((uint32 *)q)[1], type = ((uint32 *)q)[2];
    const uint8 *name = q + 12, *desc = name + ((namesz + 3) & ~3U);
    if (desc + descsz > end || namesz > 64 || descsz > 64)
      return;
    if (namesz == 10 && memcmp(name, "ringscope", 10) == 0 && type == NOTE_PROGNAME && descsz > 0) {
      int n = descsz < sizeof(p->name) ? descsz : sizeof(p->name) - 1;
      memcpy(p->name, desc, n);
      p->name[n] = 0;
      return;
    }
    q = desc + ((descsz + 3) & ~3U);
  }
}

// argv: the program's name, then every word of the kernel command line
// (so params like n=16 reach the program). Built at the top of the first
// stack page, which is the only stack page mapped up front.
static int setupstack(struct proc *p, uint64 *sp, uint64 *argcp, uint64 *argvp) {
  void *mem = kalloc();
  uint64 page = USTACKTOP - PGSIZE;
  if (!mem)
    return -1;
  memset(mem, 0, PGSIZE);
  if (mappage(p->pml4, page, (uint64)mem, PTE_W | PTE_U) < 0)
    return -1;

  // Collect the words, then copy each string to the top of the page.
  char *top = (char *)mem + PGSIZE;
  uint64 uargv[MAXARG + 1];
  int argc = 0;
  const char *words[MAXARG];
  uint64 lens[MAXARG];
  words[argc] = p->name;
  lens[argc++] = strlen(p->name);
  for (const char *c = cmdline_string(); *c && argc < MAXARG;) {
    while (*c == ' ')
      c++;
    if (!*c)
      break;
    words[argc] = c;
    while (*c && *c != ' ')
      c++;
    lens[argc] = c - words[argc];
    argc++;
  }
  for (int i = 0; i < argc; i++) {
    top -= lens[i] + 1;
    memcpy(top, words[i], lens[i]);
    top[lens[i]] = 0;
    uargv[i] = page + (top - (char *)mem);
  }
  uargv[argc] = 0;
  // The argv array below the strings, 16-byte aligned as the ABI wants.
  top = (char *)((uint64)(top - (argc + 1) * 8) & ~15UL);
  memcpy(top, uargv, (argc + 1) * 8);
  *argvp = page + (top - (char *)mem);
  *sp = *argvp;
  *argcp = argc;
  return 0;
}

int exec(struct proc *p, struct bootmodule *m, uint64 *entry, uint64 *sp, uint64 *argc, uint64 *argv) {
  const uint8 *img = (const uint8 *)m->paddr;
  struct elfhdr *eh = (struct elfhdr *)img;
  uint64 end = USERBASE;

  if (m->size < sizeof(*eh) || eh->magic != ELF_MAGIC || eh->ident[0] != ELF_CLASS64)
    return bad(m, "not an ELF64 file");
  if (eh->machine != ELF_MACHINE_X86_64 || eh->type != ELF_TYPE_EXEC)
    return bad(m, "not an x86-64 executable");
  if (eh->phentsize != sizeof(struct proghdr) || eh->phoff > m->size ||
      eh->phnum > (m->size - eh->phoff) / sizeof(struct proghdr))
    return bad(m, "program headers outside the file");
  if (eh->entry < USERBASE || eh->entry >= USERTOP)
    return bad(m, "entry point outside the user region (link it with the SDK's user.ld)");

  struct proghdr *ph = (struct proghdr *)(img + eh->phoff);
  for (int i = 0; i < eh->phnum; i++, ph++) {
    if (ph->off > m->size || ph->filesz > m->size - ph->off)
      return bad(m, "segment outside the file");
    if (ph->type == ELF_PROG_NOTE)
      notename(p, ph, img);
    if (ph->type != ELF_PROG_LOAD || ph->memsz == 0)
      continue;
    if (ph->filesz > ph->memsz || ph->vaddr < USERBASE || ph->vaddr >= USERTOP || ph->memsz > USERTOP ||
        ph->vaddr + ph->memsz > USERTOP - USTACKSIZE)
      return bad(m, "segment outside the user region");
    if (loadseg(p, ph, img + ph->off) < 0)
      panic("exec: out of memory");
    if (ph->vaddr + ph->memsz > end)
      end = ph->vaddr + ph->memsz;
  }
  if (!p->name[0]) {  // no note: the module's command line, else "prog<pid>"
    int i = 0;
    for (; m->cmdline[i] && m->cmdline[i] != ' ' && i < (int)sizeof(p->name) - 1; i++)
      p->name[i] = m->cmdline[i];
    p->name[i] = 0;
    if (!p->name[0])
      snprintf(p->name, sizeof(p->name), "prog%d", p->pid);
  }
  p->heap_base = p->brk = PGROUNDUP(end);
  if (setupstack(p, sp, argc, argv) < 0)
    panic("exec: out of memory");
  *entry = eh->entry;
  return 0;
}
