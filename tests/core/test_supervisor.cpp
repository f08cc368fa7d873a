// test_supervisor.cpp — the watchdog around a backend's loop (supervisor.h)
// costs nothing while the loop runs: it sleeps until something is due.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "ringscope/supervisor.h"

namespace ringscope {
namespace {

uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// A loop that runs longer than the progress line's period (250 ms) with no
// progress line asked for. The watchdog (on this thread) used to wake for
// that line anyway and, with nothing moving it on, spun from then on: a
// host CPU taken from the vCPUs for the rest of every longer run.
TEST(Supervisor, SleepsWhileTheLoopRunsWithoutAProgressLine) {
  RunOptions options;
  options.progress = false;
  SupervisedLoop loop;
  loop.run = [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    RunResult r;
    r.end = RunEndReason::GuestExit;
    return r;
  };
  loop.stop = [](std::thread::native_handle_type) {};
  const uint64_t cpu0 = thread_cpu_ns();
  RunResult r = supervise(options, loop);
  const uint64_t watchdog_cpu = thread_cpu_ns() - cpu0;
  ASSERT_EQ(r.end, RunEndReason::GuestExit);
  ASSERT_GT(r.wall_ns, 0u);
  // A sleeping watchdog wakes a handful of times; a spinning one takes a
  // good share of the wall time even on a loaded machine.
  EXPECT_LT(watchdog_cpu * 50, r.wall_ns)
      << "the watchdog used " << watchdog_cpu / 1000 << " µs of CPU in a " << r.wall_ns / 1000 << " µs run";
}

}  // namespace
}  // namespace ringscope
