// bt_insns.cpp — the table of instructions binary translation turns into
// callouts (bt_insns.h): one row per BtInsn, in order.
#include "ringscope/bt_insns.h"

#include <array>

#include "ringscope/i18n.h"

namespace ringscope {
namespace {

using C = BtInsnClass;

// The sentences in `value_means` and `why` are marked for the catalogue
// (N_) and translated where they are printed.
constexpr std::array<BtInsnInfo, kBtInsnCount> kTable = {{
    {BtInsn::None, "", C::Privileged, "", ""},
    {BtInsn::Cli, "cli", C::Privileged, N_("the guest's virtual IF afterwards (0)"),
     N_("cli would turn off the real CPU's interrupts, which belong to the monitor; the monitor clears the "
        "guest's virtual interrupt flag instead")},
    {BtInsn::Sti, "sti", C::Privileged, N_("the guest's virtual IF afterwards (1)"),
     N_("sti would turn on the real CPU's interrupts; the monitor sets the guest's virtual interrupt flag and "
        "delivers any interrupt that was waiting for it")},
    {BtInsn::Pushf, "pushf", C::Sensitive, N_("the flags the guest was shown (its virtual IF and IOPL)"),
     N_("pushf runs in every ring without a fault but would show the real flags, revealing that the kernel "
        "does not run in ring 0 with its own interrupt flag")},
    {BtInsn::Popf, "popf", C::Sensitive, N_("the flags the guest loaded"),
     N_("popf outside ring 0 silently ignores a change of IF and IOPL instead of faulting, so the kernel's "
        "'restore interrupts' would be lost; the monitor applies it to the virtual flags")},
    {BtInsn::Hlt, "hlt", C::Privileged, "",
     N_("hlt would stop the real CPU; the monitor idles the virtual CPU until an interrupt is due for it")},
    {BtInsn::In, "in", C::Privileged, "",
     N_("in reads a device register; the devices are the monitor's models, so the monitor performs the read "
        "— without a hardware exit, unlike trap-and-emulate")},
    {BtInsn::Out, "out", C::Privileged, "",
     N_("out writes a device register; the monitor hands the write to its device model directly, without a "
        "hardware exit")},
    {BtInsn::Ins, "ins", C::Privileged, "", N_("ins is a string of port reads; the monitor performs them")},
    {BtInsn::Outs, "outs", C::Privileged, "", N_("outs is a string of port writes; the monitor performs them")},
    {BtInsn::MovCr, "mov_cr", C::Privileged, "",
     N_("a control register (paging, protection) belongs to the monitor while the guest runs; the monitor "
        "keeps the guest's value and updates its own shadow state (CR3: the shadow page tables)")},
    {BtInsn::Lmsw, "lmsw", C::Privileged, "", N_("lmsw writes CR0's low bits, which belong to the monitor")},
    {BtInsn::Clts, "clts", C::Privileged, "", N_("clts clears CR0.TS, which belongs to the monitor")},
    {BtInsn::MovDr, "mov_dr", C::Privileged, "", N_("the debug registers belong to the monitor")},
    {BtInsn::Rdmsr, "rdmsr", C::Privileged, "",
     N_("a model-specific register belongs to the CPU the monitor runs on; the guest reads its virtual copy")},
    {BtInsn::Wrmsr, "wrmsr", C::Privileged, "",
     N_("a model-specific register (LSTAR, EFER, ...) would redirect the real CPU; the monitor keeps the "
        "guest's value and its own stays live")},
    {BtInsn::Lgdt, "lgdt", C::Privileged, N_("the base address the guest loaded"),
     N_("the real GDT is the monitor's while guest code runs; lgdt only changes the guest's virtual GDT")},
    {BtInsn::Lidt, "lidt", C::Privileged, N_("the base address the guest loaded"),
     N_("the real IDT is the monitor's, so that every trap reaches the monitor first; lidt only changes the "
        "guest's virtual IDT, through which the monitor delivers traps to the guest")},
    {BtInsn::Lldt, "lldt", C::Privileged, N_("the selector the guest loaded"),
     N_("lldt would load a descriptor table the monitor owns")},
    {BtInsn::Ltr, "ltr", C::Privileged, N_("the selector the guest loaded"),
     N_("the real TSS (the stack a trap switches to) is the monitor's; ltr only changes the guest's virtual "
        "task register")},
    {BtInsn::Sgdt, "sgdt", C::Sensitive, N_("the base address the guest was shown"),
     N_("sgdt runs in every ring without a fault and would show the monitor's GDT; the guest is shown its "
        "own")},
    {BtInsn::Sidt, "sidt", C::Sensitive, N_("the base address the guest was shown"),
     N_("sidt runs in every ring without a fault and would show the monitor's IDT (the 'red pill' test for a "
        "virtual machine); the guest is shown its own")},
    {BtInsn::Sldt, "sldt", C::Sensitive, N_("the selector the guest was shown"),
     N_("sldt runs in every ring and would show the monitor's LDT selector")},
    {BtInsn::Str, "str", C::Sensitive, N_("the selector the guest was shown"),
     N_("str runs in every ring and would show the monitor's task register")},
    {BtInsn::Smsw, "smsw", C::Sensitive, N_("the CR0 bits the guest was shown"),
     N_("smsw runs in every ring and would show the real CR0's low bits")},
    {BtInsn::MovSeg, "mov_seg", C::Sensitive, N_("the selector"),
     N_("a segment selector carries a privilege level: reading CS or SS would show that the kernel does not "
        "run in ring 0, and loading one must be checked against the guest's virtual GDT")},
    {BtInsn::PushSeg, "push_seg", C::Sensitive, N_("the selector the guest was shown"),
     N_("push of a segment register would show the real selector and its privilege level")},
    {BtInsn::PopSeg, "pop_seg", C::Sensitive, N_("the selector the guest loaded"),
     N_("pop of a segment register loads a descriptor from a table the monitor owns")},
    {BtInsn::Lar, "lar", C::Sensitive, N_("the access rights the guest was shown"),
     N_("lar runs in every ring and answers from the real descriptor tables, which are the monitor's")},
    {BtInsn::Lsl, "lsl", C::Sensitive, N_("the limit the guest was shown"),
     N_("lsl runs in every ring and answers from the real descriptor tables, which are the monitor's")},
    {BtInsn::Verr, "verr", C::Sensitive, N_("1 when the segment was readable"),
     N_("verr checks a selector against the real descriptor tables and the real privilege level")},
    {BtInsn::Verw, "verw", C::Sensitive, N_("1 when the segment was writable"),
     N_("verw checks a selector against the real descriptor tables and the real privilege level")},
    {BtInsn::CallFar, "call_far", C::Sensitive, N_("the target selector"),
     N_("a far call loads CS and checks privilege against descriptor tables the monitor owns")},
    {BtInsn::JmpFar, "jmp_far", C::Sensitive, N_("the target selector"),
     N_("a far jump loads CS and checks privilege against descriptor tables the monitor owns")},
    {BtInsn::RetFar, "ret_far", C::Sensitive, N_("the selector returned to"),
     N_("a far return pops CS and would check its privilege level against the real ring")},
    {BtInsn::IntN, "int", C::Sensitive, "",
     N_("int n goes through the real IDT, which is the monitor's; the monitor delivers it through the guest's "
        "virtual IDT")},
    {BtInsn::Iret, "iretq", C::Sensitive, N_("the RIP the guest returned to"),
     N_("iretq pops a privilege level and the flags: outside ring 0 it cannot restore IF, and a return to "
        "ring 3 must leave the translator (a world switch to direct execution)")},
    {BtInsn::Sysret, "sysretq", C::Privileged, N_("the RIP the guest returned to"),
     N_("sysretq returns to ring 3, which runs directly, not in the translator: a world switch")},
    {BtInsn::Swapgs, "swapgs", C::Privileged, N_("the GS base afterwards"),
     N_("swapgs exchanges the GS base with an MSR that belongs to the monitor; the monitor swaps the guest's "
        "virtual copies")},
    {BtInsn::Invlpg, "invlpg", C::Privileged, N_("the address whose translation was dropped"),
     N_("invlpg drops a TLB entry; the monitor must drop the matching shadow page-table entry too")},
    {BtInsn::Invd, "invd", C::Privileged, "", N_("invd acts on the real CPU's caches")},
    {BtInsn::Wbinvd, "wbinvd", C::Privileged, "", N_("wbinvd acts on the real CPU's caches")},
    {BtInsn::Cpuid, "cpuid", C::Sensitive, "",
     N_("cpuid runs in every ring and would describe the real CPU; the monitor shows the virtual CPU it "
        "promised the guest")},
    {BtInsn::Rdtsc, "rdtsc", C::Sensitive, N_("the time stamp the guest was shown"),
     N_("rdtsc reads the real time-stamp counter; the monitor shows the guest's virtual time")},
    {BtInsn::PtStore, "pt_store", C::Traced, "",
     N_("an ordinary store into a page that holds the guest's page tables: the monitor traces those pages and "
        "keeps its shadow of them (KVM's copy) in step")},
}};

constexpr bool in_order() {
  for (size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<size_t>(kTable[i].insn) != i) return false;
  return true;
}
static_assert(in_order(), "kTable is indexed by BtInsn");
static_assert(static_cast<int>(BtInsn::PtStore) + 1 == kBtInsnCount);

}  // namespace

const BtInsnInfo& bt_insn_info(BtInsn i) {
  const auto n = static_cast<size_t>(i);
  return n < kTable.size() ? kTable[n] : kTable[0];
}

std::string_view bt_insn_name(BtInsn i) { return bt_insn_info(i).name; }

std::optional<BtInsn> bt_insn_from_name(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const BtInsnInfo& r : kTable)
    if (r.name == name) return r.insn;
  return std::nullopt;
}

std::string_view bt_insn_class_name(BtInsnClass c) {
  switch (c) {
    case BtInsnClass::Privileged: return "privileged";
    case BtInsnClass::Sensitive: return "sensitive";
    case BtInsnClass::Traced: return "traced";
  }
  return "";
}

std::string bt_insn_mask_names(uint64_t mask, std::string_view sep) {
  std::string out;
  for (size_t i = 1; i < kTable.size(); ++i) {
    if (!(mask & (uint64_t{1} << i))) continue;
    if (!out.empty()) out += sep;
    out += kTable[i].name;
  }
  return out;
}

}  // namespace ringscope
