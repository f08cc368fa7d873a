// hostile_cases.cpp — the table of hostile guests (see hostile_cases.h).
//
// Every source runs after hostile_prelude.inc: 64-bit ring 0 at 1 MiB,
// interrupts off, macros EXIT, VQ_SETUP, DESC, AVAIL_PUT, NOTIFY,
// EXIT_ON_NEEDS_RESET. A guest that meets a protocol error reports what
// the protocol told it (status 2: the virtio device set DEVICE_NEEDS_RESET;
// 10 + the virtio-blk status byte; 10 + ATA's ERR bit).
#include "hostile_cases.h"

namespace ringscope::test {

namespace {
using R = RunEndReason;

RunLimits limits(uint64_t wall_ms, uint64_t max_exits = 1'000'000, uint64_t max_output = 4ull << 20) {
  RunLimits l;
  l.wall_ms = wall_ms;
  l.max_exits = max_exits;
  l.max_output_bytes = max_output;
  return l;
}

// Console transmit queue (1) set up with sane rings, one chain of one
// descriptor whose address and length the case gives, then notified.
#define ONE_BUFFER(addr, len)                   \
  "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n" \
  "DESC 0, " addr ", " len                      \
  ", 0, 0\n"                                    \
  "AVAIL_PUT 0, 0, 1\n"                         \
  "NOTIFY VCON, 1\n"                            \
  "EXIT_ON_NEEDS_RESET VCON\n"

// One virtio-blk request: header {type, sector} at BUF, a data buffer of
// `len` bytes at BUF+0x1000 (device-writable for a read), the status byte
// at BUF+0x2000; the guest exits with 10 + the status byte.
#define BLK_REQUEST(type, sector, len, dataflags) \
  "VQ_SETUP VBLK, 0, 128, RINGS, AVAIL, USED\n"   \
  "mov dword ptr [BUF], " type                    \
  "\n"                                            \
  "mov rax, " sector                              \
  "\n"                                            \
  "mov qword ptr [BUF + 8], rax\n"                \
  "mov byte ptr [BUF + 0x2000], 0xee\n"           \
  "DESC 0, BUF, 16, 1, 1\n"                       \
  "DESC 1, BUF + 0x1000, " len ", " dataflags     \
  ", 2\n"                                         \
  "DESC 2, BUF + 0x2000, 1, 2, 0\n"               \
  "AVAIL_PUT 0, 0, 1\n"                           \
  "NOTIFY VBLK, 0\n"                              \
  "mov eax, dword ptr [VBLK + 0x70]\n"            \
  "test eax, NEEDS_RESET\n"                       \
  "jz 1f\n"                                       \
  "EXIT 2\n"                                      \
  "1: movzx eax, byte ptr [BUF + 0x2000]\n"       \
  "add al, 10\n"                                  \
  "out 0xf4, al\n"                                \
  "hlt\n"

// An ATA command: count, LBA bytes low/mid/high, drive/head, command; then
// the guest exits with 10 + the status register's ERR bit.
#define ATA_COMMAND(count, lo, mid, hi, dh, cmd) \
  "mov dx, 0x1f2\n mov al, " count               \
  "\n out dx, al\n"                              \
  "mov dx, 0x1f3\n mov al, " lo                  \
  "\n out dx, al\n"                              \
  "mov dx, 0x1f4\n mov al, " mid                 \
  "\n out dx, al\n"                              \
  "mov dx, 0x1f5\n mov al, " hi                  \
  "\n out dx, al\n"                              \
  "mov dx, 0x1f6\n mov al, " dh                  \
  "\n out dx, al\n"                              \
  "mov dx, 0x1f7\n mov al, " cmd "\n out dx, al\n"

const char* kAtaReport = "in al, dx\n and al, 1\n add al, 10\n out 0xf4, al\n hlt\n";

// An IDT at 0x300000 with every vector going to `handler`, loaded.
#define IDT_ALL_TO_HANDLER               \
  "lea rax, [rip + handler]\n"           \
  "mov rdi, 0x300000\n"                  \
  "xor ecx, ecx\n"                       \
  "5: mov rdx, rax\n"                    \
  "mov word ptr [rdi], dx\n"             \
  "mov word ptr [rdi + 2], 0x08\n"       \
  "mov word ptr [rdi + 4], 0x8e00\n"     \
  "shr rdx, 16\n"                        \
  "mov word ptr [rdi + 6], dx\n"         \
  "shr rdx, 16\n"                        \
  "mov dword ptr [rdi + 8], edx\n"       \
  "mov dword ptr [rdi + 12], 0\n"        \
  "add rdi, 16\n"                        \
  "inc ecx\n"                            \
  "cmp ecx, 256\n"                       \
  "jb 5b\n"                              \
  "mov word ptr [0x301000], 4095\n"      \
  "mov qword ptr [0x301002], 0x300000\n" \
  "lidt [0x301000]\n"

std::vector<HostileCase> make_cases() {
  std::vector<HostileCase> c;

  // ---- virtqueues --------------------------------------------------------
  c.push_back({"vq_desc_beyond_ram",
               "descriptor table placed past the end of RAM",
               "VQ_SETUP VCON, 1, 128, 0x7fff0000, AVAIL, USED\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "ring area outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_desc_wraps_2_64",
               "descriptor table at 2^64 - 4 KiB: its end wraps past 2^64",
               "VQ_SETUP VCON, 1, 128, 0xfffffffffffff000, AVAIL, USED\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "ring area outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_rings_in_mmio_window",
               "the three rings placed on the virtio-mmio registers themselves",
               "VQ_SETUP VCON, 1, 128, VCON, VCON + 0x100, VBLK\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "ring area outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_buffer_beyond_ram",
               "a descriptor naming a buffer past the end of RAM",
               ONE_BUFFER("0x7ff00000", "4096"),
               kVirtioModes,
               {{R::GuestExit}, 2, "buffer outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_buffer_wraps_2_64",
               "a descriptor whose buffer wraps at 2^64",
               ONE_BUFFER("0xffffffffffffff00", "0x200"),
               kVirtioModes,
               {{R::GuestExit}, 2, "buffer outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_buffer_in_mmio_window",
               "a descriptor naming the device's own registers as its buffer",
               ONE_BUFFER("VCON", "64"),
               kVirtioModes,
               {{R::GuestExit}, 2, "buffer outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_descriptor_loop",
               "a descriptor whose next is itself",
               "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n"
               "DESC 0, BUF, 16, 1, 0\n"
               "AVAIL_PUT 0, 0, 1\nNOTIFY VCON, 1\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "longer than the queue"},
               limits(20000)});
  c.push_back({"vq_chain_2_16",
               "a chain of 2^16 descriptors (every descriptor chained to the next, round the ring)",
               "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n"
               "xor ecx, ecx\n"
               "1: mov eax, ecx\n shl eax, 4\n"
               "mov qword ptr [RINGS + rax], BUF\n"
               "mov dword ptr [RINGS + rax + 8], 1\n"
               "mov word ptr [RINGS + rax + 12], 1\n"
               "lea edx, [rcx + 1]\n and edx, 127\n"
               "mov word ptr [RINGS + rax + 14], dx\n"
               "inc ecx\n cmp ecx, 128\n jb 1b\n"
               "AVAIL_PUT 0, 0, 1\nNOTIFY VCON, 1\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "longer than the queue"},
               limits(20000)});
  c.push_back({"vq_avail_idx_jump",
               "avail.idx jumps 0x8000 ahead of what the device consumed",
               "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n"
               "DESC 0, BUF, 16, 0, 0\n"
               "AVAIL_PUT 0, 0, 0x8000\nNOTIFY VCON, 1\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "more than queue size ahead"},
               limits(20000)});
  c.push_back({"vq_avail_head_out_of_range",
               "the avail ring names descriptor 0xffff of a 128-entry queue",
               "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n"
               "AVAIL_PUT 0, 0xffff, 1\nNOTIFY VCON, 1\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, 2, "descriptor beyond the queue"},
               limits(20000)});
  c.push_back({"vq_size_not_power_of_two",
               "QueueNum 100 (not a power of two)",
               "VQ_SETUP VCON, 1, 100, RINGS, AVAIL, USED\nEXIT_ON_NEEDS_RESET VCON\n",
               kVirtioModes,
               {{R::GuestExit}, -1, "not a power of two"},
               limits(20000)});
  c.push_back({"vq_notify_unconfigured",
               "QueueNotify on a queue the device lacks, then on one never set up",
               "NOTIFY VCON, 7\nNOTIFY VCON, 0\nNOTIFY VBLK, 0xffffffff\nEXIT 1\n",
               kVirtioModes,
               {{R::GuestExit}, 1, "QueueNotify names a queue"},
               limits(20000)});
  c.push_back({"vq_length_zero",
               "a transmit buffer of length 0",
               ONE_BUFFER("BUF", "0"),
               kVirtioModes,
               {{R::GuestExit}, 1, ""},
               limits(20000)});
  c.push_back({"vq_length_4gib",
               "a transmit buffer of length 2^32 - 1",
               ONE_BUFFER("BUF", "0xffffffff"),
               kVirtioModes,
               {{R::GuestExit}, 2, "buffer outside guest RAM"},
               limits(20000)});
  c.push_back({"vq_512mib_in_one_exit",
               "one QueueNotify with 128 chains of 4 MiB: 512 MiB of output in one exit",
               "VQ_SETUP VCON, 1, 128, RINGS, AVAIL, USED\n"
               "xor ecx, ecx\n"
               "1: mov eax, ecx\n shl eax, 4\n"
               "mov qword ptr [RINGS + rax], BUF\n"
               "mov dword ptr [RINGS + rax + 8], 0x400000\n"
               "mov dword ptr [RINGS + rax + 12], 0\n"
               "mov word ptr [AVAIL + 4 + rcx * 2], cx\n"
               "inc ecx\n cmp ecx, 128\n jb 1b\n"
               "mov word ptr [AVAIL + 2], 128\n"
               "NOTIFY VCON, 1\nEXIT 1\n",
               kVirtioModes,
               {{R::WatchdogOutput}, -1, "inside one exit"},
               limits(60000)});
  c.push_back({"vcon_emerg_wr_flood",
               "endless output through virtio-console's emergency write register",
               "1: mov dword ptr [VCON + 0x108], 0x41\njmp 1b\n",
               kVirtioModes,
               {{R::WatchdogOutput}, -1, ""},
               limits(60000, 1'000'000, 2048)});
  c.push_back({"vblk_sector_past_end",
               "a virtio-blk read of sector 2^64 - 256",
               BLK_REQUEST("0", "0xffffffffffffff00", "512", "3"),
               kVirtioModes,
               {{R::GuestExit}, 11, "read beyond the end of the image"},
               limits(20000)});
  c.push_back({"vblk_write_past_end",
               "a virtio-blk write that starts inside the disk and runs past its end",
               BLK_REQUEST("1", "2047", "1024", "1"),
               kVirtioModes,
               {{R::GuestExit}, 11, "write beyond the end of the image"},
               limits(20000)});
  c.push_back({"vblk_length_zero",
               "a virtio-blk read of zero bytes",
               BLK_REQUEST("0", "0", "0", "3"),
               kVirtioModes,
               {{R::GuestExit}, 10, ""},
               limits(20000)});
  c.push_back({"vblk_length_4gib",
               "a virtio-blk read into a 4 GiB buffer",
               BLK_REQUEST("0", "0", "0xffffffff", "3"),
               kVirtioModes,
               {{R::GuestExit}, 2, "buffer outside guest RAM"},
               limits(20000)});
  c.push_back({"hypercall_console_wild",
               "ConsoleWrite hypercalls with buffers past RAM and wrapping at 2^64",
               "mov rax, 1\n mov rbx, 0x3ffff00\n mov rcx, 0x1000\n out 0xf8, eax\n mov r12, rax\n"
               "mov rax, 1\n mov rbx, 0xfffffffffffffff0\n mov rcx, 0x20\n out 0xf8, eax\n"
               "and rax, r12\n test rax, rax\n js 1f\n EXIT 3\n1: EXIT 1\n",
               kPV | kPVV | kEMUV,
               {{R::GuestExit}, 1, ""},
               limits(20000)});
  c.push_back({"hypercall_console_flood",
               "ConsoleWrite of 64 KiB per exit, forever, against a 1000-byte limit",
               "1: mov rax, 1\n mov rbx, BUF\n mov rcx, 0x10000\n out 0xf8, eax\n jmp 1b\n",
               kPV | kPVV | kEMUV,
               {{R::WatchdogOutput}, -1, "inside one exit"},
               limits(60000, 1'000'000, 1000)});

  // ---- the legacy ATA disk -------------------------------------------------
  c.push_back({"ata_sector_past_end",
               "ATA READ SECTORS at LBA 0x0fffffff of a 2048-sector disk",
               std::string(ATA_COMMAND("1", "0xff", "0xff", "0xff", "0xef", "0x20")).append(kAtaReport),
               kLegacyModes,
               {{R::GuestExit}, 11, "sector beyond the end"},
               limits(20000)});
  c.push_back({"ata_count_zero_past_end",
               "ATA count 0 (256 sectors) starting at the last sector",
               std::string(ATA_COMMAND("0", "0xff", "0x07", "0", "0xe0", "0x20")).append(kAtaReport),
               kLegacyModes,
               {{R::GuestExit}, 11, "sector beyond the end"},
               limits(20000)});
  c.push_back({"ata_rep_insw_huge",
               "rep insw of 2^28 words from the ATA data port: past RAM, past the map",
               std::string(ATA_COMMAND("0", "0", "0", "0", "0xe0", "0x20"))
                   .append("mov rdi, BUF\n mov rcx, 0x10000000\n mov dx, 0x1f0\n rep insw\n EXIT 1\n"),
               kLegacyModes,
               {{R::WatchdogTime, R::WatchdogExits, R::TripleFault}, -1, ""},
               limits(3000, 20000)});
  c.push_back({"ata_data_outside_transfer",
               "rep insw/outsw on the data port with no command",
               "mov rdi, BUF\n mov rcx, 1000\n mov dx, 0x1f0\n rep insw\n"
               "mov rsi, BUF\n mov rcx, 1000\n rep outsw\n EXIT 1\n",
               kLegacyModes,
               {{R::GuestExit}, 1, "outside a write command"},
               limits(20000)});

  // ---- the CPU and the bus -------------------------------------------------
  c.push_back({"hypercall_every_number",
               "every hypercall number 0..255 and 2^64-1 with wild pointer arguments",
               "xor r12, r12\n"
               "1: cmp r12, 3\n je 2f\n"
               "mov rax, r12\n mov rbx, 0xfffffffffffff000\n mov rcx, -1\n mov rdx, 0x3f000000\n mov rsi, -1\n"
               "out 0xf8, eax\n"
               "2: inc r12\n cmp r12, 256\n jb 1b\n"
               "mov rax, -1\n out 0xf8, eax\n"
               "mov rax, 0x8000000000000001\n out 0xf8, eax\n EXIT 1\n",
               kAllModes,
               {{R::GuestExit}, 1, ""},
               limits(60000)});
  c.push_back({"rep_outsb_huge_uart",
               "rep outsb of 2^47 bytes to the UART",
               "mov rsi, 0x100000\n mov rcx, 0x7fffffffffff\n mov dx, 0x3f8\n rep outsb\n EXIT 1\n",
               kAllModes,
               {{R::WatchdogOutput}, -1, ""},
               limits(60000, 1'000'000, 65536)});
  c.push_back({"rep_outsb_huge_unclaimed",
               "rep outsb of 2^47 bytes to a port nobody claims",
               "mov rsi, 0x100000\n mov rcx, 0x7fffffffffff\n mov dx, 0x80\n rep outsb\n EXIT 1\n",
               kAllModes,
               {{R::WatchdogExits, R::WatchdogTime}, -1, ""},
               limits(3000, 20000)});
  c.push_back({"every_port",
               "in and out on every I/O port 0..0xffff (except the exit port)",
               "mov rbx, 1\n xor edx, edx\n"
               "1: cmp dx, 0xf4\n je 2f\n in al, dx\n out dx, al\n"
               "2: inc edx\n cmp edx, 0x10000\n jb 1b\n EXIT 1\n",
               kAllModes,
               {{R::GuestExit}, 1, ""},
               limits(120000)});
  c.push_back({"mmio_across_4gib",
               "an 8-byte MMIO store and load straddling 4 GiB",
               "mov rax, cr3\n and rax, -4096\n mov rbx, qword ptr [rax]\n and rbx, -4096\n"
               "mov qword ptr [rbx + 24], 0x300003\n mov qword ptr [rbx + 32], 0x301003\n"
               "mov rcx, 0xffe00083\n mov qword ptr [0x300000 + 511 * 8], rcx\n"
               "mov rcx, 0x100000083\n mov qword ptr [0x301000], rcx\n"
               "mov cr3, rax\n"
               "mov rdi, 0xfffffffc\n mov rdx, 0x1122334455667788\n mov qword ptr [rdi], rdx\n"
               "mov rdx, qword ptr [rdi]\n EXIT 1\n",
               kAllModes,
               {{R::GuestExit}, 1, ""},
               limits(20000)});
  c.push_back({"cr3_in_mmio",
               "CR3 pointing at the MMIO window: every page walk reads device registers",
               "mov rax, VCON\n mov cr3, rax\n EXIT 1\n",
               kAllModes,
               {{R::TripleFault}, -1, ""},
               limits(20000)});
  c.push_back({"pdpte_in_mmio",
               "a page-directory pointer naming the MMIO window as its page directory",
               "mov rax, cr3\n and rax, -4096\n mov rbx, qword ptr [rax]\n and rbx, -4096\n"
               "mov qword ptr [rbx + 8], VCON + 3\n mov cr3, rax\n"
               "mov rax, qword ptr [0x40000000]\n EXIT 1\n",
               kAllModes,
               {{R::TripleFault}, -1, ""},
               limits(20000)});
  c.push_back({"interrupt_storm",
               "the PIT at its fastest rate, every interrupt taken and acknowledged",
               IDT_ALL_TO_HANDLER
               "mov al, 0x11\n out 0x20, al\n mov al, 0x20\n out 0x21, al\n mov al, 4\n out 0x21, al\n"
               "mov al, 1\n out 0x21, al\n"
               "mov al, 0x11\n out 0xa0, al\n mov al, 0x28\n out 0xa1, al\n mov al, 2\n out 0xa1, al\n"
               "mov al, 1\n out 0xa1, al\n"
               "mov al, 0xfe\n out 0x21, al\n mov al, 0xff\n out 0xa1, al\n"
               "mov al, 0x34\n out 0x43, al\n mov al, 2\n out 0x40, al\n xor al, al\n out 0x40, al\n"
               "sti\n"
               "3: jmp 3b\n"
               "handler: push rax\n mov al, 0x20\n out 0x20, al\n pop rax\n iretq\n",
               kAllModes,
               {{R::WatchdogTime, R::WatchdogExits}, -1, ""},
               limits(1500, 200000)});
  c.push_back({"triple_fault",
               "ud2 with an empty IDT: the CPU shuts down",
               "lidt [rip + zidt]\n ud2\nzidt: .word 0\n .quad 0\n",
               kAllModes,
               {{R::TripleFault}, -1, ""},
               limits(20000)});
  c.push_back({"noncanonical_jump",
               "a jump to 0x8000000000000000 (non-canonical) with an empty IDT",
               "lidt [rip + zidt]\n mov rax, 0x8000000000000000\n jmp rax\nzidt: .word 0\n .quad 0\n",
               kAllModes,
               {{R::TripleFault}, -1, ""},
               limits(20000)});
  c.push_back({"execute_from_mmio",
               "a jump into the MMIO window: instructions fetched from device registers",
               "mov rax, VCON + 0x100\n jmp rax\n",
               kAllModes,
               {{R::InternalError}, -1, ""},
               limits(3000, 20000)});
  c.push_back({"stack_in_mmio",
               "the stack pointer inside the MMIO window",
               "mov rsp, VCON + 0x180\n"
               "push rax\n pop rax\n mov rsp, 0x180000\n EXIT 1\n",
               kAllModes,
               {{R::GuestExit}, 1, ""},
               limits(20000)});
  c.push_back({"hlt_interrupts_off",
               "cli; hlt without ever reporting a status",
               "cli\n1: hlt\n jmp 1b\n",
               kAllModes,
               {{R::Halted}, -1, "hlt"},
               limits(60000)});
  // With KVM's in-kernel irqchip (paravirt) the VMM cannot tell that nothing
  // will ever interrupt a vCPU halted with IF set (KVM's PIC, PIT and LAPIC
  // decide), so there the wall-time limit ends it.
  c.push_back({"hlt_nothing_to_wake",
               "sti; hlt with no timer running and every device idle",
               "sti\n1: hlt\n jmp 1b\n",
               kAllModes,
               {{R::Halted, R::WatchdogTime}, -1, ""},
               limits(3000)});
  c.push_back({"endless_output",
               "a UART write in a loop",
               "mov dx, 0x3f8\n mov al, 0x41\n1: out dx, al\n jmp 1b\n",
               kAllModes,
               {{R::WatchdogOutput}, -1, ""},
               limits(60000, 1'000'000, 4096)});
  c.push_back({"exit_storm",
               "an I/O exit in a tight loop",
               "1: in al, 0x80\n jmp 1b\n",
               kAllModes,
               {{R::WatchdogExits, R::WatchdogTime}, -1, ""},
               limits(60000, 3000)});
  return c;
}
}  // namespace

const std::vector<HostileCase>& hostile_cases() {
  static const std::vector<HostileCase> cases = make_cases();
  return cases;
}

}  // namespace ringscope::test
