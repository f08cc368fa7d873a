// acpi_tables.h — the ACPI tables a multi-vCPU guest finds its CPUs in.
//
// A PC's firmware describes the machine in ACPI tables; a kernel learns how
// many CPUs there are, and their local APIC IDs, from the MADT. ringscope
// writes the least a kernel needs for that, as QEMU's PVH loader does:
//
//   RSDP ("RSD PTR ", ACPI 2.0) -> XSDT (one 64-bit pointer) -> MADT ("APIC":
//   the local APIC address, one processor-local-APIC entry per vCPU, one
//   I/O APIC entry)
//
// in the PC's BIOS area (kAcpiBase .. kAcpiEnd, reserved in the memory map),
// every checksum right. start_info.rsdp_paddr points at the RSDP only when
// the machine has more than one vCPU: a one-vCPU guest boots exactly as it
// always did (no tables, rsdp_paddr 0). docs/design.md, "vCPUs".
#pragma once

#include <cstdint>
#include <vector>

#include "ringscope/guest_memory.h"
#include "ringscope/result.h"

namespace ringscope {

inline constexpr uint64_t kAcpiBase = 0xe0000, kAcpiEnd = 0x100000;
inline constexpr uint32_t kLapicBase = 0xfee00000, kIoApicBase = 0xfec00000;
inline constexpr int kMaxVcpus = 8;

// Writes the tables for `vcpus` CPUs (local APIC IDs 0..vcpus-1) at
// kAcpiBase; returns the RSDP's guest-physical address.
Result<uint64_t> write_acpi_tables(GuestMemory& memory, int vcpus);

// What a kernel reads back from the tables (for tests and `show`): the
// local APIC IDs of the enabled CPUs, the local APIC and I/O APIC addresses.
// A BadData error names the first table or checksum that is wrong.
struct AcpiCpus {
  std::vector<uint8_t> apic_ids;
  uint32_t lapic_base = 0;
  uint32_t ioapic_base = 0;
};
Result<AcpiCpus> read_acpi_cpus(const GuestMemory& memory, uint64_t rsdp);

}  // namespace ringscope
