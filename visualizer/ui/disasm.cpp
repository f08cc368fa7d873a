// disasm.cpp — Capstone, opened once per mode and kept (cs_open is not free).
#include "ui/disasm.h"

#include <capstone/capstone.h>

#include <array>

namespace ringscope::viewer {

CpuMode cpu_mode(uint64_t cr0, uint64_t efer) {
  if (efer & (1u << 10)) return CpuMode::Long64;  // EFER.LMA: long mode active
  if (cr0 & 1u) return CpuMode::Protected32;      // CR0.PE
  return CpuMode::Real16;
}

const char* cpu_mode_name(CpuMode m) {
  switch (m) {
    case CpuMode::Real16: return "16-bit real mode";
    case CpuMode::Protected32: return "32-bit protected mode";
    case CpuMode::Long64: return "64-bit long mode";
  }
  return "";
}

std::string disassemble(std::string_view bytes, uint64_t rip, CpuMode mode) {
  static std::array<csh, 3> handles{};
  static std::array<bool, 3> opened{};
  const int k = static_cast<int>(mode);
  if (!opened[k]) {
    const cs_mode m = mode == CpuMode::Long64 ? CS_MODE_64 : mode == CpuMode::Protected32 ? CS_MODE_32 : CS_MODE_16;
    if (cs_open(CS_ARCH_X86, m, &handles[k]) != CS_ERR_OK) return {};
    opened[k] = true;
  }
  cs_insn* insn = nullptr;
  const size_t n = cs_disasm(handles[k], reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), rip, 1, &insn);
  std::string out;
  if (n > 0) {
    out = insn[0].mnemonic;
    if (insn[0].op_str[0]) out += std::string(" ") + insn[0].op_str;
  }
  if (insn) cs_free(insn, n);
  return out;
}

}  // namespace ringscope::viewer
