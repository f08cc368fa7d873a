// A writer killed with SIGKILL mid-stream (docs/trace-format.md: "a writer killed at
// any instant leaves every completed chunk readable").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

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

}  // namespace
}  // namespace ringscope
