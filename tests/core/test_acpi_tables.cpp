// The ACPI tables a multi-vCPU machine carries (acpi_tables.h): they parse
// back to one enabled local APIC per vCPU, every checksum is right, and a
// one-vCPU machine has none (start_info.rsdp_paddr stays 0).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/acpi_tables.h"
#include "ringscope/boot.h"
#include "ringscope/machine.h"
#include "support/tiny_elf.h"

namespace ringscope {
namespace {

struct Ram {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(2u << 20);
  GuestMemory mem{bytes.data(), bytes.size()};
};

uint8_t sum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

TEST(AcpiTables, ParseBackToOneLocalApicPerVcpu) {
  for (int n : {2, 4, 8}) {
    Ram ram;
    auto rsdp = write_acpi_tables(ram.mem, n);
    ASSERT_TRUE(rsdp.ok()) << rsdp.error().message;
    EXPECT_GE(rsdp.value(), kAcpiBase);
    EXPECT_LT(rsdp.value(), kAcpiEnd);
    auto cpus = read_acpi_cpus(ram.mem, rsdp.value());
    ASSERT_TRUE(cpus.ok()) << cpus.error().message;
    ASSERT_EQ(cpus->apic_ids.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; i++) EXPECT_EQ(cpus->apic_ids[i], i);
    EXPECT_EQ(cpus->lapic_base, kLapicBase);
    EXPECT_EQ(cpus->ioapic_base, kIoApicBase);
  }
}

TEST(AcpiTables, ChecksumsSumToZeroAndACorruptedByteIsCaught) {
  Ram ram;
  auto rsdp = write_acpi_tables(ram.mem, 4);
  ASSERT_TRUE(rsdp.ok());
  const uint8_t* p = ram.bytes.data() + rsdp.value();
  EXPECT_EQ(std::memcmp(p, "RSD PTR ", 8), 0);
  EXPECT_EQ(sum(p, 20), 0);  // ACPI 1.0 checksum
  EXPECT_EQ(sum(p, 36), 0);  // extended checksum
  uint64_t xsdt;
  std::memcpy(&xsdt, p + 24, 8);
  uint32_t len;
  std::memcpy(&len, ram.bytes.data() + xsdt + 4, 4);
  EXPECT_EQ(sum(ram.bytes.data() + xsdt, len), 0);
  uint64_t madt;
  std::memcpy(&madt, ram.bytes.data() + xsdt + 36, 8);
  std::memcpy(&len, ram.bytes.data() + madt + 4, 4);
  EXPECT_EQ(std::memcmp(ram.bytes.data() + madt, "APIC", 4), 0);
  EXPECT_EQ(sum(ram.bytes.data() + madt, len), 0);
  // 36-byte header, 8 bytes of address and flags, 4 x 8 local APICs, 12 I/O APIC.
  EXPECT_EQ(len, 36u + 8u + 4u * 8u + 12u);
  ram.bytes[madt + 50] ^= 1;  // inside an entry
  EXPECT_FALSE(read_acpi_cpus(ram.mem, rsdp.value()).ok());
}

TEST(AcpiTables, VcpuCountOutsideOneToEightIsRefused) {
  Ram ram;
  EXPECT_FALSE(write_acpi_tables(ram.mem, 0).ok());
  EXPECT_FALSE(write_acpi_tables(ram.mem, kMaxVcpus + 1).ok());
}

uint64_t rsdp_of(int vcpus) {
  MachineConfig config;
  config.kernel = test::write_temp_file("acpi-kernel.elf", test::make_tiny_kernel({}));
  config.vcpus = vcpus;
  auto m = Machine::create(config);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (!m.ok()) return ~0ull;
  uint64_t rsdp = ~0ull;
  m.value()->memory().read(m.value()->boot().start_info + boot_layout::kStartInfoRsdp, &rsdp, sizeof rsdp);
  if (rsdp) {
    auto cpus = read_acpi_cpus(m.value()->memory(), rsdp);
    EXPECT_TRUE(cpus.ok());
    if (cpus.ok()) {
      EXPECT_EQ(cpus->apic_ids.size(), static_cast<size_t>(vcpus));
    }
  }
  return rsdp;
}

TEST(AcpiTables, OnlyAMachineWithSeveralVcpusPointsStartInfoAtThem) {
  EXPECT_EQ(rsdp_of(1), 0u);
  EXPECT_EQ(rsdp_of(4), kAcpiBase);
}

}  // namespace
}  // namespace ringscope
