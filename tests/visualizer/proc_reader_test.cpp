// proc_reader_test.cpp — the Host view's /proc reader on a real child
// process: a forked child with two threads named as the VMM names its vCPU
// threads (vcpu0, vcpu1), one spinning and one asleep, and a file open.
#include "machines/proc_reader.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <atomic>
#include <csignal>

namespace ringscope::machines {
namespace {

void* spin(void*) {
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
  return nullptr;
}

void* sleeper(void*) {
  for (;;) pause();
  return nullptr;
}

// The child: opens /dev/null as fd 7, starts the two threads, says so on
// `ready`, then waits to be killed.
[[noreturn]] void child_main(int ready) {
  const int fd = open("/dev/null", O_RDONLY);
  dup2(fd, 7);
  pthread_t a, b;
  pthread_create(&a, nullptr, spin, nullptr);
  pthread_create(&b, nullptr, sleeper, nullptr);
  // Named before `ready`, as the VMM names each vCPU thread it starts.
  pthread_setname_np(a, "vcpu0");
  pthread_setname_np(b, "vcpu1");
  const char c = 'r';
  (void)!write(ready, &c, 1);
  for (;;) pause();
}

struct Child {
  pid_t pid = -1;
  Child() {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
      close(p[0]);
      child_main(p[1]);
    }
    close(p[1]);
    char c = 0;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    close(p[0]);
  }
  ~Child() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

const ThreadInfo* thread_named(const ProcessInfo& p, const std::string& name) {
  for (const auto& t : p.threads)
    if (t.name == name) return &t;
  return nullptr;
}

TEST(ProcReader, SeesTheVcpuThreadsByNameTheirCpuTimeMemoryAndFiles) {
  Child child;
  auto first = read_process(child.pid);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const ProcessInfo& p = first.value();
  EXPECT_EQ(p.pid, child.pid);
  ASSERT_EQ(p.threads.size(), 3u);  // the main thread and the two vCPUs
  EXPECT_EQ(p.threads[0].tid, child.pid);
  ASSERT_NE(thread_named(p, "vcpu0"), nullptr);
  ASSERT_NE(thread_named(p, "vcpu1"), nullptr);
  EXPECT_NE(thread_named(p, "vcpu0")->tid, thread_named(p, "vcpu1")->tid);
  EXPECT_GT(p.rss_kib, 0u);
  EXPECT_GE(p.vm_kib, p.rss_kib);
  bool devnull = false;
  for (const auto& f : p.files) devnull = devnull || (f.fd == 7 && f.target == "/dev/null");
  EXPECT_TRUE(devnull) << "fd 7 of the child is /dev/null";

  // The spinning thread gathers CPU time and the sleeping one does not: read
  // until vcpu0 has 5 ticks more (a count of readings, no clock).
  ProcessInfo now = p;
  for (int i = 0; i < 1'000'000; ++i) {
    auto r = read_process(child.pid);
    ASSERT_TRUE(r.ok());
    now = std::move(r).value();
    if (thread_named(now, "vcpu0")->cpu_ticks >= thread_named(p, "vcpu0")->cpu_ticks + 5) break;
  }
  const ThreadInfo* busy = thread_named(now, "vcpu0");
  const ThreadInfo* idle = thread_named(now, "vcpu1");
  EXPECT_GE(busy->cpu_ticks, thread_named(p, "vcpu0")->cpu_ticks + 5);
  EXPECT_LT(idle->cpu_ticks, busy->cpu_ticks);
  EXPECT_EQ(idle->state, 'S');
  EXPECT_GE(now.cpu_ticks(), busy->cpu_ticks + idle->cpu_ticks);
  EXPECT_GT(busy->cpu_seconds(), 0.0);
}

TEST(ProcReader, AProcessThatIsGoneIsAnErrorThatSaysSo) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  auto r = read_process(pid);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("is gone"), std::string::npos) << r.error().message;
}

TEST(ProcReader, CpuPercentIsTicksOverWallTime) {
  const long hz = clock_ticks_per_second();
  EXPECT_DOUBLE_EQ(cpu_percent(0, static_cast<uint64_t>(hz), 1.0), 100.0);
  EXPECT_DOUBLE_EQ(cpu_percent(0, static_cast<uint64_t>(hz), 2.0), 50.0);
  EXPECT_DOUBLE_EQ(cpu_percent(10, 5, 1.0), 0.0);  // a counter that went back (a new process)
  EXPECT_DOUBLE_EQ(cpu_percent(0, 5, 0.0), 0.0);
}

}  // namespace
}  // namespace ringscope::machines
