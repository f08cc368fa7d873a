// guest.h — what the bare test guests share (tests/sim-modes/emulation/guests).
//
// Each guest is one .S file of position-independent 64-bit ring-0 code,
// assembled to a flat binary and wrapped in a tiny ELF with only the
// ringscope 64-bit entry (tests/support/tiny_elf.h): it starts at 1 MiB in
// long mode on the VMM's identity map, CS = 0x08, interrupts off.
// It builds its own IDT, programs the PIC (and the PIT), and reports what it
// counted in memory at COUNTERS, which the test reads after the run, and by
// its exit status on the probe port.
// clang-format off: assembler macros, one instruction per line.
#define IDT 0x170000       // 256 gates of 16 bytes
#define COUNTERS 0x180000  // the guest's counters, 8 bytes each
#define STACK 0x1f0000
#define PROBE_EXIT 0xf4         // out: exit status, ends the run
#define UNEXPECTED_STATUS 0xee  // an exception nobody asked for

// %edi = vector, %rsi = handler: a present DPL-0 interrupt gate (IF cleared on entry).
#define DEFINE_SET_GATE         \
  set_gate:                     \
  mov % rdi, % rax;             \
  shl $4, % rax;                \
  add $IDT, % rax;              \
  mov % si, (% rax);            \
  movw $0x08, 2(% rax);         \
  movw $0x8e00, 4(% rax);       \
  mov % rsi, % rdx;             \
  shr $16, % rdx;               \
  mov % dx, 6(% rax);           \
  shr $16, % rdx;               \
  mov % edx, 8(% rax);          \
  movl $0, 12(% rax);           \
  ret;                          \
  unexpected:                   \
  mov $UNEXPECTED_STATUS, % al; \
  out % al, $PROBE_EXIT;        \
  hlt;                          \
  idtr:                         \
  .word 4095;                   \
  .quad IDT

// Stack, every vector to `unexpected`, then lidt.
#define SETUP_IDT               \
  mov $STACK, % rsp;            \
  lea unexpected(% rip), % rsi; \
  xor % edi, % edi;             \
  0 : call set_gate;            \
  inc % edi;                    \
  cmp $256, % edi;              \
  jb 0b;                        \
  lidt idtr(% rip)

// The 8259A pair: vectors 32-39 and 40-47, only IRQ 0 unmasked.
#define SETUP_PIC  \
  mov $0x11, % al; \
  out % al, $0x20; \
  out % al, $0xa0; \
  mov $0x20, % al; \
  out % al, $0x21; \
  mov $0x28, % al; \
  out % al, $0xa1; \
  mov $0x04, % al; \
  out % al, $0x21; \
  mov $0x02, % al; \
  out % al, $0xa1; \
  mov $0x01, % al; \
  out % al, $0x21; \
  out % al, $0xa1; \
  mov $0xfe, % al; \
  out % al, $0x21; \
  mov $0xff, % al; \
  out % al, $0xa1

// PIT channel 0, rate generator (mode 2), count `n` (2..65535).
#define SETUP_PIT(n)     \
  mov $0x34, % al;       \
  out % al, $0x43;       \
  mov $((n)&0xff), % al; \
  out % al, $0x40;       \
  mov $((n) >> 8), % al; \
  out % al, $0x40
