// trace_model_follow_test.cpp — the viewer's model following a trace that is
// still being written (issue 14): TraceModel::follow() and poll() append the
// new chunks without reloading, and after every poll the model answers every
// question exactly as a model opened on the file so far would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "model/trace_model.h"
#include "viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

std::filesystem::path temp_trace(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("ringscope-follow-" + name + "-" + std::to_string(::getpid()) + ".rtrace");
}

void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& bytes, size_t n) {
  test::write_prefix(p.string(), bytes, n);
}
using test::rechunk;

// Everything a frame asks of a model, compared.
void expect_same_model(const TraceModel& a, const TraceModel& b, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.origin_ns(), b.origin_ns());
  EXPECT_EQ(a.last_ns(), b.last_ns());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(event_to_json(a.event(i)), event_to_json(b.event(i))) << i;
  EXPECT_EQ(a.ring_transitions(), b.ring_transitions());
  TraceStats sa = a.stats(), sb = b.stats();  // the same but for the reader's verdict on the file's end
  sa.complete = sb.complete;
  sa.warning = sb.warning;
  EXPECT_EQ(stats_to_json(sa), stats_to_json(sb));
  EXPECT_EQ(a.stat_names(), b.stat_names());
  EXPECT_EQ(a.unstepped_runs(), b.unstepped_runs());
  ASSERT_EQ(a.tracks().size(), b.tracks().size());
  for (size_t v = 0; v < a.tracks().size(); ++v) {
    const VcpuTrack &x = a.tracks()[v], &y = b.tracks()[v];
    EXPECT_EQ(x.events, y.events);
    ASSERT_EQ(x.cpl.size(), y.cpl.size());
    for (size_t k = 0; k < x.cpl.size(); ++k) {
      EXPECT_EQ(x.cpl[k].time_ns, y.cpl[k].time_ns);
      EXPECT_EQ(x.cpl[k].cpl, y.cpl[k].cpl);
      EXPECT_EQ(x.cpl_before[k], y.cpl_before[k]);
    }
    ASSERT_EQ(x.root.size(), y.root.size());
    for (size_t k = 0; k < x.root.size(); ++k) {
      EXPECT_EQ(x.root[k].begin_ns, y.root[k].begin_ns);
      EXPECT_EQ(x.root[k].end_ns, y.root[k].end_ns);
      EXPECT_EQ(x.root_before[k], y.root_before[k]);
    }
    ASSERT_EQ(x.ring3.size(), y.ring3.size());
    for (size_t k = 0; k < x.ring3.size(); ++k) {
      EXPECT_EQ(x.ring3[k].begin_ns, y.ring3[k].begin_ns);
      EXPECT_EQ(x.ring3[k].end_ns, y.ring3[k].end_ns);
      EXPECT_EQ(x.ring3[k].steps, y.ring3[k].steps);
    }
    ASSERT_EQ(x.halted.size(), y.halted.size());
    for (size_t k = 0; k < x.halted.size(); ++k) {
      EXPECT_EQ(x.halted[k].begin_ns, y.halted[k].begin_ns);
      EXPECT_EQ(x.halted[k].end_ns, y.halted[k].end_ns);
      EXPECT_DOUBLE_EQ(x.halted[k].share, y.halted[k].share);
      EXPECT_EQ(x.halted_before[k], y.halted_before[k]);
    }
    for (int r = 0; r < kMarkRowCount; ++r) EXPECT_EQ(x.marks[r], y.marks[r]);
    ASSERT_EQ(x.phase_rows.size(), y.phase_rows.size());
    for (size_t d = 0; d < x.phase_rows.size(); ++d) {
      ASSERT_EQ(x.phase_rows[d].size(), y.phase_rows[d].size());
      for (size_t k = 0; k < x.phase_rows[d].size(); ++k) {
        EXPECT_EQ(x.phase_rows[d][k].begin_ns, y.phase_rows[d][k].begin_ns);
        EXPECT_EQ(x.phase_rows[d][k].end_ns, y.phase_rows[d][k].end_ns);
      }
    }
    // What a frame draws from them: time shares over a few windows.
    for (uint64_t t0 = a.first_ns(); t0 <= a.last_ns(); t0 += std::max<uint64_t>(1, (a.last_ns() - a.first_ns()) / 7)) {
      const TimeShare s = a.share(x.vcpu, t0, t0 + 50'000), u = b.share(y.vcpu, t0, t0 + 50'000);
      for (int r = 0; r < 4; ++r) EXPECT_EQ(s.cpl[r], u.cpl[r]);
      EXPECT_EQ(s.root, u.root);
      EXPECT_EQ(s.halted, u.halted);
    }
  }
}

class FollowTrace : public ::testing::TestWithParam<int> {};

// Each test trace, cut into small chunks and grown chunk by chunk (and at a
// few cuts inside chunks): after every poll the followed model equals a
// model opened on the same bytes, and at the end mark it stops following.
TEST_P(FollowTrace, EqualsAModelOpenedOnTheSameBytes) {
  std::vector<uint8_t> original;
  switch (GetParam()) {
    case 0: original = test::syscall_trace_bytes(); break;
    case 1: original = test::pvm_trace_bytes(); break;
    case 2: original = test::emulation_int_trace_bytes(); break;
    default: original = test::share_trace_bytes(); break;
  }
  // Chunks of 3 events, or about 40 chunks for a long trace (each step
  // compares every event).
  const size_t n = read_trace_bytes(original).value().events.size();
  std::vector<size_t> ends;
  const auto bytes = rechunk(original, std::max<size_t>(3, n / 40), ends);
  const auto path = temp_trace("model" + std::to_string(GetParam()));
  const auto snapshot = temp_trace("snapshot" + std::to_string(GetParam()));
  write_file(path, bytes, 0);
  auto followed = TraceModel::follow(path.string());
  ASSERT_TRUE(followed.ok()) << followed.error().message;
  TraceModel& m = *followed.value();
  EXPECT_TRUE(m.live());
  EXPECT_FALSE(m.has_header());
  size_t polled = 0;
  for (size_t k = 0; k < ends.size(); ++k) {
    // Part of the next chunk first: "not yet", nothing new.
    const size_t partial = k + 1 < ends.size() ? ends[k] + (ends[k + 1] - ends[k]) / 2 : ends[k];
    write_file(path, bytes, partial);
    auto n0 = m.poll();
    ASSERT_TRUE(n0.ok()) << n0.error().message;
    write_file(path, bytes, ends[k]);
    auto n = m.poll();
    ASSERT_TRUE(n.ok()) << n.error().message;
    polled += n0.value() + n.value();
    EXPECT_EQ(polled, m.size());
    EXPECT_TRUE(m.has_header());
    write_file(snapshot, bytes, ends[k]);
    auto opened = TraceModel::open(snapshot.string());
    ASSERT_TRUE(opened.ok());
    expect_same_model(m, *opened.value(), "after " + std::to_string(ends[k]) + " bytes");
    EXPECT_EQ(m.live(), k + 1 < ends.size());
  }
  EXPECT_FALSE(m.live());
  EXPECT_TRUE(m.complete());
  EXPECT_TRUE(m.warning().empty()) << m.warning();
  EXPECT_EQ(m.poll().value(), 0u);  // no longer following
  std::filesystem::remove(path);
  std::filesystem::remove(snapshot);
}

INSTANTIATE_TEST_SUITE_P(TestTraces, FollowTrace, ::testing::Values(0, 1, 2, 3));

// Hundreds of chunks of one event, each first half written: every poll
// reads whole chunks only and the model ends equal to an opened one.
TEST(FollowTraceGrowth, ManySmallChunks) {
  std::vector<size_t> ends;
  const auto bytes = rechunk(test::syscall_trace_bytes(), 1, ends);

  const auto path = temp_trace("small");
  write_file(path, bytes, 0);
  auto m = std::move(TraceModel::follow(path.string())).value();
  for (size_t k = 0; k < ends.size(); ++k) {
    const size_t partial = k + 1 < ends.size() ? ends[k] + (ends[k + 1] - ends[k]) / 2 : ends[k];
    write_file(path, bytes, partial);
    auto n0 = m->poll();
    ASSERT_TRUE(n0.ok()) << k << " of " << ends.size() << ": " << n0.error().message << " partial " << partial;
    write_file(path, bytes, ends[k]);
    auto n = m->poll();
    ASSERT_TRUE(n.ok()) << k << " of " << ends.size() << ": " << n.error().message << " end " << ends[k];
  }
  EXPECT_FALSE(m->live());
  expect_same_model(*m, *std::move(TraceModel::open(path.string())).value(), "at the end");
  std::filesystem::remove(path);
}

// A followed model holds what an opened one does per event: once the run
// ends its arrays are trimmed the same way.
TEST(FollowTraceMemory, SameBytesPerEventAsOpen) {
  std::vector<size_t> ends;
  const auto bytes = rechunk(test::syscall_trace_bytes(8), 5, ends);
  const auto path = temp_trace("memory");
  write_file(path, bytes, 0);
  auto m = std::move(TraceModel::follow(path.string())).value();
  for (size_t end : ends) {
    write_file(path, bytes, end);
    ASSERT_TRUE(m->poll().ok());
  }
  auto opened = std::move(TraceModel::open(path.string())).value();
  EXPECT_EQ(m->memory_bytes(), opened->memory_bytes());
  std::filesystem::remove(path);
}

TEST(FollowTraceErrors, DamageTruncationAndNoFile) {
  std::vector<size_t> ends;
  auto bytes = rechunk(test::syscall_trace_bytes(), 4, ends);
  const auto path = temp_trace("errors");
  // A damaged chunk: the model keeps the chunks before it and says where.
  auto damaged = bytes;
  damaged[ends[2] + 45] ^= 0x01;
  write_file(path, damaged, damaged.size());
  auto m = std::move(TraceModel::follow(path.string())).value();
  EXPECT_EQ(m->size(), 8u);
  EXPECT_FALSE(m->live());
  EXPECT_FALSE(m->complete());
  EXPECT_NE(m->warning().find("at byte " + std::to_string(ends[2])), std::string::npos) << m->warning();
  // Truncated under the follower: an error, the events so far kept.
  write_file(path, bytes, ends[3]);
  m = std::move(TraceModel::follow(path.string())).value();
  EXPECT_EQ(m->size(), 12u);
  write_file(path, bytes, ends[1]);
  auto n = m->poll();
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(m->size(), 12u);
  EXPECT_FALSE(m->live());
  EXPECT_NE(m->warning().find("shorter"), std::string::npos) << m->warning();
  std::filesystem::remove(path);
  EXPECT_EQ(TraceModel::follow(path.string()).error().kind, ErrorKind::NoInput);
}

}  // namespace
}  // namespace ringscope::viewer
