// trace_test_util.h — events with every field set, field-by-field
// comparison, and small helpers shared by the trace tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ringscope/event.h"
#include "ringscope/trace.h"

namespace ringscope::testing {

inline TraceHeader sample_header() {
  TraceHeader h;
  h.scenario = "syscalls";
  h.mode = "full-virt";
  h.level = "exits";
  h.params = "n=16";
  h.host_kernel = "6.1.0-test";
  h.kvm_flavour = "VMX";
  h.cpu_model = "Test CPU @ 3.00GHz";
  h.tool_version = "0.1.0";
  h.start_unix_ns = 1'700'000'000'000'000'000ull;
  h.start_mono_ns = 123'456'789;
  h.vcpus = 2;
  h.disk_cache = "none";
  return h;
}

// Keeps the bytes behind events' string views and register pointers.
struct EventFactory {
  std::mt19937_64 rng{42};
  std::vector<std::unique_ptr<std::string>> strings;
  std::vector<std::unique_ptr<GuestRegs>> regs;
  uint64_t time = 1'000'000;

  std::string_view keep(std::string s) { return *strings.emplace_back(std::make_unique<std::string>(std::move(s))); }
  uint64_t any() { return rng(); }
  uint64_t small(uint64_t n) { return rng() % n; }

  // Every field of the Event set to something non-default (random widths).
  Event full(EventKind kind) {
    Event e;
    e.time_ns = time += 100 + small(5000);
    e.vcpu = static_cast<uint32_t>(small(3));
    e.kind = kind;
    e.source = static_cast<Source>(small(kSourceCount));
    e.reason = static_cast<uint16_t>(any());
    e.handled_by = static_cast<HandledBy>(1 + small(2));
    e.duration_ns = any() >> small(64);
    e.rip = any();
    e.cpl = static_cast<uint8_t>(any());
    e.direction = static_cast<Direction>(1 + small(4));
    e.size = static_cast<uint8_t>(any());
    e.port = static_cast<uint16_t>(any());
    e.count = static_cast<uint32_t>(any());
    e.value = any();
    e.gpa = any();
    e.length = static_cast<uint32_t>(any());
    e.vector = static_cast<uint8_t>(any());
    e.error_code = static_cast<uint32_t>(any());
    e.has_error_code = true;
    e.cr2 = any();
    e.from_cpl = static_cast<uint8_t>(any());
    e.to_cpl = static_cast<uint8_t>(any());
    e.cause = static_cast<TrapCause>(1 + small(6));  // the trap causes (not hlt: keeps the stream)
    e.rip_to = any();
    e.number = any();
    e.args = {any(), any(), any(), any()};
    e.result = any();
    e.transport = static_cast<Transport>(1 + small(3));
    e.cr0 = any();
    e.cr4 = any();
    e.efer = any();
    e.prev_cr0 = any();
    e.prev_cr4 = any();
    e.prev_efer = any();
    e.phase = static_cast<MarkerPhase>(1 + small(2));
    e.end_reason = static_cast<RunEndReason>(1 + small(kRunEndReasonCount - 1));
    e.device = keep("dev" + std::to_string(small(4)));
    e.reg = keep("REG" + std::to_string(small(6)));
    e.name = keep("name-" + std::to_string(small(8)));
    e.text = keep(std::string(1 + small(100), static_cast<char>('a' + small(26))));
    // Derived from values already drawn, so the random stream (and every
    // test that depends on it) stays as it was before these fields existed.
    e.from_world = static_cast<BtWorld>(1 + e.rip % (kBtWorldCount - 1));
    e.to_world = static_cast<BtWorld>(1 + e.gpa % (kBtWorldCount - 1));
    e.insn = static_cast<BtInsn>(1 + e.number % (kBtInsnCount - 1));
    e.via = static_cast<IrqVia>(1 + e.value % (kIrqViaCount - 1));
    auto r = std::make_unique<GuestRegs>();
    uint64_t* words = &r->rax;
    for (int i = 0; i < 23; ++i) words[i] = any();
    r->cs = 0x10;
    r->ss = 0x18;
    r->cpl = 3;
    e.regs = regs.emplace_back(std::move(r)).get();
    return e;
  }

  // A typical port-I/O exit of a guest printing through the UART: an LSR
  // poll or a THR write, with the device event the VMM emits after it.
  Event io_exit(bool thr, char c) {
    Event e;
    e.time_ns = time += 1500 + small(3000);
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.reason = 30;
    e.handled_by = HandledBy::Vmm;
    e.rip = thr ? 0xffffffff81001234ull : 0xffffffff81001220ull;
    e.cpl = 0;
    e.port = thr ? 0x3f8 : 0x3fd;
    e.size = 1;
    e.direction = thr ? Direction::Out : Direction::In;
    e.value = thr ? static_cast<uint8_t>(c) : 0x60;
    e.duration_ns = 1800 + small(1500);
    return e;
  }
  Event uart_device(bool thr, char c) {
    Event e;
    e.time_ns = time += 200 + small(300);
    e.kind = EventKind::Device;
    e.source = Source::Vmm;
    e.device = "uart";
    e.reg = thr ? "THR" : "LSR";
    e.direction = thr ? Direction::Write : Direction::Read;
    e.size = 1;
    e.value = thr ? static_cast<uint8_t>(c) : 0x60;
    e.duration_ns = 50 + small(100);
    return e;
  }
};

inline void expect_same_event(const Event& a, const Event& b) {
  SCOPED_TRACE("seq " + std::to_string(a.seq) + ", kind " + std::string(kind_name(a.kind)));
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.time_ns, b.time_ns);
  EXPECT_EQ(a.vcpu, b.vcpu);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.handled_by, b.handled_by);
  EXPECT_EQ(a.duration_ns, b.duration_ns);
  EXPECT_EQ(a.rip, b.rip);
  EXPECT_EQ(a.cpl, b.cpl);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.gpa, b.gpa);
  EXPECT_EQ(a.length, b.length);
  EXPECT_EQ(a.vector, b.vector);
  EXPECT_EQ(a.error_code, b.error_code);
  EXPECT_EQ(a.has_error_code, b.has_error_code);
  EXPECT_EQ(a.cr2, b.cr2);
  EXPECT_EQ(a.from_cpl, b.from_cpl);
  EXPECT_EQ(a.to_cpl, b.to_cpl);
  EXPECT_EQ(a.cause, b.cause);
  EXPECT_EQ(a.rip_to, b.rip_to);
  EXPECT_EQ(a.number, b.number);
  EXPECT_EQ(a.args, b.args);
  EXPECT_EQ(a.result, b.result);
  EXPECT_EQ(a.transport, b.transport);
  EXPECT_EQ(a.cr0, b.cr0);
  EXPECT_EQ(a.cr4, b.cr4);
  EXPECT_EQ(a.efer, b.efer);
  EXPECT_EQ(a.prev_cr0, b.prev_cr0);
  EXPECT_EQ(a.prev_cr4, b.prev_cr4);
  EXPECT_EQ(a.prev_efer, b.prev_efer);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.end_reason, b.end_reason);
  EXPECT_EQ(a.access, b.access);
  EXPECT_EQ(a.from_world, b.from_world);
  EXPECT_EQ(a.to_world, b.to_world);
  EXPECT_EQ(a.insn, b.insn);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.reg, b.reg);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.text, b.text);
  ASSERT_EQ(a.regs == nullptr, b.regs == nullptr);
  if (a.regs) {
    EXPECT_EQ(0, std::memcmp(a.regs, b.regs, offsetof(GuestRegs, cpl) + 1));
  }
}

// Writes `events` (flushing after every `per_chunk` events, 0: never) into
// memory and returns the file's bytes. Events get their seq from the writer.
inline std::vector<uint8_t> write_trace(std::vector<Event>& events, size_t per_chunk = 0, bool close = true,
                                        std::vector<size_t>* chunk_ends = nullptr) {
  auto w = TraceWriter::create_in_memory(sample_header());
  if (chunk_ends) chunk_ends->push_back(w->bytes_written());
  for (size_t i = 0; i < events.size(); ++i) {
    w->emit(events[i]);
    if (per_chunk && (i + 1) % per_chunk == 0) {
      EXPECT_TRUE(w->flush().ok());
      if (chunk_ends) chunk_ends->push_back(w->bytes_written());
    }
  }
  if (close) {
    EXPECT_TRUE(w->close().ok());
  } else {
    EXPECT_TRUE(w->flush().ok());
  }
  if (chunk_ends && (chunk_ends->empty() || chunk_ends->back() != w->bytes_written()))
    chunk_ends->push_back(w->bytes_written());
  return w->memory_bytes();
}

// What a streaming read (for_each_event) delivered, with each event's
// strings and registers copied out during the callback, as a caller must.
struct Streamed {
  Status status = ok_status();
  TraceHeader header;
  ReadSummary summary;
  std::vector<Event> events;
  std::deque<std::string> strings;
  std::deque<GuestRegs> regs;
};

// Streams `bytes`; the callback asks to stop after `stop_after` events (0:
// never).
inline Streamed stream_bytes(const std::vector<uint8_t>& bytes, const ReadOptions& options = {},
                             uint64_t stop_after = 0) {
  Streamed out;
  out.status = for_each_event_bytes(
      bytes.data(), bytes.size(), options,
      [&](const Event& e) {
        Event& kept = out.events.emplace_back(e);
        for (std::string_view* s : {&kept.device, &kept.reg, &kept.name, &kept.text})
          if (!s->empty()) *s = out.strings.emplace_back(*s);
        if (kept.regs) kept.regs = &out.regs.emplace_back(*kept.regs);
        return stop_after == 0 || out.events.size() < stop_after;
      },
      &out.header, &out.summary);
  return out;
}

// for_each_event_bytes and read_trace_bytes agree on `bytes`: the same
// error, or the same header, events, completeness and warning.
inline void expect_stream_matches_read_trace(const std::vector<uint8_t>& bytes, const ReadOptions& options = {}) {
  auto t = read_trace_bytes(bytes, options);
  Streamed s = stream_bytes(bytes, options);
  if (!t.ok()) {
    ASSERT_FALSE(s.status.ok());
    EXPECT_EQ(s.status.error().kind, t.error().kind);
    EXPECT_EQ(s.status.error().message, t.error().message);
    return;
  }
  ASSERT_TRUE(s.status.ok()) << s.status.error().message;
  EXPECT_EQ(header_to_json(s.header), header_to_json(t->header));
  EXPECT_EQ(s.summary.complete, t->complete);
  EXPECT_EQ(s.summary.warning, t->warning);
  EXPECT_EQ(s.summary.events, t->events.size());
  ASSERT_EQ(s.events.size(), t->events.size());
  for (size_t i = 0; i < s.events.size(); ++i) expect_same_event(t->events[i], s.events[i]);
}

}  // namespace ringscope::testing
