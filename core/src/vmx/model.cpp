// model.cpp — decide(): the VMCS controls read the way the CPU reads them.
//
// One case per kind of guest action, each citing where the SDM (Vol. 3C,
// 2023 edition) says when that action exits:
//   §26.1.1  relative priority of faults and VM exits
//   §26.1.2  instructions that cause VM exits unconditionally
//   §26.1.3  instructions that cause VM exits conditionally
//   §26.2    other causes of VM exits (exceptions, the exception bitmap)
//   §28.2.1  basic VM-exit information: the exit qualification
//   §29.3    EPT violations (with EPT off, the guest's own paging is shadowed)
// and, for what only a hypervisor's software adds (shadow page tables),
// KVM's arch/x86/kvm/mmu/mmu.c.
#include "ringscope/vmx/model.h"

#include <fmt/format.h>

#include <algorithm>

#include "ringscope/acpi_tables.h"
#include "ringscope/exit_reasons.h"

namespace ringscope::vmx {

std::string_view action_name(ActionKind k) {
  static constexpr std::string_view kNames[kActionKindCount] = {
      "port_io",     "mmio",   "hlt",   "cpuid",     "rdmsr",  "wrmsr",           "mov_to_cr",
      "mov_from_cr", "invlpg", "rdtsc", "exception", "vmcall", "page_table_write"};
  auto i = static_cast<size_t>(k);
  return i < kActionKindCount ? kNames[i] : "unknown";
}

uint64_t io_qualification(uint16_t port, uint8_t size, bool in, bool string, bool rep, bool imm) {
  return uint64_t((size ? size - 1 : 0) & 7) | uint64_t(in) << 3 | uint64_t(string) << 4 | uint64_t(rep) << 5 |
         uint64_t(imm) << 6 | uint64_t(port) << 16;
}

uint64_t cr_qualification(uint8_t cr, bool to_cr, uint8_t gpr) {
  return uint64_t(cr & 0xf) | uint64_t(to_cr ? 0 : 1) << 4 | uint64_t(gpr & 0xf) << 8;
}

namespace {

Decision stays(std::string_view why) { return {false, 0, HandledBy::None, 0, why}; }
Decision exits(uint16_t reason, HandledBy by, uint64_t qualification, std::string_view why) {
  return {true, reason, by, qualification, why};
}

// The MSR bitmaps cover two ranges of MSRs (§25.6.9); any other MSR exits
// whatever the bitmaps say (§26.1.3, RDMSR/WRMSR).
bool in_bitmap_range(uint32_t msr) { return msr <= 0x1fff || (msr >= 0xc0000000 && msr <= 0xc0001fff); }

Decision decide_msr(const Profile& p, const GuestAction& a, bool write) {
  uint16_t reason = write ? exit_reason::kWrmsr : exit_reason::kRdmsr;
  if (!p.use_msr_bitmaps) return exits(reason, HandledBy::Kernel, 0, "MSR bitmaps off: every RDMSR/WRMSR exits");
  if (!in_bitmap_range(a.msr)) return exits(reason, HandledBy::Kernel, 0, "MSR outside the bitmaps' ranges");
  const auto& pass = write ? p.msr_write_passthrough : p.msr_read_passthrough;
  if (pass.count(a.msr)) return stays("MSR bitmap bit clear: the guest owns this MSR");
  return exits(reason, HandledBy::Kernel, 0, "MSR bitmap bit set");
}

Decision decide_mov_to_cr(const Profile& p, const GuestAction& a) {
  uint64_t q = cr_qualification(a.cr, true, a.gpr);
  switch (a.cr) {
    case 0:
      // §26.1.3: MOV to CR0 exits unless every bit set in the guest/host
      // mask keeps the value of the read shadow (what the guest last wrote).
      if ((a.value ^ a.old_value) & p.cr0_guest_host_mask)
        return exits(exit_reason::kCrAccess, HandledBy::Kernel, q, "changes a CR0 bit the CR0 guest/host mask owns");
      return stays("changes only CR0 bits the guest owns");
    case 3:
      // With no CR3-target values (KVM uses none), CR3-load exiting makes
      // every MOV to CR3 exit.
      if (p.cr3_load_exiting)
        return exits(exit_reason::kCrAccess, HandledBy::Kernel, q, "CR3-load exiting (shadow paging must follow)");
      return stays("CR3-load exiting off (EPT translates guest-physical addresses itself)");
    case 4:
      if ((a.value ^ a.old_value) & p.cr4_guest_host_mask)
        return exits(exit_reason::kCrAccess, HandledBy::Kernel, q, "changes a CR4 bit the CR4 guest/host mask owns");
      return stays("changes only CR4 bits the guest owns");
    default:
      return exits(exit_reason::kCrAccess, HandledBy::Kernel, q, "CR8 and others: not modelled, assumed to exit");
  }
}

// A store into one of the guest's page tables. Not an instruction VT-x
// intercepts by itself: the exit comes from what the hypervisor does to
// run the guest without EPT.
//
// With EPT off the CPU walks the hypervisor's shadow tables, built from the
// guest's. To keep them right the hypervisor must see every change the
// guest makes to its own tables, so it maps every guest page that holds a
// paging structure it has shadowed read-only in the shadow tables (KVM:
// account_shadowed write-protects the gfn). The guest's store then meets a
// read-only translation: a #PF, error code P|W (|U from ring 3), CR2 the
// linear address. A #PF exits when bit 14 of the exception bitmap is set
// (§26.2; KVM sets it whenever EPT is off), and the exit qualification is
// that linear address (§28.2.1). KVM's shadow MMU handles it in the kernel
// (kvm_mmu_page_fault): it sees the fault is on a write-protected table,
// emulates the store (x86_emulate_instruction), updates the shadow entry to
// match (kvm_mmu_pte_write) and re-enters the guest, which never sees a
// fault. That exit per page-table write is what EPT removed: with EPT the
// guest's tables are ordinary memory, and the CPU walks them itself.
Decision decide_page_table_write(const Profile& p, const GuestAction& a) {
  using exit_reason::kExceptionNmi;
  if (p.ept) return stays("EPT on: the guest's page tables are ordinary guest memory, walked by the CPU itself");
  if (!a.table_levels) return stays("not a page-table page: the shadow tables map it writable");
  if (!((p.exception_bitmap >> 14) & 1))
    return stays("#PF not in the exception bitmap: the write-protection fault would reach the guest's own IDT");
  return exits(kExceptionNmi, HandledBy::Kernel, a.cr2,
               "shadow paging: guest page tables are write-protected; the store faults (#PF) and KVM's shadow MMU "
               "emulates it");
}

}  // namespace

Decision decide(const Profile& p, const GuestAction& a) {
  using namespace exit_reason;
  // §26.1.1: exceptions based on privilege (#GP for HLT, MOV CR, RDMSR/WRMSR,
  // INVLPG at CPL > 0; the TSS I/O permission check) come before the VM
  // exit. Those instructions then fault in the guest and never exit.
  bool privileged = a.kind == ActionKind::Hlt || a.kind == ActionKind::Rdmsr || a.kind == ActionKind::Wrmsr ||
                    a.kind == ActionKind::MovToCr || a.kind == ActionKind::MovFromCr || a.kind == ActionKind::Invlpg;
  if (privileged && a.cpl != 0) return stays("CPL > 0: the #GP for a privileged instruction comes before any VM exit");

  switch (a.kind) {
    case ActionKind::PortIo: {
      uint64_t q = io_qualification(a.port, a.size, !a.write, a.string, a.rep, false);
      HandledBy by = p.kernel_ports.count(a.port) ? HandledBy::Kernel : HandledBy::Vmm;
      switch (p.io) {
        case IoExiting::None: return stays("no I/O exiting: the guest owns the ports");
        case IoExiting::Unconditional: return exits(kIoInstruction, by, q, "unconditional I/O exiting");
        case IoExiting::Bitmap:
          // §26.1.3: a multi-byte access exits if the bit of any port it touches is set.
          for (uint32_t port = a.port; port < uint32_t(a.port) + std::max<uint8_t>(a.size, 1); port++)
            if (port < 65536 && p.io_bitmap.test(port)) return exits(kIoInstruction, by, q, "I/O bitmap bit set");
          return stays("I/O bitmap bit clear: the port is passed through");
      }
      return stays("");
    }
    case ActionKind::Mmio: {
      // The local APIC's page (SDM §29.4): KVM gives the guest a virtual
      // local APIC there ("virtualize APIC accesses"); an access to it is an
      // APIC-access exit (qualification: offset, bit 12 for a write) that
      // KVM's in-kernel local APIC handles. With APICv most would not exit
      // at all: this profile models the plain case.
      if (p.ept && (a.gpa & ~0xfffull) == kLapicBase)
        return exits(kApicAccess, HandledBy::Kernel, (a.gpa & 0xfff) | (a.write ? 1u << 12 : 0),
                     "APIC-access page: KVM's in-kernel local APIC handles it, the VMM never sees it");
      // EPT on: the guest-physical address has no EPT mapping (§29.3.3):
      // an EPT violation, bit 0/1 read/write, bit 7 linear address valid.
      if (p.ept)
        return exits(kEptViolation, HandledBy::Vmm, (a.write ? 0x2 : 0x1) | 0x80 | 0x100,
                     "no EPT mapping behind this guest-physical address");
      // EPT off: the shadow page table marks MMIO pages not-present (KVM:
      // reserved bits), so the access raises a #PF that the exception
      // bitmap intercepts; KVM then emulates it in user space.
      return exits(kExceptionNmi, HandledBy::Vmm, a.gpa, "shadow paging: MMIO pages fault, #PF intercepted");
    }
    case ActionKind::Hlt:
      if (!p.hlt_exiting) return stays("HLT exiting off: the physical CPU halts");
      return exits(kHlt, p.hlt_to_vmm ? HandledBy::Vmm : HandledBy::Kernel, 0, "HLT exiting");
    case ActionKind::Cpuid: return exits(kCpuid, HandledBy::Kernel, 0, "CPUID always exits (§26.1.2)");
    case ActionKind::Vmcall:
      // §26.1.2 as well, at any CPL (KVM then refuses CPL > 0 with
      // -KVM_EPERM). KVM answers its own KVM_HC_* numbers in the kernel.
      return exits(kVmcall, HandledBy::Kernel, 0, "VMCALL always exits (§26.1.2); KVM answers it in the kernel");
    case ActionKind::Rdmsr: return decide_msr(p, a, false);
    case ActionKind::Wrmsr: return decide_msr(p, a, true);
    case ActionKind::MovToCr: return decide_mov_to_cr(p, a);
    case ActionKind::MovFromCr:
      // Reads of CR0 and CR4 return the read shadow for owned bits: no exit.
      if (a.cr == 3 && p.cr3_store_exiting)
        return exits(kCrAccess, HandledBy::Kernel, cr_qualification(3, false, a.gpr), "CR3-store exiting");
      return stays("reads of CR0/CR4 see the read shadows; CR3-store exiting off");
    case ActionKind::Invlpg:
      if (p.invlpg_exiting) return exits(kInvlpg, HandledBy::Kernel, a.value, "INVLPG exiting (shadow TLB)");
      return stays("INVLPG exiting off");
    case ActionKind::Rdtsc:
      if (p.rdtsc_exiting) return exits(kRdtsc, HandledBy::Kernel, 0, "RDTSC exiting");
      return stays("RDTSC runs natively (TSC offsetting)");
    case ActionKind::Exception:
      // §26.2: an exception whose bit is set in the exception bitmap exits
      // instead of being delivered through the guest's IDT. For #PF the
      // exit qualification is the faulting linear address (CR2).
      if (a.vector < 32 && (p.exception_bitmap >> a.vector) & 1)
        return exits(kExceptionNmi, HandledBy::Kernel, a.vector == 14 ? a.cr2 : 0, "exception bitmap bit set");
      return stays("exception bitmap bit clear: delivered straight to the guest's IDT");
    case ActionKind::PageTableWrite: return decide_page_table_write(p, a);
  }
  return stays("");
}

VmxModel::VmxModel(Profile profile, EventSink& sink, uint32_t vcpu)
    : profile_(std::move(profile)), sink_(sink), vcpu_(vcpu) {
  marker_ = "vmx-profile " + profile_.name;
}

void VmxModel::begin(uint64_t time_ns) {
  Event m = events::marker({time_ns, vcpu_, Source::VmxModel}, MarkerPhase::Point, marker_);
  sink_.emit(m);
}

bool VmxModel::continues_batch(const GuestAction& a) const {
  return holding_ && a.kind == ActionKind::PortIo && a.string && !a.write && a.rip == held_.rip &&
         a.port == held_.port && a.size == held_.size && held_.count < batch_limit_;
}

void VmxModel::flush() {
  if (!holding_) return;
  holding_ = false;
  sink_.emit(held_);
}

bool VmxModel::track_page_tables(const GuestMemory& memory) {
  if (profile_.ept) return false;  // nothing is write-protected: no need to know
  memory_ = &memory;
  tables_.clear();
  return true;
}

void VmxModel::load_cr3(uint64_t cr3) {
  if (memory_) tables_.reload(*memory_, cr3);
}

Decision VmxModel::observe(const GuestAction& in, uint64_t time_ns) {
  actions_++;
  if (continues_batch(in)) {
    held_.count++;
    return {true, held_.reason, held_.handled_by, held_.number, "the rest of a REP INS batch KVM reads ahead"};
  }
  flush();
  GuestAction a = in;
  if (a.kind == ActionKind::PageTableWrite && memory_) a.table_levels = tables_.levels(a.gpa);
  Decision d = decide(profile_, a);
  // The set follows the guest: a new CR3 is a new tree of tables (the shadow
  // MMU switches roots), and a store into a table may link in another.
  // (A MOV to CR3 at CPL > 0 faults instead: decide() says it stays.)
  if (memory_ && a.kind == ActionKind::MovToCr && a.cr == 3 && a.cpl == 0) tables_.reload(*memory_, a.value);
  if (memory_ && a.kind == ActionKind::PageTableWrite) tables_.note_write(*memory_, a.gpa, a.size, a.value);
  if (!d.exits) return d;
  exits_++;
  if (d.handled_by == HandledBy::Vmm) vmm_exits_++;
  Event e = events::vm_exit({time_ns, vcpu_, Source::VmxModel}, d.reason, d.handled_by, a.rip, a.cpl);
  // `number` carries the exit qualification, except where the access tag
  // says it is the MSR (Msr) or the hypercall number (Vmcall).
  e.number = d.qualification;
  switch (a.kind) {
    case ActionKind::PortIo:
      events::port_access(e, a.port, a.size, a.write ? Direction::Out : Direction::In, a.value);
      if (a.string && !a.write && a.size) {
        // KVM's read-ahead: min(bytes left in the destination page, 1 KiB
        // of elements, RCX), as pio_in_emulated computes it.
        uint64_t in_page = 4096 - (a.string_addr & 0xfff);
        uint64_t n = std::min<uint64_t>(in_page, 1024 / a.size);
        if (a.rep)
          n = std::min<uint64_t>(n, std::max<uint64_t>(a.rep_count, 1));
        else
          n = 1;
        if (n > 1) {
          holding_ = true;
          held_ = e;
          batch_limit_ = n;
          return d;
        }
      }
      break;
    case ActionKind::Mmio:
      events::mmio_access(e, a.gpa, a.size, a.write ? Direction::Write : Direction::Read, a.value);
      break;
    case ActionKind::Rdmsr:
    case ActionKind::Wrmsr:
      // RDMSR/WRMSR have no qualification; ECX names the MSR.
      events::msr_access(e, a.msr, a.kind == ActionKind::Wrmsr ? Direction::Write : Direction::Read, a.value);
      break;
    case ActionKind::MovToCr:
    case ActionKind::MovFromCr:
      events::cr_access(e,
                        a.cr == 0   ? "cr0"
                        : a.cr == 3 ? "cr3"
                        : a.cr == 4 ? "cr4"
                                    : "cr",
                        a.kind == ActionKind::MovToCr ? Direction::Write : Direction::Read, a.value);
      break;
    case ActionKind::Exception: events::exception_exit(e, a.vector, a.has_error_code, a.error_code, a.cr2); break;
    case ActionKind::PageTableWrite:
      // The #PF the store raised, as an exception exit records it (P, a
      // protection fault | W; U from ring 3: SDM Vol. 3A §4.7), and the store
      // itself: which kind of entry ("pte", "pde", "pdpte", "pml4e"), where,
      // what it wrote.
      events::page_table_store(e, table_entry_name(a.table_levels), a.gpa, a.size, a.value,
                               0x3 | (a.cpl == 3 ? 0x4 : 0), a.cr2);
      break;
    case ActionKind::Cpuid: events::cpuid_exit(e, a.leaf); break;
    case ActionKind::Invlpg: e.value = a.value; break;
    case ActionKind::Vmcall: events::vmcall_exit(e, a.value); break;  // the hypercall number (RAX)
    default: break;
  }
  sink_.emit(e);
  return d;
}

void VmxModel::finish(uint64_t time_ns) {
  flush();
  emit_counter(sink_, time_ns, vcpu_, Source::VmxModel, "vmx_model_exits", exits_);
  emit_counter(sink_, time_ns, vcpu_, Source::VmxModel, "vmx_model_vmm_exits", vmm_exits_);
}

}  // namespace ringscope::vmx
