// sensitive.h — which guest instruction a binary translator must not let
// run as it is: a Capstone-decoded instruction mapped to its row of the
// one table of such instructions (core's bt_insns.h, the vocabulary of
// `bt_translate` and `bt_callout`).
//
// Popek and Goldberg (1974): a machine can be virtualised by trap-and-
// emulate when every *sensitive* instruction (one that reads or changes
// the machine's privileged state) is *privileged* (traps outside ring 0).
// x86 before VT-x failed that test (Robin and Irvine, 2000): `popf` in
// ring 1 or 3 silently ignores IF, `sgdt`/`sidt`/`smsw` reveal the real
// tables, `push %cs` reveals the real CPL. So VMware translated kernel code
// and replaced every sensitive instruction with a *callout* into the
// monitor. In Unicorn (QEMU's TCG) each of these becomes a call from the
// translated code into a helper (helper_outb, helper_write_crN,
// helper_iret_protected, helper_read_eflags ...): the same idea.
#pragma once

#include <capstone/capstone.h>

#include "ringscope/event.h"

namespace ringscope::bt {

// The instruction's row (Capstone with CS_OPT_DETAIL on), or BtInsn::None.
BtInsn classify(const cs_insn& insn);

}  // namespace ringscope::bt
