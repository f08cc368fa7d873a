// events.h — one constructor per event kind (and per vm_exit access kind;
// a bt_callout takes the same access calls for what the monitor did).
//
// Producers build their Events here instead of setting fields by hand, so
// each kind's fields are filled the one way its row of the schema table
// (event_schema.h) describes, and a vm_exit's access tag is set by the same
// call that fills its qualification. Each returns the Event; the caller
// emits it (EventSink::emit) once anything backend-specific is added.
//
//   Event e = events::vm_exit({t, vcpu, Source::KvmExit}, reason, HandledBy::Vmm, rip, cpl);
//   events::port_access(e, 0x3f8, 1, Direction::Out, 'h');
//   sink.emit(e);
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ringscope/event.h"

namespace ringscope::events {

// When, on which vCPU and how an event was observed: every kind has these.
struct At {
  uint64_t time_ns = 0;
  uint32_t vcpu = 0;
  Source source = Source::Vmm;
};

inline Event make(EventKind kind, At at) {
  Event e;
  e.time_ns = at.time_ns;
  e.vcpu = at.vcpu;
  e.kind = kind;
  e.source = at.source;
  return e;
}

// ---- vm_exit and its qualification (one call per AccessKind) ----------------

inline Event vm_exit(At at, uint16_t reason, HandledBy handled_by, uint64_t rip = 0, uint8_t cpl = 0) {
  Event e = make(EventKind::VmExit, at);
  e.reason = reason;
  e.handled_by = handled_by;
  e.rip = rip;
  e.cpl = cpl;
  return e;
}
inline void port_access(Event& exit, uint16_t port, uint8_t size, Direction dir, uint64_t value, uint32_t count = 1) {
  exit.access = AccessKind::Port;
  exit.port = port;
  exit.size = size;
  exit.direction = dir;
  exit.value = value;
  exit.count = count;
}
inline void mmio_access(Event& exit, uint64_t gpa, uint8_t size, Direction dir, uint64_t value) {
  exit.access = AccessKind::Mmio;
  exit.gpa = gpa;
  exit.length = size;
  exit.size = size;
  exit.direction = dir;
  exit.value = value;
}
inline void msr_access(Event& exit, uint32_t msr, Direction dir, uint64_t value) {
  exit.access = AccessKind::Msr;
  exit.number = msr;
  exit.direction = dir;
  exit.value = value;
  exit.reg = "msr";
}
inline void cr_access(Event& exit, std::string_view cr, Direction dir, uint64_t value) {
  exit.access = AccessKind::Cr;
  exit.reg = cr;  // "cr0", "cr3", "cr4"
  exit.direction = dir;
  exit.value = value;
}
inline void exception_exit(Event& exit, uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t cr2) {
  exit.access = AccessKind::Exception;
  exit.vector = vector;
  exit.has_error_code = has_error_code;
  exit.error_code = error_code;
  exit.cr2 = cr2;
}
// No-EPT shadow paging: the guest stored `value` (`size` bytes) into its page
// table `entry` ("pte", "pde", ...) at `gpa`, which raised the #PF with
// `error_code` at `cr2`.
inline void page_table_store(Event& exit, std::string_view entry, uint64_t gpa, uint8_t size, uint64_t value,
                             uint32_t error_code, uint64_t cr2) {
  exception_exit(exit, 14, true, error_code, cr2);
  exit.access = AccessKind::PageTableStore;
  exit.reg = entry;
  exit.gpa = gpa;
  exit.size = size;
  exit.value = value;
  exit.direction = Direction::Write;
}
inline void vmcall_exit(Event& exit, uint64_t number) {
  exit.access = AccessKind::Vmcall;
  exit.number = number;
}
inline void cpuid_exit(Event& exit, uint64_t leaf) {
  exit.access = AccessKind::Cpuid;
  exit.value = leaf;
}

// ---- the other kinds ----------------------------------------------------------

// A trap into the guest kernel: `rip` where it was, `rip_to` the handler.
inline Event trap(At at, TrapCause cause, uint8_t vector, uint8_t from_cpl, uint8_t to_cpl, uint64_t rip,
                  uint64_t rip_to) {
  Event e = make(EventKind::Trap, at);
  e.cause = cause;
  e.vector = vector;
  e.from_cpl = from_cpl;
  e.to_cpl = to_cpl;
  e.rip = rip;
  e.rip_to = rip_to;
  return e;
}
inline void error_code(Event& trap, uint32_t code) {
  trap.error_code = code;
  trap.has_error_code = true;
}

inline Event trap_return(At at, TrapCause cause, uint8_t from_cpl, uint8_t to_cpl, uint64_t rip, uint64_t rip_to) {
  Event e = make(EventKind::TrapReturn, at);
  e.cause = cause;
  e.from_cpl = from_cpl;
  e.to_cpl = to_cpl;
  e.rip = rip;
  e.rip_to = rip_to;
  return e;
}

inline Event hypercall(At at, Transport transport, uint64_t number, const std::array<uint64_t, 4>& args,
                       uint64_t result, uint64_t rip, uint8_t cpl, uint64_t duration_ns = 0) {
  Event e = make(EventKind::Hypercall, at);
  e.transport = transport;
  e.number = number;
  e.args = args;
  e.result = result;
  e.rip = rip;
  e.cpl = cpl;
  e.duration_ns = duration_ns;
  return e;
}

inline Event device(At at, std::string_view device, std::string_view reg, Direction dir, uint64_t value, uint8_t size,
                    uint32_t count = 0) {
  Event e = make(EventKind::Device, at);
  e.device = device;
  e.reg = reg;
  e.direction = dir;
  e.value = value;
  e.size = size;
  e.count = count;
  return e;
}

// The VMM's PIC model chose `vector` and the VMM injected it (KVM_INTERRUPT).
inline Event irq_inject(At at, uint8_t vector) {
  Event e = make(EventKind::IrqInject, at);
  e.vector = vector;
  e.via = IrqVia::KvmInterrupt;
  return e;
}
// The VMM raised IRQ line `irq` for `device` at KVM's in-kernel irqchip.
inline Event irq_via_irqfd(At at, std::string_view device, uint32_t irq) {
  Event e = make(EventKind::IrqInject, at);
  e.via = IrqVia::Irqfd;
  e.value = irq;
  e.device = device;
  return e;
}

// An IPI from vCPU `from` reached this vCPU (`at.vcpu`): `delivery` is
// "fixed", "INIT" or "STARTUP"; `latency_ns` the time since the ICR write.
inline Event ipi_inject(At at, uint8_t vector, uint32_t from, std::string_view delivery, uint64_t latency_ns) {
  Event e = make(EventKind::IrqInject, at);
  e.vector = vector;
  e.via = IrqVia::Ipi;
  e.value = from;
  e.device = "lapic";
  e.reg = delivery;
  e.duration_ns = latency_ns;
  return e;
}

struct ControlRegs {
  uint64_t cr0 = 0, cr4 = 0, efer = 0;
};
inline Event mode_change(At at, uint64_t rip, ControlRegs before, ControlRegs after) {
  Event e = make(EventKind::ModeChange, at);
  e.rip = rip;
  e.prev_cr0 = before.cr0, e.prev_cr4 = before.cr4, e.prev_efer = before.efer;
  e.cr0 = after.cr0, e.cr4 = after.cr4, e.efer = after.efer;
  return e;
}

inline Event step(At at, uint64_t rip, uint8_t cpl, std::string_view bytes) {
  Event e = make(EventKind::Step, at);
  e.rip = rip;
  e.cpl = cpl;
  e.text = bytes;
  return e;
}

inline Event counter(At at, std::string_view name, uint64_t value) {
  Event e = make(EventKind::Counter, at);
  e.name = name;
  e.value = value;
  return e;
}

// Records a `counter` event: a named value at a time (KVM's stats, the
// emulator's instruction count, the host's view of the vCPU thread, ...).
inline void emit_counter(EventSink& sink, uint64_t time_ns, uint32_t vcpu, Source source, std::string_view name,
                         uint64_t value) {
  Event c = counter({time_ns, vcpu, source}, name, value);
  sink.emit(c);
}

inline Event output(At at, std::string_view device, std::string_view text) {
  Event e = make(EventKind::Output, at);
  e.device = device;
  e.text = text;
  return e;
}

inline Event marker(At at, MarkerPhase phase, std::string_view label, uint64_t value = 0) {
  Event e = make(EventKind::Marker, at);
  e.phase = phase;
  e.name = label;
  e.value = value;
  return e;
}

// `regs` (may be null) must outlive the emit() call.
inline Event run_end(At at, RunEndReason reason, uint64_t guest_status, std::string_view message,
                     const GuestRegs* regs) {
  Event e = make(EventKind::RunEnd, at);
  e.end_reason = reason;
  e.value = guest_status;
  e.text = message;
  e.regs = regs;
  if (regs) {
    e.rip = regs->rip;
    e.cpl = regs->cpl;
  }
  return e;
}

// ---- bt mode (binary translation, docs/design.md "Modes") ----------------------

// The guest moved from world `from` to world `to` (direct execution of user
// code, the translator running kernel code) because of `cause`: a system
// call, an exception or interrupt (`vector`), int n, iretq or sysretq, hlt.
// `rip` is where the guest was, `rip_to` where it goes on, `cpl` its CPL
// before the switch (from_cpl); the CPL after it (to_cpl) is the world's:
// direct execution runs ring 3, the translator ring 0. `duration_ns` is the
// monitor's time for the switch. The first switch of a run comes from
// BtWorld::None.
inline Event world_switch(At at, BtWorld from, BtWorld to, TrapCause cause, uint8_t vector, uint64_t rip,
                          uint64_t rip_to, uint8_t cpl, uint64_t duration_ns = 0) {
  Event e = make(EventKind::WorldSwitch, at);
  e.from_world = from;
  e.to_world = to;
  e.cause = cause;
  e.vector = vector;
  e.rip = rip;
  e.rip_to = rip_to;
  e.from_cpl = cpl;
  e.to_cpl = to == BtWorld::Direct ? 3 : 0;
  e.duration_ns = duration_ns;
  return e;
}

// The translator translated the guest kernel block at `rip`: `length` bytes,
// `instructions` instructions, of which `sensitive_count` are sensitive or
// privileged; `sensitive` has bit n set (bt_insn_bit, bt_insns.h) when the
// block holds BtInsn n. `duration_ns`: the time the translation took.
inline Event bt_translate(At at, uint64_t rip, uint32_t length, uint32_t instructions, uint64_t sensitive,
                          uint32_t sensitive_count, uint64_t duration_ns = 0) {
  Event e = make(EventKind::BtTranslate, at);
  e.rip = rip;
  e.length = length;
  e.count = instructions;
  e.value = sensitive;
  e.number = sensitive_count;
  e.duration_ns = duration_ns;
  return e;
}

// Translated code at `rip` (CPL `cpl`) called the monitor to emulate `insn`.
// What it did goes with it: port_access (in, out, ins, outs), cr_access
// (mov_cr, lmsw, clts), msr_access (rdmsr, wrmsr), cpuid_exit (cpuid),
// callout_page_table_store (pt_store), the callout's `vector` (int), or
// `value` for the rest, whose meaning the instruction's row says
// (bt_insns.h: the flags pushf showed, the base lgdt loaded, ...).
// `duration_ns`: the monitor's time for it, from entering the callout to
// returning to translated code.
inline Event bt_callout(At at, BtInsn insn, uint64_t rip, uint8_t cpl, uint64_t duration_ns = 0) {
  Event e = make(EventKind::BtCallout, at);
  e.insn = insn;
  e.rip = rip;
  e.cpl = cpl;
  e.duration_ns = duration_ns;
  return e;
}
inline void callout_value(Event& callout, uint64_t value) { callout.value = value; }
inline void callout_vector(Event& callout, uint8_t vector) { callout.vector = vector; }
// A pt_store callout: translated code stored `value` (`size` bytes) into the
// guest's page-table `entry` ("pte", "pde", ...) at `gpa`.
inline void callout_page_table_store(Event& callout, std::string_view entry, uint64_t gpa, uint8_t size,
                                     uint64_t value) {
  callout.access = AccessKind::PageTableStore;
  callout.reg = entry;
  callout.gpa = gpa;
  callout.size = size;
  callout.value = value;
  callout.direction = Direction::Write;
}

}  // namespace ringscope::events

namespace ringscope {
using events::emit_counter;
}  // namespace ringscope
