// test_event_filter.cpp — the one event filter (ringscope/event_filter.h)
// and the Mode type: one meaning of every key, for `show`, the viewer's list
// and the lab checker alike.
#include <gtest/gtest.h>

#include "ringscope/event_filter.h"
#include "ringscope/mode.h"

namespace ringscope {
namespace {

Event exit_io(uint16_t port, uint8_t cpl) {
  Event e;
  e.kind = EventKind::VmExit;
  e.source = Source::KvmExit;
  e.reason = 30;
  e.port = port;
  e.direction = Direction::Out;
  e.cpl = cpl;
  return e;
}
Event trap(uint8_t vector, uint8_t from, uint8_t to) {
  Event e;
  e.kind = EventKind::Trap;
  e.cause = TrapCause::SoftInt;
  e.vector = vector;
  e.from_cpl = from;
  e.to_cpl = to;
  return e;
}
Event with_kind(EventKind k) {
  Event e;
  e.kind = k;
  return e;
}

TEST(EventFilter, AnEmptyFilterMatchesEverything) {
  EventFilter f;
  EXPECT_TRUE(f.any_kind());
  EXPECT_TRUE(f.only_keys());
  for (int k = 0; k < kEventKindCount; ++k) EXPECT_TRUE(f.matches(with_kind(static_cast<EventKind>(k))));
}

TEST(EventFilter, ReasonMatchesVmExitsOnly) {
  EventFilter f;
  f.reason = 0;  // every other kind leaves its reason field at 0
  Event exception = exit_io(0, 0);
  exception.reason = 0;
  EXPECT_TRUE(f.matches(exception));
  for (EventKind k : {EventKind::Trap, EventKind::Marker, EventKind::Device, EventKind::Counter, EventKind::RunEnd})
    EXPECT_FALSE(f.matches(with_kind(k))) << kind_name(k);
}

TEST(EventFilter, CplIsTheGuestsCplAtTheEventAndATrapIsAtBothEnds) {
  EventFilter f;
  f.cpl = 3;
  EXPECT_TRUE(f.matches(trap(64, 3, 0)));
  EXPECT_TRUE(f.matches(trap(64, 0, 3)));
  EXPECT_FALSE(f.matches(trap(32, 0, 0)));
  EXPECT_TRUE(f.matches(exit_io(0x3f8, 3)));
  EXPECT_FALSE(f.matches(exit_io(0x3f8, 0)));
  Event step = with_kind(EventKind::Step);
  step.cpl = 3;
  EXPECT_TRUE(f.matches(step));
  Event hc = with_kind(EventKind::Hypercall);
  hc.cpl = 3;
  EXPECT_TRUE(f.matches(hc));
  f.cpl = 0;  // kinds without a guest CPL never match, whatever their fields say
  EXPECT_FALSE(f.matches(with_kind(EventKind::Marker)));
  EXPECT_FALSE(f.matches(with_kind(EventKind::Device)));
  // from_cpl / to_cpl: one end, traps and returns only.
  EventFilter from3;
  from3.from_cpl = 3;
  EXPECT_TRUE(from3.matches(trap(64, 3, 0)));
  EXPECT_FALSE(from3.matches(trap(64, 0, 3)));
  EventFilter to0;
  to0.to_cpl = 0;
  EXPECT_FALSE(to0.matches(exit_io(0x3f8, 0)));
}

TEST(EventFilter, PortVectorAndValueOnlyOnTheKindsThatCarryThem) {
  EventFilter port;
  port.port = 0x3f8;
  EXPECT_TRUE(port.matches(exit_io(0x3f8, 0)));
  EXPECT_FALSE(port.matches(exit_io(0x3f9, 0)));
  Event hlt = exit_io(0x3f8, 0);
  hlt.reason = 12;  // not an I/O exit: its port field means nothing
  EXPECT_FALSE(port.matches(hlt));
  Event unclaimed = with_kind(EventKind::Device);
  unclaimed.device = "unclaimed";
  unclaimed.reg = "port";
  unclaimed.port = 0x3f8;
  EXPECT_TRUE(port.matches(unclaimed));
  port.port = 0;
  EXPECT_FALSE(port.matches(trap(64, 3, 0)));

  EventFilter vector;
  vector.vector = 14;
  EXPECT_TRUE(vector.matches(trap(14, 3, 0)));
  Event ret = trap(14, 0, 3);
  ret.kind = EventKind::TrapReturn;  // a return has no vector
  EXPECT_FALSE(vector.matches(ret));

  EventFilter value;
  value.value = 0;
  EXPECT_FALSE(value.matches(trap(64, 3, 0)));
  EXPECT_TRUE(value.matches(with_kind(EventKind::Counter)));
}

TEST(EventFilter, KeysAreAndKindsAreOr) {
  EventFilter f;
  f.add_kind(EventKind::Trap);
  f.add_kind(EventKind::VmExit);
  EXPECT_TRUE(f.matches(trap(64, 3, 0)));
  EXPECT_TRUE(f.matches(exit_io(0x3f8, 0)));
  EXPECT_FALSE(f.matches(with_kind(EventKind::Marker)));
  f.direction = Direction::Out;
  EXPECT_FALSE(f.matches(trap(64, 3, 0)));
  EXPECT_TRUE(f.matches(exit_io(0x3f8, 0)));
  EXPECT_FALSE(f.only_keys());
}

// The viewer tests the keys its compact records hold; the answer is the same
// as matches() on the whole event.
TEST(EventFilter, KeysAloneGiveTheSameAnswer) {
  const Event events[] = {trap(64, 3, 0), trap(64, 0, 3), exit_io(0x3f8, 3), exit_io(0x3f8, 0),
                          with_kind(EventKind::Marker)};
  for (int cpl = -1; cpl <= 3; ++cpl)
    for (int reason : {-1, 0, 30}) {
      EventFilter f;
      if (cpl >= 0) f.cpl = static_cast<uint8_t>(cpl);
      if (reason >= 0) f.reason = static_cast<uint16_t>(reason);
      ASSERT_TRUE(f.only_keys());
      for (const Event& e : events) {
        const bool trapish = e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn;
        EXPECT_EQ(f.matches_keys({e.kind, e.vcpu, e.reason, trapish ? e.from_cpl : e.cpl, e.to_cpl}), f.matches(e));
      }
    }
}

// `via` selects an irq_inject by its path tag, and an irqfd's (which leaves
// the vector to KVM) never matches a vector; a schema-4 event's `name` counts.
TEST(EventFilter, ViaIsTheInterruptsPath) {
  Event pic = events::irq_inject({0, 0, Source::Vmm}, 0x20);
  Event fd = events::irq_via_irqfd({0, 0, Source::Vmm}, "virtio-blk", 0x20);
  fd.vector = 0x20;  // a stray vector: the tag decides
  Event ipi = events::ipi_inject({0, 1, Source::Emulator}, 0x20, 0, "fixed", 10);
  Event old;
  old.kind = EventKind::IrqInject;
  old.name = "ipi";
  EventFilter f;
  f.via = IrqVia::Irqfd;
  EXPECT_FALSE(f.matches(pic));
  EXPECT_TRUE(f.matches(fd));
  EXPECT_FALSE(f.matches(ipi));
  f.via = IrqVia::Ipi;
  EXPECT_TRUE(f.matches(ipi));
  EXPECT_TRUE(f.matches(old));
  EXPECT_FALSE(f.matches(exit_io(0x3f8, 0))) << "only irq_inject carries a path";
  EXPECT_FALSE(f.only_keys());
  EventFilter v;
  v.vector = 0x20;
  EXPECT_TRUE(v.matches(pic));
  EXPECT_FALSE(v.matches(fd));
  EXPECT_TRUE(v.matches(ipi));
  EXPECT_EQ(irq_via_from_name("KVM_INTERRUPT"), IrqVia::KvmInterrupt);
  EXPECT_EQ(irq_via_from_name("irqfd"), IrqVia::Irqfd);
  EXPECT_FALSE(irq_via_from_name(""));
  EXPECT_FALSE(irq_via_from_name("msi"));
}

TEST(EventFilter, DirectionAndCauseNamesAreTheVocabularys) {
  EXPECT_EQ(direction_from_name("out"), Direction::Out);
  EXPECT_EQ(direction_from_name("write"), Direction::Write);
  EXPECT_FALSE(direction_from_name("OUT"));
  EXPECT_FALSE(direction_from_name(""));
  EXPECT_EQ(cause_from_name("int"), TrapCause::SoftInt);
  EXPECT_EQ(cause_from_name("sysretq"), TrapCause::Sysret);
  EXPECT_FALSE(cause_from_name("sysenter"));
}

TEST(Mode, NamesRoundTripAndOnlyEmulationRunsWithoutKvm) {
  for (int i = 0; i < kModeCount; ++i) {
    const auto m = static_cast<Mode>(i);
    EXPECT_EQ(mode_from_name(mode_name(m)), m);
  }
  EXPECT_EQ(mode_name(Mode::FullVirt), "full-virt");
  EXPECT_FALSE(mode_from_name("fullvirt"));
  EXPECT_FALSE(mode_from_name(""));
  EXPECT_EQ(mode_choices(), "full-virt, paravirt, emulation, bt or hvm-pv");
  EXPECT_EQ(mode_from_name("bt"), Mode::Bt);
  EXPECT_TRUE(mode_needs_kvm(Mode::Bt));
  EXPECT_TRUE(mode_needs_kvm(Mode::Paravirt));
  EXPECT_FALSE(mode_needs_kvm(Mode::Emulation));
}

}  // namespace
}  // namespace ringscope
