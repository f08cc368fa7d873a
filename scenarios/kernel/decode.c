// decode.c — name the instruction that made a program fault.
//
// When a program is killed the message names the instruction, so a student
// sees *why* ring 3 may not do this. Only the privileged instructions a
// student is likely to try are decoded; anything else is shown as raw bytes.

#include "types.h"
#include "defs.h"
#include "proc.h"

static const char *excnames[32] = {
  "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
  "#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
  "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
  "#NP segment not present", "#SS stack-segment fault", "#GP general protection fault",
  "#PF page fault", "reserved (15)", "#MF x87 floating-point error", "#AC alignment check",
  "#MC machine check", "#XM SIMD floating-point error", "#VE virtualization exception",
  "#CP control protection", "reserved (22)", "reserved (23)", "reserved (24)",
  "reserved (25)", "reserved (26)", "reserved (27)", "#HV hypervisor injection",
  "#VC VMM communication", "#SX security exception", "reserved (31)",
};

const char *exception_name(uint64 v) { return v < 32 ? excnames[v] : "trap"; }

// One-byte opcodes.
static const struct {
  uint8 op;
  const char *name;
} op1[] = {
  {0xf4, "hlt"}, {0xfa, "cli"}, {0xfb, "sti"}, {0xe4, "in"}, {0xe5, "in"}, {0xec, "in"},
  {0xed, "in"}, {0xe6, "out"}, {0xe7, "out"}, {0xee, "out"}, {0xef, "out"}, {0x6c, "insb"},
  {0x6d, "insd"}, {0x6e, "outsb"}, {0x6f, "outsd"}, {0xcd, "int"},
};
// Two-byte opcodes 0f xx.
static const struct {
  uint8 op;
  const char *name;
} op2[] = {
  {0x06, "clts"}, {0x08, "invd"}, {0x09, "wbinvd"}, {0x30, "wrmsr"}, {0x32, "rdmsr"},
  {0x20, "mov from cr"}, {0x22, "mov to cr"}, {0x21, "mov from dr"}, {0x23, "mov to dr"},
  {0x07, "sysret"}, {0x35, "sysexit"}, {0x0b, "ud2"},
};

void describe_insn(struct proc *p, uint64 rip, char *buf, int size) {
  uint8 b[4];
  int n = 0;
  for (; n < 4; n++) {
    uint64 pa = uva2pa(p->pml4, rip + n);
    if (!pa)
      break;
    b[n] = *(uint8 *)pa;
  }
  if (n == 0) {
    snprintf(buf, size, "instruction unreadable");
    return;
  }
  int i = (b[0] & 0xf0) == 0x40 && n > 1 ? 1 : 0;  // skip a REX prefix
  if (b[i] != 0x0f) {
    for (uint64 k = 0; k < NELEM(op1); k++)
      if (op1[k].op == b[i]) {
        snprintf(buf, size, "%s (%02x)", op1[k].name, b[i]);
        return;
      }
  } else if (i + 1 < n) {
    uint8 op = b[i + 1];
    int reg = i + 2 < n ? (b[i + 2] >> 3) & 7 : -1;
    if (op == 0x01 && (reg == 2 || reg == 3 || reg == 7)) {
      snprintf(buf, size, "%s (0f 01 %02x)", reg == 2 ? "lgdt" : reg == 3 ? "lidt" : "invlpg", b[i + 2]);
      return;
    }
    for (uint64 k = 0; k < NELEM(op2); k++)
      if (op2[k].op == op) {
        if (op >= 0x20 && op <= 0x23 && reg >= 0)
          snprintf(buf, size, "%s%d (0f %02x %02x)", op2[k].name, reg, op, b[i + 2]);
        else
          snprintf(buf, size, "%s (0f %02x)", op2[k].name, op);
        return;
      }
  }
  char *q = buf;
  int left = size;
  int w = snprintf(q, left, "bytes");
  for (int k = 0; k < n && w < left; k++) {
    q += w;
    left -= w;
    w = snprintf(q, left, " %02x", b[k]);
  }
}
