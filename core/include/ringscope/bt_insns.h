// bt_insns.h — the instructions binary translation cannot run as they are
// (docs/design.md "Modes", bt): one table, read by the translator (which
// instructions a scanned block holds), the trace (a bt_callout's
// `instruction`, a bt_translate's `sensitive` mask), `show`, `stats` and the
// viewer.
//
// Two classes, after Robin & Irvine (2000) and Popek & Goldberg (1974):
// privileged instructions fault outside ring 0, so a deprivileged kernel
// would trap on them anyway; sensitive but unprivileged ones run without a
// fault in any ring and silently do the wrong thing for a deprivileged
// kernel (popf drops IF, sgdt shows the monitor's GDT). The second class is
// why x86 could not be virtualised by trap-and-emulate before VT-x, and why
// VMware translated kernel code instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringscope/event.h"

namespace ringscope {

enum class BtInsnClass : uint8_t {
  Privileged,  // faults outside ring 0 (#GP): trap-and-emulate would catch it
  Sensitive,   // runs in any ring but behaves differently outside ring 0: only translation catches it
  Traced,      // an ordinary store, into a page the monitor traces (the guest's page tables: pt_store)
};

struct BtInsnInfo {
  BtInsn insn;
  std::string_view name;  // "popf": a bt_callout's `instruction`, `show --instruction`
  BtInsnClass cls;
  // What a bt_callout's `value` holds for it when it has no access (port,
  // cr, msr), marked for the catalogue; "" when it holds nothing.
  std::string_view value_means;
  // Why the translator cannot leave it in translated code, one sentence for
  // a student (marked for the catalogue, translated by whoever prints it).
  std::string_view why;
};

const BtInsnInfo& bt_insn_info(BtInsn i);  // the None row for a value outside the table
std::string_view bt_insn_name(BtInsn i);   // "" for None
std::optional<BtInsn> bt_insn_from_name(std::string_view name);
std::string_view bt_insn_class_name(BtInsnClass c);  // "privileged", "sensitive", "traced"

// A bt_translate's `value`: bit n set when the block holds BtInsn n.
inline constexpr uint64_t bt_insn_bit(BtInsn i) { return uint64_t{1} << static_cast<unsigned>(i); }
static_assert(kBtInsnCount <= 64, "a block's instruction set is a uint64 mask");
// The names of the instructions in `mask`, in table order, joined by `sep`.
std::string bt_insn_mask_names(uint64_t mask, std::string_view sep = ", ");

}  // namespace ringscope
