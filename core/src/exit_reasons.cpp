// exit_reasons.cpp — the table of VT-x basic exit reasons (Intel SDM Vol. 3C,
// Appendix C "VMX Basic Exit Reasons").
//
// Numbers the SDM leaves unused (35, 38, 42, 71) are absent, so
// find_exit_reason() returns nullptr for them. The TDX-only reasons
// (76 SEAMCALL, 77 TDCALL) are left out on purpose: no ringscope guest can
// produce them. The explanations are for students; the reasons a teaching
// kernel actually causes get the longest ones. Titles and explanations are
// marked for the catalogue (i18n.h); readers translate them with tr().
#include <algorithm>
#include <array>
#include <string>

#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"

namespace ringscope {
namespace {

constexpr ExitReasonInfo kReasons[] = {
    {0, "exception_nmi", N_("Exception or NMI"),
     N_("The guest raised an exception (or received an NMI) that the exception bitmap tells the CPU to hand to the "
        "hypervisor instead of the guest's own IDT; KVM uses this for #DB/#BP while debugging and for some #PF/#UD "
        "handling.")},
    {1, "external_interrupt", N_("External interrupt"),
     N_("A hardware interrupt arrived for the host (a timer tick, a network card) while the guest was running; the CPU "
        "leaves the guest so the host can service it, then resumes the guest. The guest never sees it.")},
    {2, "triple_fault", N_("Triple fault"),
     N_("The guest faulted while trying to deliver a double fault, which on real hardware resets the machine; under "
        "VT-x the hypervisor gets control instead. Usually a broken IDT, GDT or page table.")},
    {3, "init_signal", N_("INIT signal"),
     N_("Another CPU sent this vCPU an INIT IPI (the first step of starting an AP).")},
    {4, "sipi", N_("Start-up IPI (SIPI)"), N_("A start-up IPI arrived while the vCPU waited for one after INIT.")},
    {5, "io_smi", N_("I/O system-management interrupt"), N_("An SMI arrived right after an I/O instruction.")},
    {6, "other_smi", N_("Other SMI"),
     N_("A system-management interrupt arrived that was not caused by an I/O instruction.")},
    {7, "interrupt_window", N_("Interrupt window"),
     N_("The hypervisor asked to be told as soon as the guest can accept an interrupt (RFLAGS.IF set, no blocking); "
        "it exits here so it can inject the interrupt it has been holding.")},
    {8, "nmi_window", N_("NMI window"), N_("The guest can now accept an NMI the hypervisor wants to inject.")},
    {9, "task_switch", N_("Task switch"), N_("The guest attempted a hardware task switch (a 32-bit TSS mechanism).")},
    {10, "cpuid", N_("CPUID"),
     N_("The guest executed CPUID, which always exits under VT-x: the hypervisor decides which CPU features the guest "
        "is allowed to see (KVM_SET_CPUID2), then skips the instruction.")},
    {11, "getsec", N_("GETSEC"), N_("The guest executed GETSEC (Intel TXT safer-mode extensions).")},
    {12, "hlt", N_("HLT"),
     N_("The guest executed HLT to wait for an interrupt. Rather than let a physical CPU sit idle, the hypervisor "
        "takes "
        "over and runs something else until an interrupt for this vCPU arrives.")},
    {13, "invd", N_("INVD"), N_("The guest executed INVD (invalidate caches without writing them back).")},
    {14, "invlpg", N_("INVLPG"),
     N_("The guest invalidated a TLB entry with INVLPG. With EPT this does not need to exit; without it the hypervisor "
        "must update its shadow page tables to match.")},
    {15, "rdpmc", N_("RDPMC"), N_("The guest read a performance-monitoring counter.")},
    {16, "rdtsc", N_("RDTSC"),
     N_("The guest read the time-stamp counter and the hypervisor chose to intercept it (normally RDTSC runs natively "
        "with a TSC offset, so this exit is rare).")},
    {17, "rsm", N_("RSM"), N_("The guest executed RSM (return from system-management mode).")},
    {18, "vmcall", N_("VMCALL"),
     N_("The guest executed VMCALL: a deliberate call into the hypervisor, the hardware way to make a hypercall. A "
        "para-virtualised guest uses it (or a doorbell port) instead of touching emulated hardware.")},
    {19, "vmclear", N_("VMCLEAR"), N_("The guest executed a VMX instruction (VMCLEAR): nested virtualisation.")},
    {20, "vmlaunch", N_("VMLAUNCH"), N_("The guest executed VMLAUNCH: nested virtualisation.")},
    {21, "vmptrld", N_("VMPTRLD"), N_("The guest executed VMPTRLD: nested virtualisation.")},
    {22, "vmptrst", N_("VMPTRST"), N_("The guest executed VMPTRST: nested virtualisation.")},
    {23, "vmread", N_("VMREAD"), N_("The guest executed VMREAD: nested virtualisation.")},
    {24, "vmresume", N_("VMRESUME"), N_("The guest executed VMRESUME: nested virtualisation.")},
    {25, "vmwrite", N_("VMWRITE"), N_("The guest executed VMWRITE: nested virtualisation.")},
    {26, "vmxoff", N_("VMXOFF"), N_("The guest executed VMXOFF: nested virtualisation.")},
    {27, "vmxon", N_("VMXON"), N_("The guest executed VMXON: nested virtualisation.")},
    {28, "cr_access", N_("Control-register access"),
     N_("The guest moved a value to or from a control register (CR0, CR3, CR4, CR8) that the hypervisor watches, for "
        "example turning on paging or long mode; the hypervisor checks and applies the change.")},
    {29, "mov_dr", N_("MOV DR"), N_("The guest accessed a debug register.")},
    {30, "io_instruction", N_("I/O instruction"),
     N_("The guest executed IN, OUT, INS or OUTS on an I/O port. Port I/O to emulated devices always exits: the "
        "hypervisor plays the device (here, the VMM in user space), then resumes the guest after the instruction.")},
    {31, "rdmsr", N_("RDMSR"),
     N_("The guest read a model-specific register the hypervisor intercepts (the MSR bitmap decides which); the "
        "hypervisor supplies the value.")},
    {32, "wrmsr", N_("WRMSR"),
     N_("The guest wrote a model-specific register the hypervisor intercepts, such as EFER or the SYSCALL MSRs; the "
        "hypervisor checks and applies the value.")},
    {33, "entry_fail_guest_state", N_("VM-entry failure: invalid guest state"),
     N_("VM entry failed because the guest state in the VMCS broke one of VT-x's consistency checks (segment "
        "attributes, CR0/CR4 bits, a 64-bit state without paging...). The guest never ran an instruction.")},
    {34, "entry_fail_msr_loading", N_("VM-entry failure: MSR loading"),
     N_("VM entry failed while loading guest MSRs.")},
    {36, "mwait", N_("MWAIT"), N_("The guest executed MWAIT.")},
    {37, "monitor_trap_flag", N_("Monitor trap flag"),
     N_("The hypervisor set the monitor trap flag, so the CPU exits after every guest instruction: this is how KVM "
        "single-steps a guest (trace level full), and why that level is slow.")},
    {39, "monitor", N_("MONITOR"), N_("The guest executed MONITOR.")},
    {40, "pause", N_("PAUSE"),
     N_("The guest executed PAUSE in a spin loop (pause-loop exiting): it may be waiting on a lock.")},
    {41, "entry_fail_machine_check", N_("VM-entry failure: machine check"),
     N_("A machine check happened during VM entry.")},
    {43, "tpr_below_threshold", N_("TPR below threshold"),
     N_("The guest lowered its task-priority register below a threshold.")},
    {44, "apic_access", N_("APIC access"), N_("The guest accessed the APIC-access page (virtualised local APIC).")},
    {45, "virtualized_eoi", N_("Virtualized EOI"), N_("The guest signalled end-of-interrupt on a virtualised APIC.")},
    {46, "gdtr_idtr_access", N_("Access to GDTR or IDTR"), N_("The guest executed LGDT, LIDT, SGDT or SIDT.")},
    {47, "ldtr_tr_access", N_("Access to LDTR or TR"), N_("The guest executed LLDT, LTR, SLDT or STR.")},
    {48, "ept_violation", N_("EPT violation"),
     N_("The guest touched a guest-physical address that the extended page tables do not map (or map without that "
        "permission). This is how MMIO reaches a device model, and how the hypervisor lazily backs guest memory.")},
    {49, "ept_misconfig", N_("EPT misconfiguration"),
     N_("The guest touched a page whose EPT entry is deliberately invalid; KVM marks MMIO pages this way so it can "
        "recognise MMIO quickly and emulate it.")},
    {50, "invept", N_("INVEPT"), N_("The guest executed INVEPT: nested virtualisation.")},
    {51, "rdtscp", N_("RDTSCP"), N_("The guest executed RDTSCP and the hypervisor intercepts it.")},
    {52, "preemption_timer", N_("VMX-preemption timer expired"),
     N_("The VMX preemption timer counted down to zero: the hypervisor set it to get control back after a time slice, "
        "even if the guest never exits on its own.")},
    {53, "invvpid", N_("INVVPID"), N_("The guest executed INVVPID: nested virtualisation.")},
    {54, "wbinvd", N_("WBINVD or WBNOINVD"),
     N_("The guest executed WBINVD or WBNOINVD (write back and flush caches).")},
    {55, "xsetbv", N_("XSETBV"),
     N_("The guest wrote an extended control register (XCR0) to enable AVX or other state.")},
    {56, "apic_write", N_("APIC write"),
     N_("The guest wrote a virtualised APIC register that needs the hypervisor's attention.")},
    {57, "rdrand", N_("RDRAND"), N_("The guest executed RDRAND and the hypervisor intercepts it.")},
    {58, "invpcid", N_("INVPCID"), N_("The guest executed INVPCID.")},
    {59, "vmfunc", N_("VMFUNC"), N_("The guest invoked a VM function that failed or is not enabled.")},
    {60, "encls", N_("ENCLS"), N_("The guest executed an SGX ENCLS leaf the hypervisor intercepts.")},
    {61, "rdseed", N_("RDSEED"), N_("The guest executed RDSEED and the hypervisor intercepts it.")},
    {62, "pml_full", N_("Page-modification log full"),
     N_("The page-modification log used for dirty-page tracking is full.")},
    {63, "xsaves", N_("XSAVES"), N_("The guest executed XSAVES.")},
    {64, "xrstors", N_("XRSTORS"), N_("The guest executed XRSTORS.")},
    {65, "pconfig", N_("PCONFIG"), N_("The guest executed PCONFIG.")},
    {66, "spp_event", N_("SPP-related event"), N_("A sub-page write-permission event occurred.")},
    {67, "umwait", N_("UMWAIT"), N_("The guest executed UMWAIT.")},
    {68, "tpause", N_("TPAUSE"), N_("The guest executed TPAUSE.")},
    {69, "loadiwkey", N_("LOADIWKEY"), N_("The guest executed LOADIWKEY (Key Locker).")},
    {70, "enclv", N_("ENCLV"), N_("The guest executed an SGX ENCLV leaf.")},
    {72, "enqcmd_pasid_fail", N_("ENQCMD PASID translation failure"), N_("ENQCMD could not translate a PASID.")},
    {73, "enqcmds_pasid_fail", N_("ENQCMDS PASID translation failure"), N_("ENQCMDS could not translate a PASID.")},
    {74, "bus_lock", N_("Bus lock"),
     N_("The guest performed a bus-locking access (a split lock) the hypervisor watches.")},
    {75, "instruction_timeout", N_("Instruction timeout"),
     N_("One guest instruction ran longer than the notify window allows (a guard against guests that hang the CPU).")},
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
