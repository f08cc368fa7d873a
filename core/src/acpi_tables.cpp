// acpi_tables.cpp — RSDP, XSDT and MADT for a multi-vCPU guest (acpi_tables.h).
// The layouts are the ACPI 6.5 specification's (5.2.5 RSDP, 5.2.6 the
// common header, 5.2.8 XSDT, 5.2.12 MADT).
#include "ringscope/acpi_tables.h"

#include <fmt/format.h>

#include <cstring>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

struct Rsdp {
  char sig[8];
  uint8_t checksum;  // the first 20 bytes sum to 0
  char oemid[6];
  uint8_t revision;  // 2: ACPI 2.0+, has an XSDT
  uint32_t rsdt;
  uint32_t length;
  uint64_t xsdt;
  uint8_t xchecksum;  // all 36 bytes sum to 0
  uint8_t reserved[3];
} __attribute__((packed));
static_assert(sizeof(Rsdp) == 36);

struct SdtHeader {
  char sig[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oemid[6];
  char oemtable[8];
  uint32_t oemrevision, creator, creatorrevision;
} __attribute__((packed));
static_assert(sizeof(SdtHeader) == 36);

constexpr uint8_t kMadtLapic = 0, kMadtIoApic = 1;
constexpr uint32_t kLapicEnabled = 1;
constexpr uint32_t kMadtPcatCompat = 1;  // the machine also has the 8259A pair
// Offsets from kAcpiBase.
constexpr uint64_t kRsdpAt = 0x0, kXsdtAt = 0x40, kMadtAt = 0x80;

uint8_t sum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

SdtHeader header(const char* sig, uint32_t length, uint8_t revision) {
  SdtHeader h{};
  std::memcpy(h.sig, sig, 4);
  h.length = length;
  h.revision = revision;
  std::memcpy(h.oemid, "RSCOPE", 6);
  std::memcpy(h.oemtable, "RINGSCOP", 8);
  h.oemrevision = 1;
  std::memcpy(&h.creator, "RSCP", 4);
  h.creatorrevision = 1;
  return h;
}

// Sets the header's checksum so that the whole table sums to 0.
void seal(std::vector<uint8_t>& table) {
  table[offsetof(SdtHeader, checksum)] = 0;
  table[offsetof(SdtHeader, checksum)] = static_cast<uint8_t>(-sum(table.data(), table.size()));
}

template <typename T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

Error bad(const std::string& what) { return make_error(ErrorKind::BadData, trf("ACPI tables: {}", what)); }

// A table at `gpa` with signature `sig`, checked; its bytes.
Result<std::vector<uint8_t>> read_table(const GuestMemory& mem, uint64_t gpa, const char* sig) {
  SdtHeader h;
  if (!mem.read(gpa, &h, sizeof h)) return bad(fmt::format("{} at {:#x} is outside guest RAM", sig, gpa));
  if (std::memcmp(h.sig, sig, 4) != 0) return bad(fmt::format("no {} signature at {:#x}", sig, gpa));
  const uint32_t length = h.length;
  if (length < sizeof h || length > 0x10000) return bad(fmt::format("{} length {} is wrong", sig, length));
  std::vector<uint8_t> t(length);
  if (!mem.read(gpa, t.data(), t.size())) return bad(fmt::format("{} runs past guest RAM", sig));
  if (sum(t.data(), t.size()) != 0) return bad(fmt::format("{} checksum is wrong", sig));
  return t;
}

}  // namespace

Result<uint64_t> write_acpi_tables(GuestMemory& mem, int vcpus) {
  if (vcpus < 1 || vcpus > kMaxVcpus)
    return make_error(ErrorKind::Usage, trf("{} vCPUs: a guest has 1 to {}", vcpus, kMaxVcpus));
  const uint64_t rsdp_at = kAcpiBase + kRsdpAt, xsdt_at = kAcpiBase + kXsdtAt, madt_at = kAcpiBase + kMadtAt;

  // MADT: the local APIC address and flags, then one entry per CPU (type,
  // length, ACPI processor id, APIC id, flags) and the I/O APIC (type,
  // length, id, reserved, address, first GSI).
  std::vector<uint8_t> madt;
  append(madt, header("APIC", 0, 5));
  append(madt, kLapicBase);
  append(madt, kMadtPcatCompat);
  for (int i = 0; i < vcpus; i++) {
    const uint8_t e[4] = {kMadtLapic, 8, static_cast<uint8_t>(i), static_cast<uint8_t>(i)};
    append(madt, e);
    append(madt, kLapicEnabled);
  }
  const uint8_t io[4] = {kMadtIoApic, 12, static_cast<uint8_t>(vcpus), 0};
  append(madt, io);
  append(madt, kIoApicBase);
  append(madt, uint32_t{0});
  uint32_t madt_len = static_cast<uint32_t>(madt.size());
  std::memcpy(madt.data() + offsetof(SdtHeader, length), &madt_len, 4);
  seal(madt);

  std::vector<uint8_t> xsdt;
  append(xsdt, header("XSDT", sizeof(SdtHeader) + 8, 1));
  append(xsdt, madt_at);
  seal(xsdt);

  Rsdp r{};
  std::memcpy(r.sig, "RSD PTR ", 8);
  std::memcpy(r.oemid, "RSCOPE", 6);
  r.revision = 2;
  r.length = sizeof r;
  r.xsdt = xsdt_at;
  r.checksum = static_cast<uint8_t>(-sum(reinterpret_cast<const uint8_t*>(&r), 20));
  r.xchecksum = static_cast<uint8_t>(-sum(reinterpret_cast<const uint8_t*>(&r), sizeof r));

  if (madt_at + madt.size() > kAcpiEnd || kAcpiEnd > mem.size())
    return make_error(ErrorKind::BadData,
                      trf("no room for the ACPI tables at {:#x}: the guest has {} MiB of RAM; give it more "
                          "(--ram)",
                          kAcpiBase, mem.size() >> 20));
  mem.write(madt_at, madt.data(), madt.size());
  mem.write(xsdt_at, xsdt.data(), xsdt.size());
  mem.write(rsdp_at, &r, sizeof r);
  return rsdp_at;
}

Result<AcpiCpus> read_acpi_cpus(const GuestMemory& mem, uint64_t rsdp) {
  Rsdp r;
  if (!mem.read(rsdp, &r, sizeof r)) return bad(fmt::format("RSDP at {:#x} is outside guest RAM", rsdp));
  if (std::memcmp(r.sig, "RSD PTR ", 8) != 0) return bad("no RSDP signature");
  if (sum(reinterpret_cast<const uint8_t*>(&r), 20) != 0) return bad("RSDP checksum is wrong");
  if (r.revision < 2 || sum(reinterpret_cast<const uint8_t*>(&r), sizeof r) != 0)
    return bad("RSDP is not a valid ACPI 2.0 one");
  TRY_ASSIGN(auto xsdt, read_table(mem, r.xsdt, "XSDT"));
  AcpiCpus out;
  bool found = false;
  for (size_t at = sizeof(SdtHeader); at + 8 <= xsdt.size(); at += 8) {
    uint64_t pa;
    std::memcpy(&pa, xsdt.data() + at, 8);
    auto madt = read_table(mem, pa, "APIC");
    if (!madt.ok()) continue;
    const auto& m = madt.value();
    if (m.size() < sizeof(SdtHeader) + 8) return bad("MADT too short");
    std::memcpy(&out.lapic_base, m.data() + sizeof(SdtHeader), 4);
    for (size_t e = sizeof(SdtHeader) + 8; e + 2 <= m.size() && m[e + 1] >= 2 && e + m[e + 1] <= m.size();
         e += m[e + 1]) {
      if (m[e] == kMadtLapic && m[e + 1] >= 8) {
        uint32_t flags;
        std::memcpy(&flags, m.data() + e + 4, 4);
        if (flags & kLapicEnabled) out.apic_ids.push_back(m[e + 3]);
      } else if (m[e] == kMadtIoApic && m[e + 1] >= 12) {
        std::memcpy(&out.ioapic_base, m.data() + e + 4, 4);
      }
    }
    found = true;
    break;
  }
  if (!found) return bad("the XSDT lists no MADT");
  return out;
}

}  // namespace ringscope
