// event_store_test.cpp — the viewer's compact event store (issue 17): every
// field of every event comes back as it went in, including the values that
// do not fit the narrow columns (times far apart, vCPU numbers above 254,
// CPLs above 3, codes above 16 bits), and the time index agrees with a walk.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "model/event_store.h"
#include "ringscope/event_schema.h"

namespace ringscope::viewer {
namespace {

// Field by field through the schema's table: kinds carry any field.
void expect_same(const Event& want, const Event& got, uint64_t seq, size_t i) {
  SCOPED_TRACE("event " + std::to_string(i));
  EXPECT_EQ(got.seq, seq);
  EXPECT_EQ(got.time_ns, want.time_ns);
  EXPECT_EQ(got.kind, want.kind);
  for (int f = 0; f < kEventFieldCount; ++f) {
    const auto id = static_cast<FieldId>(f);
    const FieldSpec& spec = field_spec(id);
    if (spec.type == FieldType::String) {
      EXPECT_EQ(string_value(got, id), string_value(want, id)) << spec.name;
    } else if (spec.type == FieldType::Regs) {
      ASSERT_EQ(got.regs == nullptr, want.regs == nullptr);
      if (want.regs) {
        EXPECT_EQ(got.regs->rip, want.regs->rip);
      }
    } else {
      EXPECT_EQ(field_value(got, id), field_value(want, id)) << spec.name;
    }
  }
}

std::vector<Event> varied_events(size_t n) {
  std::mt19937_64 rng(17);
  std::vector<Event> v;
  static const std::string names[] = {"uart", "THR", "exits", "op"};
  static const std::string text("\x48\x89\xc7\x0f\x0b", 5);
  static GuestRegs regs{};
  regs.rip = 0x1234;
  uint64_t t = 1'000'000'000;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    // Mostly close together; now and then seconds apart (past a 32-bit delta).
    t += (i % 97 == 13) ? 5'000'000'000ull + rng() % 3'000'000'000ull : rng() % 2000;
    e.time_ns = t;
    e.kind = static_cast<EventKind>(rng() % kEventKindCount);
    e.source = static_cast<Source>(rng() % kSourceCount);
    e.vcpu = (i % 31 == 7) ? 255 + static_cast<uint32_t>(rng() % 5000) : static_cast<uint32_t>(rng() % 4);
    e.rip = (i % 5 == 0) ? 0 : 0x100000 + rng() % 64 + ((i % 11 == 0) ? 0x8000000000ull : 0);
    e.cpl = static_cast<uint8_t>(i % 13 == 0 ? 7 : rng() % 4);
    e.from_cpl = static_cast<uint8_t>(i % 17 == 0 ? 9 : rng() % 4);
    e.to_cpl = static_cast<uint8_t>(i % 19 == 0 ? 200 : rng() % 4);
    e.reason = static_cast<uint16_t>(rng() % 70);
    e.vector = static_cast<uint8_t>(rng());
    e.number = (i % 7 == 0) ? rng() : rng() % 100;  // a hypercall's code past 16 bits
    e.value = rng() % 3 ? 0 : rng();
    e.duration_ns = rng() % 5000;
    e.handled_by = static_cast<HandledBy>(rng() % 3);
    e.args[2] = i % 23 == 0 ? ~uint64_t{0} : 0;
    if (i % 3 == 0) e.device = names[rng() % 4];
    if (i % 4 == 0) e.name = names[rng() % 4];
    if (i % 2 == 0) e.text = std::string_view(text).substr(0, rng() % 6);
    if (i % 29 == 0) e.regs = &regs;
    e.seq = (i % 41 == 0) ? 1'000'000 + i : i;
    v.push_back(e);
  }
  return v;
}

TEST(EventStore, EveryFieldComesBack) {
  const auto events = varied_events(3000);
  EventStore s;
  for (const Event& e : events) s.append(e);
  ASSERT_EQ(s.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    expect_same(events[i], s.decode(i), events[i].seq, i);
    const CompactEvent c = s.compact(i);
    EXPECT_EQ(c.time_ns, events[i].time_ns);
    EXPECT_EQ(c.vcpu, events[i].vcpu);
    EXPECT_EQ(c.kind, static_cast<uint8_t>(events[i].kind));
    EXPECT_EQ(s.time(i), events[i].time_ns);
    EXPECT_EQ(s.vcpu(i), events[i].vcpu);
  }
  // Decoding out of order (the walk inside a block starts afresh each time).
  for (size_t i = events.size(); i-- > 0;) ASSERT_EQ(s.decode(i).rip, events[i].rip) << i;
}

TEST(EventStore, TimeIndexAgreesWithAWalk) {
  const auto events = varied_events(2000);
  EventStore s;
  for (const Event& e : events) s.append(e);
  for (size_t k = 0; k < events.size(); k += 7) {
    for (const uint64_t t : {events[k].time_ns, events[k].time_ns + 1, events[k].time_ns - 1}) {
      size_t lo = 0, hi = 0;
      while (lo < events.size() && events[lo].time_ns < t) ++lo;
      while (hi < events.size() && events[hi].time_ns <= t) ++hi;
      EXPECT_EQ(s.lower_bound(t), lo) << t;
      EXPECT_EQ(s.upper_bound(t), hi) << t;
    }
  }
  EXPECT_EQ(s.lower_bound(0), 0u);
  EXPECT_EQ(s.upper_bound(~uint64_t{0}), events.size());
}

TEST(EventStore, AStepCostsAFewBytes) {
  // Consecutive single steps: the rip as a difference, the CPL in the
  // columns, the source in the shape. Far under the 32 bytes per event the
  // whole model may take (issue 17).
  EventStore s;
  for (uint64_t i = 0; i < 100'000; ++i) {
    Event e;
    e.kind = EventKind::Step;
    e.source = Source::SingleStep;
    e.time_ns = 1'000'000 + i * 700;
    e.rip = 0x8000001000 + (i % 64) * 3;
    e.cpl = 3;
    e.text = "\x48\x89\xc7";
    s.append(e);
  }
  s.shrink_to_fit();
  const double per_event = static_cast<double>(s.memory_bytes()) / static_cast<double>(s.size());
  EXPECT_LT(per_event, 18.0);
  EXPECT_EQ(s.decode(99'999).rip, 0x8000001000u + (99'999 % 64) * 3);
  EXPECT_EQ(s.decode(99'999).cpl, 3);
}

}  // namespace
}  // namespace ringscope::viewer
