# guest.s — the smallest PVH guest a third party might write: no C, no
# page tables, no long mode. It stays in the 32-bit protected mode the PVH
# boot ABI starts it in, writes a line to the UART, a marker to the probe
# port, one word to an MMIO address, and exits through port 0xf4. The
# tests link it several ways (tests/scenarios/pvh_layouts_test.cpp), boot
# it in every mode and under QEMU, and compare what it did.

.equ COM1, 0x3f8
.equ PROBE_MARKER, 0xf0
.equ PROBE_EXIT, 0xf4
.equ MMIO_ADDR, 0xfed000f0   # an HPET register under QEMU (its main counter); no device under ringscope
.equ EXIT_STATUS, 42

# The PVH entry note (Xen's XEN_ELFNOTE_PHYS32_ENTRY = 18): where a PVH
# loader starts us, in 32-bit protected mode with paging off.
.section .note.Xen, "a"
.balign 4
  .long 4                     # namesz: "Xen\0"
  .long 4                     # descsz
  .long 18                    # type
  .asciz "Xen"
  .long pvh_start

.section .text, "ax"
.code32
.globl pvh_start
pvh_start:
  cli
  # Keep EBX (start_info) untouched: the check below reads its magic.
  cmpl $0x336ec578, (%ebx)
  jne bad

  # The message, one byte per OUT to the transmit register.
  movl $msg, %esi
  movw $COM1, %dx
1:
  lodsb
  testb %al, %al
  jz 2f
  outb %al, %dx
  jmp 1b
2:
  # A marker: the physical address of a struct probe_marker.
  movl $marker, %eax
  movw $PROBE_MARKER, %dx
  outl %eax, %dx

  # One MMIO store. The HPET is stopped, so the counter just holds the value.
  movl $0x600dcafe, MMIO_ADDR

  # Exit with our status (isa-debug-exit under QEMU).
  movb $EXIT_STATUS, %al
  outb %al, $PROBE_EXIT
3:
  hlt
  jmp 3b

bad:
  movb $1, %al
  outb %al, $PROBE_EXIT
  jmp 3b

.section .rodata, "a"
msg:
  .asciz "pvh: hello from a third-party guest\n"
.balign 8
marker:
  .long 0                     # phase: point
  .long 7                     # value
  .ascii "pvh-guest"
  .fill 56 - 9, 1, 0
