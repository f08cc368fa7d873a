// event_filter.h — which events to look at: one filter for `ringscope show`,
// the viewer's event list and the lab checker, with one meaning of every key.
//
// Every key that is set must match (AND); `kinds` is a set (OR). A key
// matches only the events that carry it, so a key never matches an event
// by a field's default value (a `reason` of 0 is not a trap's):
//
//   key        carried by
//   kinds      every event
//   source     every event
//   vcpu       every event
//   reason     vm_exit (the VT-x basic exit reason)
//   handled_by vm_exit: vmm (the VMM's vCPU thread) or kernel (KVM alone;
//              with source device-thread, a doorbell KVM passed on to the
//              device thread through an ioeventfd)
//   port       vm_exit with reason 30 (I/O instruction), a device event of
//              "unclaimed" for a port nobody claims,
//              and a bt_callout of a port (in, out, ins, outs)
//   vector     trap (not trap_return), vm_exit with reason 0 (exception/NMI),
//              irq_inject (not through an irqfd, which leaves it to KVM),
//              world_switch caused by an exception, interrupt or int n, and
//              a bt_callout of int n
//   from_cpl, to_cpl   trap and trap_return
//   cause      trap, trap_return and world_switch
//   cpl        the guest's CPL at the event, where its schema row keeps it
//              (CplAt): vm_exit, step, hypercall and bt_callout at their
//              `cpl`; trap, trap_return and world_switch at either end, the
//              ring left or the ring entered (a 3 -> 0 trap was at CPL 3 and
//              at 0)
//   instruction  bt_callout of that instruction, bt_translate of a block
//              that holds it
//   from_world, to_world   world_switch
//   via        irq_inject: how it was delivered (KVM_INTERRUPT, irqfd, ipi)
//   direction  the events with a direction: vm_exit (I/O, MMIO, MSR, CR), device, bt_callout
//   device, register, name   the events whose string it is: device (device,
//              register), vm_exit (register: cr0, pte, ...), counter and
//              marker (name), irq_inject (device)
//   value      vm_exit, device, counter, marker, run_end, irq_inject, and a
//              bt_callout that has one (an access, or its instruction's value)
//
// The names are the JSON form's keys (docs/trace-format.md), so what a
// script sees in `show --json` is what a filter selects. Range checks on
// user input (a port above 0xffff, a CPL above 3) belong to the parser of
// each front end; this type only holds values an event can have.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "ringscope/event.h"
#include "ringscope/event_schema.h"

namespace ringscope {

struct EventFilter {
  std::array<bool, kMaxEventKinds> kinds{};  // none set: every kind (sized for kinds registered at run time too)
  std::optional<Source> source;
  std::optional<uint32_t> vcpu;
  std::optional<uint16_t> reason, port;
  std::optional<HandledBy> handled_by;
  std::optional<uint8_t> vector;
  std::optional<uint8_t> cpl, from_cpl, to_cpl;
  std::optional<TrapCause> cause;
  std::optional<Direction> direction;
  std::optional<std::string> device, reg, name;
  std::optional<uint64_t> value;
  std::optional<BtInsn> insn;  // the key `instruction`
  std::optional<BtWorld> from_world, to_world;
  std::optional<IrqVia> via;

  bool operator==(const EventFilter&) const = default;

  void add_kind(EventKind k) { kinds[static_cast<size_t>(k)] = true; }
  bool any_kind() const;             // no kind chosen: every kind passes
  bool has_kind(EventKind k) const;  // k passes the kind test
  bool matches(const Event& e) const;

  // The few keys a caller can test without the whole event: the viewer
  // keeps only these per event (24-byte records) and filters millions of
  // them per frame. matches() tests them the same way, through this.
  struct Keys {
    EventKind kind;
    uint32_t vcpu;
    uint16_t reason;  // a vm_exit's
    uint8_t cpl;      // the event's `cpl` (CplAt::Cpl); a trap's or return's from_cpl (CplAt::FromTo)
    uint8_t to_cpl;   // a trap's or return's
  };
  bool matches_keys(const Keys& k) const;
  bool only_keys() const;  // no key is set but kind, vcpu, reason and cpl: matches_keys() is the whole test
};

// The names an EventFilter's enum keys take, from the vocabulary
// (event.h): nullopt for a name that is none of them.
std::optional<Direction> direction_from_name(std::string_view name);   // in, out, read, write
std::optional<TrapCause> cause_from_name(std::string_view name);       // exception, interrupt, int, ..., hlt
std::optional<BtWorld> world_from_name(std::string_view name);         // direct, translated, monitor
std::optional<HandledBy> handled_by_from_name(std::string_view name);  // kernel, vmm

}  // namespace ringscope
