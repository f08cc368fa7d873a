// msr.cpp — the emulated CPU's MSRs (see msr.h), as ranges.
#include "ringscope/arch/msr.h"

#include <iterator>

namespace ringscope::arch {

namespace {
struct Range {
  uint32_t first, last;
};
// SDM Vol. 4, Table 2-2 (architectural MSRs) and Vol. 3A §2.2.1 (EFER and
// the SYSCALL MSRs), limited to what the CPU model keeps state for.
constexpr Range kImplemented[] = {
    {0x00000010, 0x00000010},  // IA32_TIME_STAMP_COUNTER
    {0x0000001b, 0x0000001b},  // IA32_APIC_BASE
    {0x000000fe, 0x000000fe},  // IA32_MTRRCAP
    {0x00000174, 0x00000176},  // IA32_SYSENTER_CS / _ESP / _EIP
    {0x00000179, 0x0000017b},  // IA32_MCG_CAP / _STATUS / _CTL
    {0x000001a0, 0x000001a0},  // IA32_MISC_ENABLE
    {0x00000200, 0x0000020f},  // IA32_MTRR_PHYSBASE0..PHYSMASK7
    {0x00000250, 0x00000250},  // IA32_MTRR_FIX64K_00000
    {0x00000258, 0x00000259},  // IA32_MTRR_FIX16K_*
    {0x00000268, 0x0000026f},  // IA32_MTRR_FIX4K_*
    {0x00000277, 0x00000277},  // IA32_PAT
    {0x000002ff, 0x000002ff},  // IA32_MTRR_DEF_TYPE
    {0x00000400, 0x00000427},  // IA32_MC0..9 CTL/STATUS/ADDR/MISC
    {0xc0000080, 0xc0000084},  // IA32_EFER, STAR, LSTAR, CSTAR, FMASK
    {0xc0000100, 0xc0000103},  // FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX
};
}  // namespace

bool msr_implemented(uint32_t msr) {
  for (const Range& r : kImplemented)
    if (msr >= r.first && msr <= r.last) return true;
  return false;
}

}  // namespace ringscope::arch
