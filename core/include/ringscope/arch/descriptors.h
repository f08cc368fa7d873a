// descriptors.h — segment descriptors, gate descriptors and the 64-bit TSS,
// decoded from their in-memory bytes (SDM Vol. 3A §3.4.5, §6.14.1, §7.7).
#pragma once

#include <cstdint>
#include <optional>

#include "ringscope/arch/x86_state.h"

namespace ringscope::arch {

// Descriptor types (§3.4.5.1 Table 3-1, §3.5 Table 3-2).
namespace desc_type {
inline constexpr uint8_t kCodeBit = 0x8;        // with S=1: a code segment
inline constexpr uint8_t kConformingBit = 0x4;  // code: conforming
inline constexpr uint8_t kWritableBit = 0x2;    // data: writable
inline constexpr uint8_t kTss64Available = 0x9;
inline constexpr uint8_t kTss64Busy = 0xb;
inline constexpr uint8_t kInterruptGate64 = 0xe;  // clears IF on entry
inline constexpr uint8_t kTrapGate64 = 0xf;       // leaves IF alone
}  // namespace desc_type

// An 8-byte code or data segment descriptor (§3.4.5, Figure 3-8).
Segment decode_segment(uint64_t descriptor, uint16_t selector);
uint64_t encode_segment(const Segment& s);  // the inverse, for tests and emulators

// A 16-byte IDT gate in IA-32e mode (§6.14.1, Figure 6-8).
struct Gate {
  uint64_t offset = 0;    // the handler's RIP
  uint16_t selector = 0;  // its code segment
  uint8_t ist = 0;        // interrupt stack table index, 0 = none (§6.14.5)
  uint8_t type = 0;       // 0xe interrupt gate, 0xf trap gate
  uint8_t dpl = 0;        // the least privileged CPL that may `int n` to it
  bool present = false;
};
Gate decode_gate(const uint8_t bytes[16]);
void encode_gate(const Gate& g, uint8_t bytes[16]);

// Reads the descriptor that `selector` names from the GDT (TI = 0; an LDT
// is not supported: TI = 1 reads as "beyond the table"). nullopt if the
// index lies outside GDTR.limit or the memory cannot be read.
std::optional<Segment> read_gdt_segment(const CpuState& cpu, LinearMemory& memory, uint16_t selector);

// The 64-bit TSS fields (§7.7, Figure 7-11): RSP0-2 at 4, 12, 20; IST1-7 at 36.
inline constexpr uint64_t kTssRsp0 = 4;
inline constexpr uint64_t kTssIst1 = 36;

}  // namespace ringscope::arch
