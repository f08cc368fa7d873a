// nanobench_rows.cpp — the paper's rows and their reasons (nanobench_rows.h).
//
// The winners are the paper's (Adams & Agesen 2006, its figure of
// nanobenchmarks and the text on it): hardware assist won syscall, call/ret and divzero; binary
// translation won in, cr8wr, pgfault and ptemod. The paper's VT-x had no
// nested paging (EPT), which is why the two MMU rows went to software.
#include "ringscope/nanobench_rows.h"

#include <array>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

constexpr std::array kRows = {
    NanobenchRow{"syscall", Technique::HardwareAssist,
                 N_("VT-x runs the guest's own system call path: ring 3 to ring 0 and back inside the guest, no "
                    "exit. Under binary translation guest user code runs directly while the monitor owns the real "
                    "IDT, so each call is a world switch into the translator and another one back."),
                 N_("PVM runs the guest kernel deprivileged, so every entry into it passes through the host, much "
                    "like a world switch; and it reserves user-mode int n, so each call arrives as a #UD that the "
                    "kernel decodes (kernel/trap.c).")},
    NanobenchRow{"in", Technique::BinaryTranslation,
                 N_("Under VT-x every in is a VM exit: the CPU leaves the guest, the VMM answers from its device "
                    "model, and the guest is entered again. The translator turns the in into a callout: the monitor "
                    "emulates it inside its own world, with no hardware exit at all."),
                 nullptr},
    NanobenchRow{"cr8wr", Technique::BinaryTranslation,
                 N_("The translator replaces a CR8 write with a few ordinary instructions that update the virtual "
                    "task priority, faster even than the real register. VT-x with a TPR shadow runs the write near "
                    "native speed; without one every write exits to the hypervisor (the VT-x model counts it so)."),
                 N_("PVM emulates every ring-0 instruction in software, this write like any other: no exit to the "
                    "VMM, but microseconds each, so full-virt loses a row VT-x runs near native speed.")},
    NanobenchRow{"call/ret", Technique::HardwareAssist,
                 N_("VT-x runs calls and returns as they are. A translator cannot: the return address on the stack "
                    "is a guest address, so every ret must look up the translated code for it, the cost of "
                    "indirect control flow."),
                 N_("PVM emulates every ring-0 instruction, call and ret included: here full-virt is the slowest "
                    "column, the opposite of the paper's row.")},
    NanobenchRow{"pgfault", Technique::BinaryTranslation,
                 N_("Without nested paging (the paper's VT-x had none) both monitors keep shadow page tables and "
                    "must see every guest page fault. The software monitor gets control through an ordinary fault, "
                    "cheaper than a VM exit and re-entry. With EPT the fault is the guest's alone, no exit "
                    "(--vmx-profile no-ept shows the paper's case)."),
                 N_("PVM runs the guest on shadow page tables, as the paper's VT-x did: every guest page fault "
                    "passes through the host first.")},
    NanobenchRow{"divzero", Technique::HardwareAssist,
                 N_("A divide error touches no page table, so it shows what a fault costs by itself. VT-x delivers "
                    "it straight to the guest's handler (#DE is not in the exception bitmap): no exit. Under binary "
                    "translation the monitor owns the real IDT, so the fault lands there and is delivered to the "
                    "guest kernel in software, a world switch each way."),
                 N_("PVM's host owns the real IDT (the guest kernel runs deprivileged) and re-delivers every "
                    "exception to the guest, as the paper's software monitor did: the row turns against full-virt "
                    "here.")},
    NanobenchRow{"ptemod", Technique::BinaryTranslation,
                 N_("Without nested paging both monitors write-protect the guest's page tables to keep their "
                    "shadows right. The translator learns which stores hit a page table and turns each into a "
                    "callout; VT-x takes an exit for every such store and for the invlpg. With EPT both are the "
                    "guest's own work, no exit (--vmx-profile no-ept shows the paper's case)."),
                 N_("PVM keeps shadow page tables and emulates ring 0: the host does every page-table store and "
                    "invlpg in software, as the paper's VT-x without EPT had to.")},
};

}  // namespace

std::span<const NanobenchRow> nanobench_rows() { return kRows; }

const NanobenchRow* find_nanobench_row(std::string_view name) {
  for (const auto& r : kRows)
    if (r.name == name) return &r;
  return nullptr;
}

const char* technique_name(Technique t) {
  return t == Technique::HardwareAssist ? tr("hardware assist (VT-x)") : tr("binary translation");
}

}  // namespace ringscope
