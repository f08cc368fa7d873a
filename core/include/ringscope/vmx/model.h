// vmx/model.h — would VT-x have exited here? (docs/vmx-model.md)
//
// The emulation backend runs every instruction itself, so nothing ever
// leaves VMX non-root mode. This model says what *would* have: the backend
// reports each guest action that VT-x can intercept (port I/O, MMIO, HLT,
// CPUID, RDMSR/WRMSR, MOV to/from CR0/CR3/CR4, INVLPG, exceptions, and with
// EPT off, stores into the guest's own page tables), and
// decide() reads the Profile's controls the way the CPU reads the VMCS.
// VmxModel turns each decision that exits into a `vm_exit` event with
// source `vmx-model`, the same basic exit reason and qualification fields
// as the KVM backend's real exits, and `handled_by` kernel or vmm the way
// KVM splits them.
//
// No Unicorn and no KVM in here: tests feed it made-up actions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/vmx/page_tables.h"
#include "ringscope/vmx/profile.h"

namespace ringscope::vmx {

enum class ActionKind : uint8_t {
  PortIo,  // IN/OUT/INS/OUTS (one element)
  Mmio,    // a load or store to a guest-physical address with no RAM behind it
  Hlt,
  Cpuid,
  Rdmsr,
  Wrmsr,
  MovToCr,  // CR0, CR3, CR4
  MovFromCr,
  Invlpg,
  Rdtsc,
  Exception,  // a fault or trap the CPU is about to deliver through the guest's IDT
  Vmcall,     // VMCALL (VMMCALL on AMD): a hypercall straight to the hypervisor
  // A store into a page that holds one of the guest's paging structures (page_tables.h).
  PageTableWrite,
};
inline constexpr int kActionKindCount = 13;
std::string_view action_name(ActionKind k);  // "port_io", "hlt", ...

struct GuestAction {
  ActionKind kind = ActionKind::PortIo;
  uint64_t rip = 0;
  uint8_t cpl = 0;
  // PortIo / Mmio / PageTableWrite
  uint16_t port = 0;
  uint64_t gpa = 0;
  uint8_t size = 0;
  bool write = false;                // OUT, or an MMIO store
  uint64_t value = 0;                // data (I/O, MMIO, WRMSR, MOV to CR: the new value)
  bool string = false, rep = false;  // INS/OUTS, with a REP prefix
  uint64_t string_addr = 0;          // INS: RDI, where this element goes
  uint64_t rep_count = 0;            // REP: RCX, elements left including this one
  // Rdmsr / Wrmsr
  uint32_t msr = 0;
  // MovToCr / MovFromCr
  uint8_t cr = 0;          // 0, 3, 4
  uint8_t gpr = 0;         // the general register operand (0 RAX ... 15 R15)
  uint64_t old_value = 0;  // MovToCr: the register's value before (what the read shadow holds)
  // Cpuid
  uint32_t leaf = 0;
  // Exception
  uint8_t vector = 0;
  bool has_error_code = false;
  uint32_t error_code = 0;
  uint64_t cr2 = 0;  // #PF; PageTableWrite: the linear address stored to (the CR2 its #PF would set)
  // PageTableWrite: the paging-structure levels the written page holds
  // (TableLevel bits; 0: an ordinary page). VmxModel::observe fills it in
  // from its PageTableSet.
  uint8_t table_levels = 0;
};

struct Decision {
  bool exits = false;
  uint16_t reason = 0;  // VT-x basic exit reason (exit_reasons.h)
  HandledBy handled_by = HandledBy::None;
  uint64_t qualification = 0;  // the exit qualification as the CPU would write it (§28.2.1)
  std::string_view why;        // which control decided, for people
};

// The architecture: does this action exit under these controls, and how?
Decision decide(const Profile& p, const GuestAction& a);

// Exit qualifications (SDM Vol. 3C §28.2.1).
// I/O instructions (Table 28-5): size-1 in bits 2:0, direction (1 = IN) in
// bit 3, string in 4, REP in 5, immediate operand in 6, port in 31:16.
uint64_t io_qualification(uint16_t port, uint8_t size, bool in, bool string, bool rep, bool imm);
// Control-register accesses (Table 28-3): CR number in 3:0, access type in
// 5:4 (0 MOV to CR, 1 MOV from CR), general register in 11:8.
uint64_t cr_qualification(uint8_t cr, bool to_cr, uint8_t gpr);

// Applies a Profile to a run: observe() every action, and each one that
// exits is emitted to the sink as a vm_exit (source vmx-model).
//
// One thing is KVM's, not the CPU's: VT-x exits once for a REP INS, and
// KVM's instruction emulator then reads ahead up to 1 KiB of elements
// (no further than the destination page) per trip to user space
// (arch/x86/kvm/emulate.c, pio_in_emulated), so a `rep insl` of one 512-byte
// sector is one user-space exit with count 128. The model batches the
// elements of a REP INS the same way: the exit is held until its batch is
// complete (holding()), then emitted with its count. REP OUTS gets no such
// read-ahead: one exit per element.
class VmxModel {
 public:
  VmxModel(Profile profile, EventSink& sink, uint32_t vcpu = 0);
  const Profile& profile() const { return profile_; }
  // A point marker "vmx-profile <name>" (source vmx-model), so the trace
  // says which controls its modelled exits assumed. Call once, first.
  void begin(uint64_t time_ns);
  // Decides, emits if it exits, and returns the decision.
  Decision observe(const GuestAction& a, uint64_t time_ns);
  // Counters emitted at the end: modelled exits, and of those, handled by the VMM.
  void finish(uint64_t time_ns);

  // Shadow paging (page_tables.h). With EPT off the hypervisor
  // write-protects the guest's page tables, so the model must know which
  // pages those are: track_page_tables() starts tracking them in `memory`
  // (only when the profile has EPT off; returns whether it does), and from
  // then on every MOV to CR3 observe()d rebuilds the set, as does
  // load_cr3(). The emulator reports a store as a PageTableWrite when
  // page_tables().contains() its guest-physical address; observe() decides
  // it and then lets the set follow the store (a newly linked table).
  bool track_page_tables(const GuestMemory& memory);
  bool tracks_page_tables() const { return memory_ != nullptr; }
  void load_cr3(uint64_t cr3);
  const PageTableSet& page_tables() const { return tables_; }

  // A REP INS batch is open, its exit not yet emitted.
  bool holding() const { return holding_; }
  // Whether `a` would join the open batch (false when none is open).
  bool continues_batch(const GuestAction& a) const;
  // Emits the open batch's exit, if any.
  void flush();

  uint64_t exits() const { return exits_; }
  uint64_t vmm_exits() const { return vmm_exits_; }
  uint64_t actions() const { return actions_; }

 private:
  Profile profile_;
  EventSink& sink_;
  uint32_t vcpu_;
  uint64_t exits_ = 0, vmm_exits_ = 0, actions_ = 0;
  std::string marker_;
  bool holding_ = false;
  Event held_;
  uint64_t batch_limit_ = 0;
  const GuestMemory* memory_ = nullptr;  // set while page tables are tracked
  PageTableSet tables_;
};

}  // namespace ringscope::vmx
