// run --vcpu-affinity's CPU lists (cpu_list.h): taskset's syntax, and a CPU
// the host does not have refused with a message naming the ones it has.
#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "ringscope/cpu_list.h"

namespace ringscope {
namespace {

int first_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) return c;
  return 0;
}

TEST(CpuList, ParsesNumbersRangesAndListsSortedOnce) {
  const int c = first_allowed();
  auto one = parse_cpu_list(std::to_string(c));
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one.value(), std::vector<int>{c});
  auto twice = parse_cpu_list(std::to_string(c) + "," + std::to_string(c) + "-" + std::to_string(c));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice.value(), std::vector<int>{c});
}

TEST(CpuList, RefusesMalformedListsAndMissingCpus) {
  for (const char* bad : {"", "x", "1-", "-1", "3-1", "0,,1", "0;1", "99999999999"}) {
    auto r = parse_cpu_list(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("taskset"), std::string::npos) << r.error().message;
    }
  }
  auto missing = parse_cpu_list("1000");  // CPU_SETSIZE is 1024; no test host has CPU 1000
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no CPU 1000"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find(allowed_cpus_text()), std::string::npos);
}

TEST(CpuList, PinsAThreadToTheCpu) {
  const int c = first_allowed();
  int seen = -1;
  std::thread t([&] {
    ASSERT_TRUE(pin_this_thread({c}));
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
    EXPECT_EQ(CPU_COUNT(&set), 1);
    if (CPU_ISSET(c, &set)) seen = c;
  });
  t.join();
  EXPECT_EQ(seen, c);
}

}  // namespace
}  // namespace ringscope
