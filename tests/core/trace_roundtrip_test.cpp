// Round trips through TraceWriter and read_trace: every kind with every
// field, headers, chunking, strings, files on disk.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "trace/crc32.h"
#include "trace/format.h"
#include "trace/header_codec.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

using testing::EventFactory;
using testing::expect_same_event;
using testing::sample_header;
using testing::write_trace;

TEST(TraceCrc, MatchesTheStandardCheckValue) {
  const char* s = "123456789";
  EXPECT_EQ(trace::crc32(s, 9), 0xCBF43926u);
  // Incremental and all-at-once agree (the slicing loop and the tail loop).
  std::string long_text(1000, 'x');
  for (size_t i = 0; i < long_text.size(); ++i) long_text[i] = static_cast<char>(i * 7);
  EXPECT_EQ(trace::crc32(long_text.data(), long_text.size()),
            trace::crc32(long_text.data() + 13, long_text.size() - 13, trace::crc32(long_text.data(), 13)));
}

TEST(TraceCrc, EveryLengthAndAlignmentMatchesABitwiseCrc) {
  // The carry-less multiplication path (64 bytes and up, where the CPU has
  // it) and the table path must agree with the definition everywhere.
  auto bitwise = [](const uint8_t* p, size_t n, uint32_t crc) {
    crc = ~crc;
    while (n--) {
      crc ^= *p++;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
  };
  std::mt19937_64 rng(3);
  std::vector<uint8_t> buf(70'000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t len = 0; len < 300; ++len) {
    for (size_t off : {0, 1, 7, 15}) {
      const auto seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(trace::crc32(buf.data() + off, len, seed), bitwise(buf.data() + off, len, seed)) << len << "+" << off;
    }
  }
  for (size_t len : {1000, 4096, 65'536, 65'537, 69'000}) {
    ASSERT_EQ(trace::crc32(buf.data() + 3, len), bitwise(buf.data() + 3, len, 0)) << len;
  }
}

TEST(TraceRoundTrip, EveryKindWithEveryField) {
  EventFactory f;
  std::vector<Event> events;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < kEventKindCount; ++k) events.push_back(f.full(static_cast<EventKind>(k)));
  }
  const auto bytes = write_trace(events, 37);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->complete);
  EXPECT_EQ(t->warning, "");
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, i);
    expect_same_event(events[i], t->events[i]);
  }
}

TEST(TraceRoundTrip, DefaultEventsAndEmptyTrace) {
  std::vector<Event> none;
  auto t = read_trace_bytes(write_trace(none));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->complete);
  EXPECT_TRUE(t->events.empty());

  std::vector<Event> events(5);  // default-constructed: a marker at time 0
  for (int k = 0; k < kEventKindCount; ++k) events.emplace_back().kind = static_cast<EventKind>(k);
  auto t2 = read_trace_bytes(write_trace(events));
  ASSERT_TRUE(t2.ok());
  ASSERT_EQ(t2->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) expect_same_event(events[i], t2->events[i]);
}

TEST(TraceRoundTrip, HeaderFields) {
  std::vector<Event> none;
  auto t = read_trace_bytes(write_trace(none));
  ASSERT_TRUE(t.ok());
  const TraceHeader want = sample_header();
  EXPECT_EQ(t->header.format_version, kTraceFormatVersion);
  EXPECT_EQ(t->header.schema_version, kTraceSchemaVersion);
  EXPECT_EQ(t->header.scenario, want.scenario);
  EXPECT_EQ(t->header.mode, want.mode);
  EXPECT_EQ(t->header.level, want.level);
  EXPECT_EQ(t->header.params, want.params);
  EXPECT_EQ(t->header.host_kernel, want.host_kernel);
  EXPECT_EQ(t->header.kvm_flavour, want.kvm_flavour);
  EXPECT_EQ(t->header.cpu_model, want.cpu_model);
  EXPECT_EQ(t->header.tool_version, want.tool_version);
  EXPECT_EQ(t->header.start_unix_ns, want.start_unix_ns);
  EXPECT_EQ(t->header.start_mono_ns, want.start_mono_ns);
  EXPECT_EQ(t->header.vcpus, want.vcpus);
  EXPECT_EQ(t->header.disk_cache, want.disk_cache);
}

// A header written before disk_cache was appended (it ends after vcpus)
// still reads, with the mode empty.
TEST(TraceRoundTrip, HeaderWithoutTheDiskCacheMode) {
  TraceHeader h = sample_header();
  h.disk_cache.clear();
  std::vector<uint8_t> bytes = trace::encode_file_header(h);
  // Drop the empty string's length byte: the block as an older writer made it.
  const uint32_t block = bytes[16] | bytes[17] << 8 | bytes[18] << 16 | uint32_t(bytes[19]) << 24;
  ASSERT_EQ(bytes[20 + block - 1], 0);
  bytes.erase(bytes.begin() + 20 + block - 1);
  const uint32_t shorter = block - 1;
  for (int i = 0; i < 4; i++) bytes[16 + i] = static_cast<uint8_t>(shorter >> (8 * i));
  const uint32_t crc = trace::crc32(bytes.data(), 20 + shorter);
  for (int i = 0; i < 4; i++) bytes[20 + shorter + i] = static_cast<uint8_t>(crc >> (8 * i));
  size_t size = 0;
  auto back = trace::decode_file_header(bytes.data(), bytes.size(), size);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(size, bytes.size());
  EXPECT_EQ(back->vcpus, h.vcpus);
  EXPECT_EQ(back->disk_cache, "");
}

TEST(TraceRoundTrip, ExtremeValuesAndTimeGoingBackwards) {
  std::vector<Event> events;
  for (uint64_t v : {uint64_t{0}, ~uint64_t{0}, uint64_t{1} << 63, uint64_t{1}, ~uint64_t{0} - 1}) {
    Event e;
    e.kind = EventKind::VmExit;
    e.time_ns = v;
    e.rip = v;
    e.value = ~v;
    e.duration_ns = v;
    e.port = static_cast<uint16_t>(v);
    e.vcpu = static_cast<uint32_t>(v);
    e.count = static_cast<uint32_t>(~v);
    events.push_back(e);
  }
  auto t = read_trace_bytes(write_trace(events));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) expect_same_event(events[i], t->events[i]);
}

TEST(TraceRoundTrip, ManyChunksOfHotEventsStaySmall) {
  EventFactory f;
  std::vector<Event> events;
  const std::string text = "hello, ring 3! ";
  for (int i = 0; i < 200'000; ++i) {
    const char c = text[static_cast<size_t>(i / 2) % text.size()];
    events.push_back(f.io_exit(i % 2 == 1, c));
  }
  const auto bytes = write_trace(events);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->complete);
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); i += 997) expect_same_event(events[i], t->events[i]);
  expect_same_event(events.back(), t->events.back());
  const double per_event = static_cast<double>(bytes.size()) / static_cast<double>(events.size());
  EXPECT_LT(per_event, 10.0) << "I/O exits should be compact";
}

TEST(TraceRoundTrip, StringsLongManyAndShared) {
  std::vector<std::string> storage;
  storage.reserve(5000);
  std::vector<Event> events;
  // More distinct short strings than one chunk interns, then long ones.
  for (int i = 0; i < 3000; ++i) {
    Event e;
    e.kind = EventKind::Counter;
    e.name = storage.emplace_back("counter-" + std::to_string(i));
    e.value = static_cast<uint64_t>(i);
    events.push_back(e);
  }
  Event out;
  out.kind = EventKind::Output;
  out.text = storage.emplace_back(std::string(200'000, 'z'));
  events.push_back(out);
  // One new string in two fields of the same event.
  Event dev;
  dev.kind = EventKind::Device;
  dev.device = storage.emplace_back("same");
  dev.reg = storage.emplace_back("same");
  dev.name = storage.emplace_back("same");
  events.push_back(dev);
  events.push_back(dev);
  // Binary bytes and an embedded NUL.
  Event step;
  step.kind = EventKind::Step;
  step.text = storage.emplace_back(std::string("\x0f\x01\x00\xc3", 4));
  events.push_back(step);

  auto t = read_trace_bytes(write_trace(events));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) expect_same_event(events[i], t->events[i]);
}

TEST(TraceRoundTrip, OversizedStringIsCutToTheLimit) {
  std::string huge(trace::kMaxEventString + 100, 'q');
  std::vector<Event> events(1);
  events[0].kind = EventKind::Output;
  events[0].text = huge;
  auto t = read_trace_bytes(write_trace(events));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->events.size(), 1u);
  EXPECT_EQ(t->events[0].text.size(), trace::kMaxEventString);
}

TEST(TraceRoundTrip, FileOnDisk) {
  const auto path = std::filesystem::temp_directory_path() / ("ringscope-rt-" + std::to_string(::getpid()) + ".rtrace");
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 50'000; ++i) events.push_back(i % 3 ? f.io_exit(i % 2, 'x') : f.uart_device(i % 2, 'x'));
  {
    auto w = TraceWriter::create(path.string(), sample_header());
    ASSERT_TRUE(w.ok()) << w.error().message;
    for (auto& e : events) (*w)->emit(e);
    EXPECT_EQ((*w)->events_written(), events.size());
    ASSERT_TRUE((*w)->close().ok());
    EXPECT_EQ((*w)->bytes_written(), std::filesystem::file_size(path));
  }
  auto t = read_trace(path.string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->complete);
  ASSERT_EQ(t->events.size(), events.size());
  for (size_t i = 0; i < events.size(); i += 101) expect_same_event(events[i], t->events[i]);
  std::filesystem::remove(path);

  auto missing = read_trace(path.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NoInput);
  auto bad_dir = TraceWriter::create("/nonexistent-dir/x.rtrace", sample_header());
  ASSERT_FALSE(bad_dir.ok());
  EXPECT_EQ(bad_dir.error().kind, ErrorKind::IoError);
}

TEST(TraceRoundTrip, StreamingAFileGivesWhatReadTraceGives) {
  const auto path =
      std::filesystem::temp_directory_path() / ("ringscope-stream-" + std::to_string(::getpid()) + ".rtrace");
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 30'000; ++i)
    events.push_back(i % 1000 == 7 ? f.full(static_cast<EventKind>(i % kEventKindCount))
                     : i % 3       ? f.io_exit(i % 2, 'x')
                                   : f.uart_device(i % 2, 'x'));
  {
    auto w = TraceWriter::create(path.string(), sample_header());
    ASSERT_TRUE(w.ok()) << w.error().message;
    for (auto& e : events) (*w)->emit(e);
    ASSERT_TRUE((*w)->close().ok());
  }
  auto t = read_trace(path.string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  TraceHeader header;
  ReadSummary summary;
  size_t n = 0;
  auto s = for_each_event(
      path.string(), {},
      [&](const Event& e) {
        expect_same_event(t->events[n++], e);  // strings are valid during the call
        return true;
      },
      &header, &summary);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(n, events.size());
  EXPECT_EQ(summary.events, events.size());
  EXPECT_TRUE(summary.complete);
  EXPECT_EQ(summary.warning, "");
  EXPECT_EQ(header_to_json(header), header_to_json(t->header));
  // A cut file: the same warning from both.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1000);
  auto cut = read_trace(path.string());
  ASSERT_TRUE(cut.ok());
  summary = {};
  s = for_each_event(
      path.string(), {}, [](const Event&) { return true; }, nullptr, &summary);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(summary.events, cut->events.size());
  EXPECT_EQ(summary.warning, cut->warning);
  std::filesystem::remove(path);

  s = for_each_event(path.string(), {}, [](const Event&) { return true; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::NoInput);
  EXPECT_NE(s.error().message.find(path.string()), std::string::npos);
  // A file that is not a trace: the header error names the file, as read_trace's does.
  {
    std::FILE* junk = std::fopen(path.c_str(), "wb");
    ASSERT_NE(junk, nullptr);
    std::fputs("not a trace at all", junk);
    std::fclose(junk);
  }
  s = for_each_event(path.string(), {}, [](const Event&) { return true; });
  auto r = read_trace(path.string());
  ASSERT_FALSE(s.ok());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::BadData);
  EXPECT_EQ(s.error().message, r.error().message);
  EXPECT_EQ(s.error().message.rfind(path.string() + ": ", 0), 0u) << s.error().message;
  std::filesystem::remove(path);
}

// TraceStore holds a whole trace as its chunks: the same events as
// read_trace, in any order of access, for a few bytes per event.
TEST(TraceRoundTrip, StoreGivesWhatReadTraceGivesInAnyOrder) {
  EventFactory f;
  std::vector<Event> events;
  for (int i = 0; i < 30'000; ++i)
    events.push_back(i % 1000 == 7 ? f.full(static_cast<EventKind>(i % kEventKindCount))
                     : i % 3       ? f.io_exit(i % 2, 'x')
                                   : f.uart_device(i % 2, 'x'));
  const auto bytes = write_trace(events);
  auto t = read_trace_bytes(bytes);
  ASSERT_TRUE(t.ok());
  auto store = TraceStore::from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_EQ(store->size(), t->events.size());
  EXPECT_TRUE(store->complete());
  EXPECT_EQ(header_to_json(store->header()), header_to_json(t->header));
  std::mt19937 rng(3);
  for (int k = 0; k < 200; ++k) {
    const uint64_t i = rng() % store->size();
    expect_same_event(t->events[i], store->at(i));
  }
  size_t n = 0;
  store->for_each([&](const Event& e) {
    expect_same_event(t->events[n++], e);
    return true;
  });
  EXPECT_EQ(n, events.size());
  // Held: the chunks (at most the file's size) and one decoded chunk (a
  // chunk's 64 KiB payload holds at most 32 Ki events).
  EXPECT_LT(store->memory_bytes(), bytes.size() + 2 * (trace::kChunkTarget / trace::kMinEventBytes) * sizeof(Event));
  // max_events and a cut file: the same as read_trace.
  auto few = TraceStore::from_bytes(bytes.data(), bytes.size(), ReadOptions{.max_events = 12'345});
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(few->size(), 12'345u);
  EXPECT_FALSE(few->complete());
  expect_same_event(t->events[12'344], few->at(12'344));
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1000);
  auto cut_store = TraceStore::from_bytes(cut.data(), cut.size());
  auto cut_read = read_trace_bytes(cut);
  ASSERT_TRUE(cut_store.ok());
  ASSERT_TRUE(cut_read.ok());
  EXPECT_EQ(cut_store->size(), cut_read->events.size());
  EXPECT_EQ(cut_store->warning(), cut_read->warning);
}

TEST(TraceRoundTrip, WriterIsUsableFromSeveralThreads) {
  auto w = TraceWriter::create_in_memory(sample_header());
  constexpr int kThreads = 4, kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Event e;
        e.kind = EventKind::VmExit;
        e.vcpu = static_cast<uint32_t>(t);
        e.value = static_cast<uint64_t>(i);
        w->emit(e);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(w->close().ok());
  auto t = read_trace_bytes(w->memory_bytes());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->events.size(), size_t{kThreads * kEach});
  std::vector<uint64_t> next(kThreads, 0);
  for (size_t i = 0; i < t->events.size(); ++i) {
    const Event& e = t->events[i];
    EXPECT_EQ(e.seq, i);
    ASSERT_LT(e.vcpu, uint32_t{kThreads});
    EXPECT_EQ(e.value, next[e.vcpu]++);  // each thread's events stay in its order
  }
}

}  // namespace
}  // namespace ringscope
