// Callouts as the monitor records them: at the instruction, with what it
// did (an `in` or `out` carries its port, size and value, the same the
// device saw), with the monitor's time for it, and stores into the guest's
// page tables as callouts of their own (pt_store).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bt/bt_backend.h"
#include "bt_test_support.h"
#include "ringscope/bt_stats.h"

namespace ringscope::test {
namespace {

bool io_callout(const Event& e) {
  return e.kind == EventKind::BtCallout && (e.insn == BtInsn::In || e.insn == BtInsn::Out);
}

// Every port access in io-burst's kernel is a callout that says the port,
// the size, the direction and the value; for the UART (every byte of the
// burst, and its status reads) the device event recorded right after it
// (what the callout caused) has the same direction and value. (The probe
// port's accesses are markers, not device events.)
TEST(BtCallouts, IoCalloutCarriesPortAndValueOfItsDeviceEvent) {
  RINGSCOPE_REQUIRE_KVM();
  auto bt = run_bt("io-burst", {{"bytes", "256"}});
  ASSERT_TRUE(bt);
  ASSERT_TRUE(bt->result.ok()) << bt->result.message;
  const auto& ev = bt->sink.events();
  uint64_t io = 0, uart = 0, matched = 0, uart_out = 0;
  for (size_t i = 0; i < ev.size(); i++) {
    if (!io_callout(ev[i])) continue;
    const Event& c = ev[i];
    io++;
    ASSERT_EQ(c.access, AccessKind::Port) << "callout at " << std::hex << c.rip << " says no port access";
    EXPECT_EQ(c.direction, c.insn == BtInsn::In ? Direction::In : Direction::Out);
    EXPECT_GE(c.size, 1u);
    EXPECT_LE(c.size, 4u);
    if (c.port < 0x3f8 || c.port > 0x3ff) continue;
    uart++;
    if (c.direction == Direction::Out) uart_out++;
    for (size_t j = i + 1; j < ev.size() && ev[j].kind != EventKind::BtCallout; j++) {
      if (ev[j].kind != EventKind::Device) continue;
      EXPECT_EQ(ev[j].device, "uart");
      EXPECT_EQ(ev[j].value, c.value) << "port 0x" << std::hex << c.port << " " << ev[j].reg;
      EXPECT_EQ(ev[j].direction, c.direction);
      matched++;
      break;
    }
  }
  EXPECT_GE(uart_out, 256u) << "each byte of the burst is an out to the UART";
  EXPECT_EQ(matched, uart) << "every UART callout has its device event beside it";
  EXPECT_EQ(io, bt->figures.io_callouts);
}

// Each callout has the monitor's time for it; together they fit in the run.
TEST(BtCallouts, CalloutsAreTimedAndFitInTheRun) {
  RINGSCOPE_REQUIRE_KVM();
  auto bt = run_bt("nanobench", {{"n", "20"}});
  ASSERT_TRUE(bt);
  ASSERT_TRUE(bt->result.ok()) << bt->result.message;
  uint64_t callouts = 0, timed = 0, sum = 0;
  BtStatsBuilder builder;
  uint64_t last = 0;
  for (const auto& e : bt->sink.events()) {
    builder.add(e);
    last = std::max(last, e.time_ns);
    if (e.kind != EventKind::BtCallout) continue;
    callouts++;
    if (e.duration_ns) timed++;
    sum += e.duration_ns;
  }
  ASSERT_GT(callouts, 0u);
  EXPECT_EQ(timed, callouts) << "every callout has a duration";
  EXPECT_LE(sum, bt->result.wall_ns);
  EXPECT_EQ(sum, bt->figures.callout_ns);
  BtStats st = builder.finish(last);
  EXPECT_EQ(st.callout_ns, sum);
  EXPECT_LE(st.monitor_ns, bt->result.wall_ns);
}

// ptemod stores into a page-table entry n times: n pt_store callouts at
// least, each saying the entry, where it is and what was stored; the
// guest still gets its mappings right (the scenario's own checks pass).
TEST(BtCallouts, PageTableStoresAreCallouts) {
  RINGSCOPE_REQUIRE_KVM();
  constexpr uint64_t kN = 40;
  auto bt = run_bt("nanobench", {{"n", std::to_string(kN)}});
  ASSERT_TRUE(bt);
  ASSERT_TRUE(bt->result.ok()) << bt->result.message;
  bool in_ptemod = false;
  uint64_t stores = 0, stores_in_ptemod = 0, invlpg_in_ptemod = 0;
  for (const auto& e : bt->sink.events()) {
    if (e.kind == EventKind::Marker && e.name.starts_with("ptemod")) in_ptemod = e.phase == MarkerPhase::Begin;
    if (e.kind != EventKind::BtCallout) continue;
    if (e.insn == BtInsn::Invlpg && in_ptemod) invlpg_in_ptemod++;
    if (e.insn != BtInsn::PtStore) continue;
    stores++;
    EXPECT_EQ(e.access, AccessKind::PageTableStore);
    EXPECT_FALSE(e.reg.empty());
    EXPECT_NE(e.gpa, 0u);
    if (in_ptemod) {
      stores_in_ptemod++;
      EXPECT_EQ(e.reg, "pte");
    }
  }
  EXPECT_GE(stores_in_ptemod, kN);
  EXPECT_GE(invlpg_in_ptemod, kN);
  EXPECT_EQ(stores, bt->figures.pt_store_callouts);
  // The trace answers "did the tables change?" at entries to ring 3
  // instead of a walk of every table.
  EXPECT_GT(bt->figures.fingerprints_skipped, 0u);
}

}  // namespace
}  // namespace ringscope::test
