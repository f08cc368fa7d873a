// sensitive.h — the instructions a binary translator must not let run as
// they are: one table, the vocabulary of `bt_translate` and `bt_callout`.
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

#include <cstdint>
#include <string>
#include <string_view>

namespace ringscope::bt {

enum class Callout : uint8_t {
  None = 0,
  Io,         // in, out, ins, outs: the devices (privileged: IOPL)
  Cli,        // cli
  Sti,        // sti
  Hlt,        // hlt
  MovCr,      // mov to or from cr0, cr2, cr3, cr4, cr8
  MovDr,      // mov to or from a debug register
  LoadDesc,   // lgdt, lidt, lldt, ltr
  StoreDesc,  // sgdt, sidt, sldt, str, smsw: sensitive but not privileged
  Msr,        // rdmsr, wrmsr
  Swapgs,     // swapgs
  Iret,       // iret, iretq
  Sysret,     // sysret, sysexit
  Flags,      // pushf, popf: IF is sensitive, popf ignores it outside ring 0
  Segment,    // mov to/from a segment register, lar, lsl, verr, verw
  Far,        // far call, far jmp, far ret: load CS
  IntN,       // int n, int3, into
  Invlpg,     // invlpg, invpcid, wbinvd, invd, clts, lmsw
  Cpuid,      // cpuid
};
inline constexpr int kCalloutCount = 19;

struct CalloutInfo {
  Callout kind;
  std::string_view name;  // JSON and counter name: "io", "mov_cr" ...
  bool privileged;        // traps in ring 3 (Popek-Goldberg); false: sensitive yet unprivileged
};
const CalloutInfo& callout_info(Callout c);

// The callout a decoded instruction needs (Capstone with CS_OPT_DETAIL on),
// or None.
Callout classify(const cs_insn& insn);

}  // namespace ringscope::bt
