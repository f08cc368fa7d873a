// The timeline's host rows plot rates derived from the host counters
// (model/host_series.h): a rate is a counter's growth between samples over
// the wall time between them, for any window, however the samples fall.
#include "model/host_series.h"

#include <gtest/gtest.h>

#include "ringscope/events.h"
#include "ringscope/host_counters.h"

namespace ringscope::viewer {
namespace {

Event host(HostCounter c, uint32_t vcpu, uint64_t t, uint64_t v) {
  return events::counter({t, vcpu, Source::Vmm}, host_counter_name(c), v);
}

TEST(HostSeries, RateIsTheGrowthOverTheWallTimeBetweenSamples) {
  HostSeries s;
  s.add(1000, 0);
  s.add(2000, 1000);  // busy: all of [1000, 2000]
  s.add(4000, 1500);  // a quarter of [2000, 4000]
  EXPECT_DOUBLE_EQ(*s.rate_between(1000, 2000), 1.0);
  EXPECT_DOUBLE_EQ(*s.rate_between(2000, 4000), 0.25);
  EXPECT_DOUBLE_EQ(*s.rate_between(1000, 4000), 0.5);
  // Inside one interval: that interval's rate (linear between samples).
  EXPECT_DOUBLE_EQ(*s.rate_between(1200, 1300), 1.0);
  EXPECT_DOUBLE_EQ(*s.rate_between(2500, 3000), 0.25);
  // Across a sample: weighted by time on each side.
  EXPECT_DOUBLE_EQ(*s.rate_between(1500, 2500), (500 * 1.0 + 500 * 0.25) / 1000);
  // Outside the samples: cut to them; wholly outside: nothing.
  EXPECT_DOUBLE_EQ(*s.rate_between(0, 2000), 1.0);
  EXPECT_FALSE(s.rate_between(5000, 6000).has_value());
  EXPECT_FALSE(s.rate_between(3000, 3000).has_value());
}

TEST(HostSeries, OneSampleHasNoRateAndLevelsHoldUntilTheNext) {
  HostSeries s;
  s.add(100, 7);
  EXPECT_FALSE(s.rate_between(0, 1000).has_value());
  s.add(200, 9);
  s.add(150, 1);  // earlier than the last: dropped
  EXPECT_EQ(s.samples().size(), 2u);
  EXPECT_FALSE(s.level_at(99).has_value());
  EXPECT_EQ(*s.level_at(100), 7u);
  EXPECT_EQ(*s.level_at(199), 7u);
  EXPECT_EQ(*s.level_at(5000), 9u);
  EXPECT_EQ(s.max_value(), 9u);
}

TEST(HostTracks, SortsHostCountersIntoLanesAndTheProcess) {
  HostTracks t;
  t.add(host(HostCounter::VcpuCpuNs, 1, 10, 0));
  t.add(host(HostCounter::VcpuCpuNs, 1, 20, 5));
  t.add(host(HostCounter::VcpuRunDelayNs, 1, 20, 3));
  t.add(host(HostCounter::RssBytes, 0, 20, 4096));
  t.add(host(HostCounter::RamResidentBytes, 0, 20, 8192));
  t.add(events::counter({30, 0, Source::KvmStats}, "exits", 5));           // not a host counter
  t.add(events::counter({30, 0, Source::Vmm}, "vcpu_thread_cpu_ns", 99));  // the run-end figure, not sampled
  EXPECT_EQ(t.lane(0), nullptr);
  ASSERT_NE(t.lane(1), nullptr);
  EXPECT_DOUBLE_EQ(*t.lane(1)->cpu.rate_between(10, 20), 0.5);
  EXPECT_EQ(t.lane(1)->run_delay.samples().size(), 1u);
  EXPECT_TRUE(t.any_process());
  EXPECT_EQ(*t.rss().level_at(25), 4096u);
  EXPECT_EQ(*t.ram_resident().level_at(25), 8192u);
  EXPECT_TRUE(t.disk_cached().empty());
  t.add(host(HostCounter::VcpuCpuNs, 1u << 30, 10, 0));  // a hostile lane number allocates nothing
  EXPECT_EQ(t.lane(1u << 30), nullptr);
}

}  // namespace
}  // namespace ringscope::viewer
