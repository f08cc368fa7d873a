// exit_reasons.cpp — the table of VT-x basic exit reasons (Intel SDM Vol. 3C,
// Appendix C "VMX Basic Exit Reasons").
//
// Numbers the SDM leaves unused (35, 38, 42, 71) are absent, so
// find_exit_reason() returns nullptr for them. The TDX-only reasons
// (76 SEAMCALL, 77 TDCALL) are left out on purpose: no ringscope guest can
// produce them. The explanations are for students; the reasons a teaching
// kernel actually causes get the longest ones.
#include <algorithm>
#include <array>
#include <string>

#include "ringscope/exit_reasons.h"

namespace ringscope {
namespace {

constexpr ExitReasonInfo kReasons[] = {
    {0, "exception_nmi", "Exception or NMI",
     "The guest raised an exception (or received an NMI) that the exception bitmap tells the CPU to hand to the "
     "hypervisor instead of the guest's own IDT; KVM uses this for #DB/#BP while debugging and for some #PF/#UD "
     "handling."},
    {1, "external_interrupt", "External interrupt",
     "A hardware interrupt arrived for the host (a timer tick, a network card) while the guest was running; the CPU "
     "leaves the guest so the host can service it, then resumes the guest. The guest never sees it."},
    {2, "triple_fault", "Triple fault",
     "The guest faulted while trying to deliver a double fault, which on real hardware resets the machine; under "
     "VT-x the hypervisor gets control instead. Usually a broken IDT, GDT or page table."},
    {3, "init_signal", "INIT signal", "Another CPU sent this vCPU an INIT IPI (the first step of starting an AP)."},
    {4, "sipi", "Start-up IPI (SIPI)", "A start-up IPI arrived while the vCPU waited for one after INIT."},
    {5, "io_smi", "I/O system-management interrupt", "An SMI arrived right after an I/O instruction."},
    {6, "other_smi", "Other SMI", "A system-management interrupt arrived that was not caused by an I/O instruction."},
    {7, "interrupt_window", "Interrupt window",
     "The hypervisor asked to be told as soon as the guest can accept an interrupt (RFLAGS.IF set, no blocking); "
     "it exits here so it can inject the interrupt it has been holding."},
    {8, "nmi_window", "NMI window", "The guest can now accept an NMI the hypervisor wants to inject."},
    {9, "task_switch", "Task switch", "The guest attempted a hardware task switch (a 32-bit TSS mechanism)."},
    {10, "cpuid", "CPUID",
     "The guest executed CPUID, which always exits under VT-x: the hypervisor decides which CPU features the guest "
     "is allowed to see (KVM_SET_CPUID2), then skips the instruction."},
    {11, "getsec", "GETSEC", "The guest executed GETSEC (Intel TXT safer-mode extensions)."},
    {12, "hlt", "HLT",
     "The guest executed HLT to wait for an interrupt. Rather than let a physical CPU sit idle, the hypervisor takes "
     "over and runs something else until an interrupt for this vCPU arrives."},
    {13, "invd", "INVD", "The guest executed INVD (invalidate caches without writing them back)."},
    {14, "invlpg", "INVLPG",
     "The guest invalidated a TLB entry with INVLPG. With EPT this does not need to exit; without it the hypervisor "
     "must update its shadow page tables to match."},
    {15, "rdpmc", "RDPMC", "The guest read a performance-monitoring counter."},
    {16, "rdtsc", "RDTSC",
     "The guest read the time-stamp counter and the hypervisor chose to intercept it (normally RDTSC runs natively "
     "with a TSC offset, so this exit is rare)."},
    {17, "rsm", "RSM", "The guest executed RSM (return from system-management mode)."},
    {18, "vmcall", "VMCALL",
     "The guest executed VMCALL: a deliberate call into the hypervisor, the hardware way to make a hypercall. A "
     "para-virtualised guest uses it (or a doorbell port) instead of touching emulated hardware."},
    {19, "vmclear", "VMCLEAR", "The guest executed a VMX instruction (VMCLEAR): nested virtualisation."},
    {20, "vmlaunch", "VMLAUNCH", "The guest executed VMLAUNCH: nested virtualisation."},
    {21, "vmptrld", "VMPTRLD", "The guest executed VMPTRLD: nested virtualisation."},
    {22, "vmptrst", "VMPTRST", "The guest executed VMPTRST: nested virtualisation."},
    {23, "vmread", "VMREAD", "The guest executed VMREAD: nested virtualisation."},
    {24, "vmresume", "VMRESUME", "The guest executed VMRESUME: nested virtualisation."},
    {25, "vmwrite", "VMWRITE", "The guest executed VMWRITE: nested virtualisation."},
    {26, "vmxoff", "VMXOFF", "The guest executed VMXOFF: nested virtualisation."},
    {27, "vmxon", "VMXON", "The guest executed VMXON: nested virtualisation."},
    {28, "cr_access", "Control-register access",
     "The guest moved a value to or from a control register (CR0, CR3, CR4, CR8) that the hypervisor watches, for "
     "example turning on paging or long mode; the hypervisor checks and applies the change."},
    {29, "mov_dr", "MOV DR", "The guest accessed a debug register."},
    {30, "io_instruction", "I/O instruction",
     "The guest executed IN, OUT, INS or OUTS on an I/O port. Port I/O to emulated devices always exits: the "
     "hypervisor plays the device (here, the VMM in user space), then resumes the guest after the instruction."},
    {31, "rdmsr", "RDMSR",
     "The guest read a model-specific register the hypervisor intercepts (the MSR bitmap decides which); the "
     "hypervisor supplies the value."},
    {32, "wrmsr", "WRMSR",
     "The guest wrote a model-specific register the hypervisor intercepts, such as EFER or the SYSCALL MSRs; the "
     "hypervisor checks and applies the value."},
    {33, "entry_fail_guest_state", "VM-entry failure: invalid guest state",
     "VM entry failed because the guest state in the VMCS broke one of VT-x's consistency checks (segment "
     "attributes, CR0/CR4 bits, a 64-bit state without paging...). The guest never ran an instruction."},
    {34, "entry_fail_msr_loading", "VM-entry failure: MSR loading", "VM entry failed while loading guest MSRs."},
    {36, "mwait", "MWAIT", "The guest executed MWAIT."},
    {37, "monitor_trap_flag", "Monitor trap flag",
     "The hypervisor set the monitor trap flag, so the CPU exits after every guest instruction: this is how KVM "
     "single-steps a guest (trace level full), and why that level is slow."},
    {39, "monitor", "MONITOR", "The guest executed MONITOR."},
    {40, "pause", "PAUSE", "The guest executed PAUSE in a spin loop (pause-loop exiting): it may be waiting on a lock."},
    {41, "entry_fail_machine_check", "VM-entry failure: machine check", "A machine check happened during VM entry."},
    {43, "tpr_below_threshold", "TPR below threshold", "The guest lowered its task-priority register below a threshold."},
    {44, "apic_access", "APIC access", "The guest accessed the APIC-access page (virtualised local APIC)."},
    {45, "virtualized_eoi", "Virtualized EOI", "The guest signalled end-of-interrupt on a virtualised APIC."},
    {46, "gdtr_idtr_access", "Access to GDTR or IDTR", "The guest executed LGDT, LIDT, SGDT or SIDT."},
    {47, "ldtr_tr_access", "Access to LDTR or TR", "The guest executed LLDT, LTR, SLDT or STR."},
    {48, "ept_violation", "EPT violation",
     "The guest touched a guest-physical address that the extended page tables do not map (or map without that "
     "permission). This is how MMIO reaches a device model, and how the hypervisor lazily backs guest memory."},
    {49, "ept_misconfig", "EPT misconfiguration",
     "The guest touched a page whose EPT entry is deliberately invalid; KVM marks MMIO pages this way so it can "
     "recognise MMIO quickly and emulate it."},
    {50, "invept", "INVEPT", "The guest executed INVEPT: nested virtualisation."},
    {51, "rdtscp", "RDTSCP", "The guest executed RDTSCP and the hypervisor intercepts it."},
    {52, "preemption_timer", "VMX-preemption timer expired",
     "The VMX preemption timer counted down to zero: the hypervisor set it to get control back after a time slice, "
     "even if the guest never exits on its own."},
    {53, "invvpid", "INVVPID", "The guest executed INVVPID: nested virtualisation."},
    {54, "wbinvd", "WBINVD or WBNOINVD", "The guest executed WBINVD or WBNOINVD (write back and flush caches)."},
    {55, "xsetbv", "XSETBV", "The guest wrote an extended control register (XCR0) to enable AVX or other state."},
    {56, "apic_write", "APIC write", "The guest wrote a virtualised APIC register that needs the hypervisor's attention."},
    {57, "rdrand", "RDRAND", "The guest executed RDRAND and the hypervisor intercepts it."},
    {58, "invpcid", "INVPCID", "The guest executed INVPCID."},
    {59, "vmfunc", "VMFUNC", "The guest invoked a VM function that failed or is not enabled."},
    {60, "encls", "ENCLS", "The guest executed an SGX ENCLS leaf the hypervisor intercepts."},
    {61, "rdseed", "RDSEED", "The guest executed RDSEED and the hypervisor intercepts it."},
    {62, "pml_full", "Page-modification log full", "The page-modification log used for dirty-page tracking is full."},
    {63, "xsaves", "XSAVES", "The guest executed XSAVES."},
    {64, "xrstors", "XRSTORS", "The guest executed XRSTORS."},
    {65, "pconfig", "PCONFIG", "The guest executed PCONFIG."},
    {66, "spp_event", "SPP-related event", "A sub-page write-permission event occurred."},
    {67, "umwait", "UMWAIT", "The guest executed UMWAIT."},
    {68, "tpause", "TPAUSE", "The guest executed TPAUSE."},
    {69, "loadiwkey", "LOADIWKEY", "The guest executed LOADIWKEY (Key Locker)."},
    {70, "enclv", "ENCLV", "The guest executed an SGX ENCLV leaf."},
    {72, "enqcmd_pasid_fail", "ENQCMD PASID translation failure", "ENQCMD could not translate a PASID."},
    {73, "enqcmds_pasid_fail", "ENQCMDS PASID translation failure", "ENQCMDS could not translate a PASID."},
    {74, "bus_lock", "Bus lock", "The guest performed a bus-locking access (a split lock) the hypervisor watches."},
    {75, "instruction_timeout", "Instruction timeout",
     "One guest instruction ran longer than the notify window allows (a guard against guests that hang the CPU)."},
};

static_assert(std::is_sorted(std::begin(kReasons), std::end(kReasons),
                             [](const ExitReasonInfo& a, const ExitReasonInfo& b) { return a.number < b.number; }),
              "the exit reason table must stay sorted by number");

}  // namespace

std::span<const ExitReasonInfo> exit_reasons() { return kReasons; }

const ExitReasonInfo* find_exit_reason(uint16_t number) {
  auto it = std::lower_bound(std::begin(kReasons), std::end(kReasons), number,
                             [](const ExitReasonInfo& r, uint16_t n) { return r.number < n; });
  return (it != std::end(kReasons) && it->number == number) ? it : nullptr;
}

std::optional<uint16_t> exit_reason_from_name(std::string_view name) {
  for (const auto& r : kReasons) {
    if (r.name == name) return r.number;
  }
  // Accept what exit_reason_name() prints for numbers not in the table.
  if (name.starts_with("reason_") && name.size() > 7 && name.size() <= 12) {
    uint32_t n = 0;
    for (char c : name.substr(7)) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (n <= 0xffff) return static_cast<uint16_t>(n);
  }
  return std::nullopt;
}

std::string exit_reason_name(uint16_t number) {
  if (const auto* r = find_exit_reason(number)) return std::string(r->name);
  return "reason_" + std::to_string(number);
}

}  // namespace ringscope
