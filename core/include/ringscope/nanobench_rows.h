// nanobench_rows.h — the rows of Adams & Agesen's nanobenchmark table ("A
// Comparison of Software and Hardware Techniques for x86 Virtualization",
// ASPLOS 2006): which technique the paper found faster for each, and why.
// `compare` prints them under the measured figures of the nanobench
// scenario (docs/compare.md), `experiment nanobench` sets them beside its
// medians (docs/experiments.md); the scenario's phases are named after them.
#pragma once

#include <span>
#include <string_view>

namespace ringscope {

// The two techniques the paper compared.
enum class Technique {
  HardwareAssist,     // VT-x: trap-and-emulate with the CPU's help
  BinaryTranslation,  // VMware's software VMM: kernel code translated
};

struct NanobenchRow {
  std::string_view name;  // the phase label's row, before the colon: "syscall"
  Technique paper_winner;
  const char* why;  // N_(): why that technique wins, in a sentence or two
  const char* pvm;  // N_(): what a PVM host changes in the row, or nullptr
};

// In the paper's order: syscall, in, cr8wr, call/ret, pgfault, divzero, ptemod.
std::span<const NanobenchRow> nanobench_rows();
// The row called `name`, or nullptr.
const NanobenchRow* find_nanobench_row(std::string_view name);
// "hardware assist (VT-x)" or "binary translation", translated.
const char* technique_name(Technique t);

}  // namespace ringscope
