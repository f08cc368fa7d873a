// Live traces (issue 14, docs/trace-format.md "Reading a trace while it is
// written"): the writer seals a chunk once it has waited the flush period,
// and TraceFollower reads a growing file chunk by chunk, treating a chunk cut
// short by the end of the file as "not yet" and a damaged one as an error
// with its byte offset. Clocks are injected: no test sleeps for a period.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "trace/format.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

constexpr uint64_t kMs = 1'000'000;

std::filesystem::path temp_trace(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("ringscope-live-" + name + "-" + std::to_string(::getpid()) + ".rtrace");
}

void write_bytes(const std::filesystem::path& p, const uint8_t* data, size_t n, bool append) {
  std::ofstream f(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
}

// Counts what a poll delivers and checks the seqs run on without a gap.
struct Collected {
  std::vector<uint64_t> seqs;
  EventCallback callback() {
    return [this](const Event& e) {
      seqs.push_back(e.seq);
      return true;
    };
  }
};

TEST(TraceLive, WriterSealsAChunkOnceItHasWaitedThePeriod) {
  uint64_t now = 1000 * kMs;
  TraceWriterOptions o;
  o.clock = [&] { return now; };
  auto w = TraceWriter::create_in_memory(testing::sample_header(), TraceWriter::MemoryTarget::Memory, o);
  const size_t header_bytes = w->memory_bytes().size();
  testing::EventFactory f;
  EXPECT_FALSE(w->flush_if_due());  // nothing buffered
  for (int i = 0; i < 3; ++i) {
    Event e = f.io_exit(true, 'a');
    w->emit(e);
  }
  now += o.flush_period_ns - 1;
  EXPECT_FALSE(w->flush_if_due());
  EXPECT_EQ(w->memory_bytes().size(), header_bytes);
  now += 1;
  EXPECT_TRUE(w->flush_if_due());
  EXPECT_FALSE(w->flush_if_due());  // sealed: the next chunk is empty
  EXPECT_EQ(w->period_flushes(), 1u);
  auto t = read_trace_bytes(w->memory_bytes());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value().events.size(), 3u);
  EXPECT_FALSE(t.value().complete);

  // The period runs from the first event of the new chunk, not from the
  // last seal.
  now += 10 * o.flush_period_ns;
  Event e = f.io_exit(false, 'b');
  w->emit(e);
  now += o.flush_period_ns / 2;
  EXPECT_FALSE(w->flush_if_due());
  now += o.flush_period_ns / 2;
  EXPECT_TRUE(w->flush_if_due());
  EXPECT_EQ(read_trace_bytes(w->memory_bytes()).value().events.size(), 4u);
  EXPECT_TRUE(w->close().ok());
  EXPECT_TRUE(read_trace_bytes(w->memory_bytes()).value().complete);
}

TEST(TraceLive, PeriodZeroSealsOnlyWhenFull) {
  uint64_t now = 0;
  TraceWriterOptions o;
  o.flush_period_ns = 0;
  o.clock = [&] { return now; };
  auto w = TraceWriter::create_in_memory(testing::sample_header(), TraceWriter::MemoryTarget::Memory, o);
  testing::EventFactory f;
  Event e = f.io_exit(true, 'a');
  w->emit(e);
  now += 1000 * kMs;
  EXPECT_FALSE(w->flush_if_due());
  EXPECT_EQ(w->bytes_written(), w->memory_bytes().size());
  EXPECT_EQ(read_trace_bytes(w->memory_bytes()).value().events.size(), 0u);
}

// The flusher thread of a file writer seals a chunk once it is due, with no
// event to trigger it (a guest gone idle), and not before.
TEST(TraceLive, FlusherThreadWritesAnIdleWritersEvents) {
  const auto path = temp_trace("flusher");
  std::atomic<uint64_t> now{1000 * kMs};
  TraceWriterOptions o;
  o.flush_period_ns = 4 * kMs;  // the thread looks every 1 ms
  o.clock = [&] { return now.load(); };
  auto created = TraceWriter::create(path.string(), testing::sample_header(), o);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto& w = *created.value();
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  Collected got;
  testing::EventFactory f;
  Event e = f.io_exit(true, 'x');
  w.emit(e);
  // The thread looks at least twice while the chunk is not due: nothing.
  const uint64_t checks = w.flusher_checks();
  while (w.flusher_checks() < checks + 2) std::this_thread::yield();
  EXPECT_EQ(w.period_flushes(), 0u);
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 0u);
  now += o.flush_period_ns;  // due: the thread seals it without another emit
  while (w.period_flushes() == 0) std::this_thread::yield();
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 1u);
  EXPECT_FALSE(follower.value()->ended());
  ASSERT_TRUE(w.close().ok());
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 0u);
  EXPECT_TRUE(follower.value()->ended());
  EXPECT_EQ(got.seqs, (std::vector<uint64_t>{0}));
  std::filesystem::remove(path);
}

// Several vCPU threads emit while the flusher seals chunks and a follower
// reads them: every event arrives once, in seq order.
TEST(TraceLive, ThreadsFlusherAndFollowerTogether) {
  const auto path = temp_trace("threads");
  std::atomic<uint64_t> now{0};
  TraceWriterOptions o;
  o.flush_period_ns = 1 * kMs;
  o.clock = [&] { return now.fetch_add(200'000); };  // every read moves on 0.2 ms: seals happen all the time
  auto created = TraceWriter::create(path.string(), testing::sample_header(), o);
  ASSERT_TRUE(created.ok());
  auto& w = *created.value();
  constexpr int kThreads = 3, kPerThread = 20000;
  std::vector<std::thread> vcpus;
  for (int t = 0; t < kThreads; ++t)
    vcpus.emplace_back([&w, t] {
      testing::EventFactory f;
      for (int i = 0; i < kPerThread; ++i) {
        Event e = f.io_exit(i % 2 == 0, 'a');
        e.vcpu = static_cast<uint32_t>(t);
        w.emit(e);
        if (i % 100 == 0) (void)w.flush_if_due();
      }
    });
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  Collected got;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) ASSERT_TRUE(follower.value()->poll(got.callback()).ok());
  });
  for (auto& t : vcpus) t.join();
  ASSERT_TRUE(w.close().ok());
  done = true;
  reader.join();
  ASSERT_TRUE(follower.value()->poll(got.callback()).ok());
  EXPECT_TRUE(follower.value()->ended());
  ASSERT_EQ(got.seqs.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < got.seqs.size(); ++i) ASSERT_EQ(got.seqs[i], i);
  EXPECT_GT(w.period_flushes(), 0u);
  std::filesystem::remove(path);
}

// A file that grows a few bytes at a time, cut anywhere (inside the header,
// a chunk frame, a payload): each poll reads exactly the whole chunks so
// far, never an error, and the end mark ends the run.
TEST(TraceLive, FollowerReadsAGrowingFileWholeChunksOnly) {
  std::vector<Event> events;
  testing::EventFactory f;
  for (int i = 0; i < 120; ++i) events.push_back(i % 3 ? f.io_exit(i % 2, 'q') : f.full(EventKind::Marker));
  std::vector<size_t> chunk_ends;
  const auto bytes = testing::write_trace(events, 10, true, &chunk_ends);
  const auto path = temp_trace("growing");
  write_bytes(path, bytes.data(), 0, false);
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  TraceFollower& fw = *follower.value();
  Collected got;
  size_t written = 0;
  std::mt19937 rng(7);
  while (written < bytes.size()) {
    const size_t step = std::min(bytes.size() - written, size_t{1} + rng() % 97);
    write_bytes(path, bytes.data() + written, step, true);
    written += step;
    auto n = fw.poll(got.callback());
    ASSERT_TRUE(n.ok()) << n.error().message;
    EXPECT_FALSE(fw.stopped()) << fw.warning();
    // The events of every chunk that ends at or before `written`.
    size_t whole = 0;
    for (size_t k = 1; k < chunk_ends.size() && chunk_ends[k] <= written; ++k) whole = std::min<size_t>(k * 10, 120);
    EXPECT_EQ(fw.events(), whole) << "after " << written << " bytes";
    EXPECT_EQ(fw.has_header(), written >= chunk_ends[0]);
  }
  EXPECT_TRUE(fw.ended());
  EXPECT_TRUE(fw.warning().empty()) << fw.warning();
  ASSERT_EQ(got.seqs.size(), events.size());
  for (size_t i = 0; i < got.seqs.size(); ++i) EXPECT_EQ(got.seqs[i], i);
  EXPECT_EQ(fw.header().scenario, testing::sample_header().scenario);
  std::filesystem::remove(path);
}

TEST(TraceLive, FollowerStopsAtADamagedChunkWithItsOffset) {
  std::vector<Event> events;
  testing::EventFactory f;
  for (int i = 0; i < 30; ++i) events.push_back(f.io_exit(i % 2, 'd'));
  std::vector<size_t> chunk_ends;
  auto bytes = testing::write_trace(events, 10, false, &chunk_ends);
  bytes[chunk_ends[1] + trace::kChunkHeaderSize + 2] ^= 0x40;  // the second chunk's payload
  const auto path = temp_trace("damaged");
  write_bytes(path, bytes.data(), bytes.size(), false);
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  Collected got;
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 10u);
  EXPECT_TRUE(follower.value()->stopped());
  EXPECT_FALSE(follower.value()->ended());
  EXPECT_NE(follower.value()->warning().find("at byte " + std::to_string(chunk_ends[1])), std::string::npos)
      << follower.value()->warning();
  EXPECT_NE(follower.value()->warning().find("CRC"), std::string::npos);
  // More bytes after the damage change nothing.
  write_bytes(path, bytes.data() + chunk_ends[0], chunk_ends[1] - chunk_ends[0], true);
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 0u);
  EXPECT_EQ(got.seqs.size(), 10u);
  std::filesystem::remove(path);
}

TEST(TraceLive, FollowerReportsATruncatedFile) {
  std::vector<Event> events;
  testing::EventFactory f;
  for (int i = 0; i < 20; ++i) events.push_back(f.io_exit(i % 2, 't'));
  std::vector<size_t> chunk_ends;
  const auto bytes = testing::write_trace(events, 10, false, &chunk_ends);
  const auto path = temp_trace("truncated");
  write_bytes(path, bytes.data(), bytes.size(), false);
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  Collected got;
  EXPECT_EQ(follower.value()->poll(got.callback()).value(), 20u);
  std::filesystem::resize_file(path, chunk_ends[1]);  // shorter than what was read
  auto n = follower.value()->poll(got.callback());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::IoError);
  EXPECT_NE(n.error().message.find("shorter"), std::string::npos) << n.error().message;
  EXPECT_FALSE(follower.value()->poll(got.callback()).ok());  // sticky
  // Every cut of the file, followed from the start: whole chunks only.
  for (size_t cut = 0; cut <= bytes.size(); cut += 7) {
    write_bytes(path, bytes.data(), cut, false);
    auto fresh = TraceFollower::open(path.string());
    ASSERT_TRUE(fresh.ok());
    Collected c;
    auto r = fresh.value()->poll(c.callback());
    ASSERT_TRUE(r.ok()) << "cut at " << cut << ": " << r.error().message;
    EXPECT_EQ(r.value() % 10, 0u);
  }
  std::filesystem::remove(path);
}

TEST(TraceLive, FollowerRefusesWhatIsNotATrace) {
  const auto path = temp_trace("notatrace");
  const std::string text = "this is a text file, not a trace\n";
  write_bytes(path, reinterpret_cast<const uint8_t*>(text.data()), text.size(), false);
  auto follower = TraceFollower::open(path.string());
  ASSERT_TRUE(follower.ok());
  Collected got;
  auto n = follower.value()->poll(got.callback());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::BadData);
  EXPECT_NE(n.error().message.find("magic"), std::string::npos) << n.error().message;
  std::filesystem::remove(path);
  auto missing = TraceFollower::open(path.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NoInput);
}

}  // namespace
}  // namespace ringscope
