// A writer killed with SIGKILL mid-stream (docs/trace-format.md: "a writer killed at
// any instant leaves every completed chunk readable").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "ringscope/host.h"
#include "support/tiny_elf.h"
#include "trace/format.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

constexpr int kEventsPerChunk = 100;

// The child: write chunks of kEventsPerChunk events forever, reporting each
// flushed chunk on the pipe. It never returns.
[[noreturn]] void child_writes_forever(const std::string& path, int report_fd) {
  auto w = TraceWriter::create(path, testing::sample_header());
  if (!w.ok()) _exit(2);
  testing::EventFactory f;
  for (uint32_t chunk = 0;; ++chunk) {
    for (int i = 0; i < kEventsPerChunk; ++i) {
      Event e = f.io_exit(i % 2 == 1, static_cast<char>('a' + i % 26));
      e.count = chunk;  // which chunk this event belongs to
      (*w)->emit(e);
    }
    if (!(*w)->flush().ok()) _exit(3);
    if (::write(report_fd, &chunk, sizeof chunk) != sizeof chunk) _exit(4);
  }
}

TEST(TraceKill, SigkillMidStreamKeepsCompletedChunks) {
  const auto path =
      std::filesystem::temp_directory_path() / ("ringscope-kill-" + std::to_string(::getpid()) + ".rtrace");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    child_writes_forever(path.string(), fds[1]);
  }
  ::close(fds[1]);
  // Let a few chunks reach the disk, then kill the writer wherever it is.
  uint32_t chunk = 0;
  for (int seen = 0; seen < 5; ++seen) ASSERT_EQ(::read(fds[0], &chunk, sizeof chunk), ssize_t{sizeof chunk});
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  ::close(fds[0]);

  auto t = read_trace(path.string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->complete);
  EXPECT_GE(t->events.size(), size_t{5 * kEventsPerChunk});
  EXPECT_EQ(t->events.size() % kEventsPerChunk, 0u) << "only whole chunks are returned";
  for (size_t i = 0; i < t->events.size(); ++i) {
    ASSERT_EQ(t->events[i].seq, i);
    ASSERT_EQ(t->events[i].count, i / kEventsPerChunk);
  }
  EXPECT_EQ(t->warning.rfind("truncated after " + std::to_string(t->events.size()) + " events at byte ", 0), 0u)
      << t->warning;
  std::filesystem::remove(path);
}

// A real `ringscope run` killed at random instants: every trace it leaves
// reads, and what is lost is at most the chunk that was still in memory.
// The instants come from a seed, printed, and taken from RINGSCOPE_KILL_SEED
// when set, so a failure can be replayed.
TEST(TraceKill, AKilledRingscopeRunLeavesAReadableTraceAtRandomInstants) {
  bool kvm = probe_host().kvm_openable;  // without /dev/kvm, mode emulation (it needs none)
  // The guest: an I/O exit in a loop (in al, 0x80; jmp back), so events keep
  // coming until the kill.
  ringscope::test::TinyKernel k;
  k.code = {0xe4, 0x80, 0xeb, 0xfc};
  auto dir = std::filesystem::temp_directory_path() / ("ringscope-killrun-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto image = dir / "spin.elf";
  {
    auto bytes = ringscope::test::make_tiny_kernel(k);
    FILE* f = std::fopen(image.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  const char* env = std::getenv("RINGSCOPE_KILL_SEED");
  uint64_t seed = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
  std::printf("kill instants seed: %llu (replay with RINGSCOPE_KILL_SEED=%llu)\n", (unsigned long long)seed,
              (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  // An instant: once k chunks (0..2) have reached the file, plus 0..200 ms.
  // Counted in chunks rather than time, so a slow host still gets kills in
  // the middle of the run, not all before its first chunk.
  std::uniform_int_distribution<int> chunks_first(0, 2);
  std::uniform_int_distribution<int> delay_us(0, 200'000);
  constexpr int kKills = 6;
  for (int i = 0; i < kKills; i++) {
    auto trace = dir / ("run" + std::to_string(i) + ".rtrace");
    int chunks = chunks_first(rng), delay = delay_us(rng);
    SCOPED_TRACE("kill " + std::to_string(i) + " after " + std::to_string(chunks) + " chunks and " +
                 std::to_string(delay) + " us");
    std::fflush(stdout);  // the child must not repeat what is buffered
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FILE* null = std::freopen("/dev/null", "w", stdout);
      null = std::freopen("/dev/null", "w", stderr);
      (void)null;
      ::execl(RINGSCOPE_BIN, "ringscope", "run", "--image", image.c_str(), "--mode", kvm ? "full-virt" : "emulation",
              "--trace", trace.c_str(), "--quiet", "--timeout", "120", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait for the header and `chunks` chunks to reach the file (bounded by
    // the child: if it exits first, the check below says why), then kill it
    // after `delay`.
    int status = 0;
    bool exited = false;
    const uint64_t want = 1 + uint64_t(chunks) * trace::kChunkTarget;
    for (;;) {
      std::error_code ec;
      if (std::filesystem::exists(trace, ec) && std::filesystem::file_size(trace, ec) >= want) break;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE(exited) << "ringscope run ended before writing its trace (status " << status << ")";
    std::this_thread::sleep_for(std::chrono::microseconds(delay));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "the run should still have been going";

    auto t = read_trace(trace.string());
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_FALSE(t->complete);
    for (size_t j = 0; j < t->events.size(); ++j) ASSERT_EQ(t->events[j].seq, j);
    std::printf("  kill %d after %d chunks + %d us: %zu events read; %s\n", i, chunks, delay, t->events.size(),
                t->warning.c_str());
    if (chunks > 0) {
      EXPECT_GT(t->events.size(), 0u) << "the chunks on disk before the kill are read";
    }
    // "truncated after N events at byte X": what follows X is at most the
    // chunk that was being written when the kill came.
    auto at = t->warning.find(" at byte ");
    ASSERT_NE(at, std::string::npos) << t->warning;
    uint64_t offset = std::strtoull(t->warning.c_str() + at + 9, nullptr, 10);
    uint64_t size = std::filesystem::file_size(trace);
    EXPECT_LE(size - std::min(size, offset), trace::kChunkHeaderSize + 2 * trace::kChunkTarget)
        << "more than the last chunk was lost";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringscope
