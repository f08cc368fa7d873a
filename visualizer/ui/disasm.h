// disasm.h — one guest instruction in words, with Capstone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringscope::viewer {

// The CPU mode the bytes were executed in, from the guest's CR0/EFER.
enum class CpuMode { Real16, Protected32, Long64 };
CpuMode cpu_mode(uint64_t cr0, uint64_t efer);
const char* cpu_mode_name(CpuMode m);

// "out dx, al" for the first instruction of `bytes` at `rip`; empty when
// Capstone cannot decode them.
std::string disassemble(std::string_view bytes, uint64_t rip, CpuMode mode);

}  // namespace ringscope::viewer
