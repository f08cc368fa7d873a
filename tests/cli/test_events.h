// test_events.h — made-up events for the CLI tests, with the strings they
// point at kept alive (Event holds string_views).
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "ringscope/event.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/trace.h"

namespace ringscope::test {

// Builds a Trace in memory: events get dense seqs and 1 µs apart times
// unless the caller sets time_ns itself.
class TraceBuilder {
 public:
  Event& add(Event e) {
    e.seq = trace_.events.size();
    if (e.time_ns == 0) e.time_ns = 1'000'000 + 1000 * e.seq;
    trace_.events.push_back(e);
    return trace_.events.back();
  }
  std::string_view keep(std::string s) { return trace_.strings.emplace_back(std::move(s)); }

  Event& io_exit(uint16_t port, Direction dir, uint64_t value, uint64_t duration_ns, uint32_t vcpu = 0) {
    Event e;
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.reason = exit_reason::kIoInstruction;
    e.handled_by = HandledBy::Vmm;
    e.port = port;
    e.direction = dir;
    e.size = 1;
    e.value = value;
    e.duration_ns = duration_ns;
    e.rip = 0x100a3c;
    e.vcpu = vcpu;
    return add(e);
  }
  Event& exit(uint16_t reason, uint64_t duration_ns, uint32_t vcpu = 0) {
    Event e;
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.reason = reason;
    e.handled_by = HandledBy::Vmm;
    e.duration_ns = duration_ns;
    e.vcpu = vcpu;
    return add(e);
  }
  Event& trap(TrapCause cause, uint8_t vector, uint8_t from, uint8_t to, uint32_t vcpu = 0) {
    Event e;
    e.kind = EventKind::Trap;
    e.source = Source::SingleStep;
    e.cause = cause;
    e.vector = vector;
    e.from_cpl = from;
    e.to_cpl = to;
    e.rip = 0x401000;
    e.rip_to = 0x100200;
    e.vcpu = vcpu;
    return add(e);
  }
  Event& trap_return(TrapCause cause, uint8_t from, uint8_t to) {
    Event e;
    e.kind = EventKind::TrapReturn;
    e.source = Source::SingleStep;
    e.cause = cause;
    e.from_cpl = from;
    e.to_cpl = to;
    e.rip = 0x100300;
    e.rip_to = 0x401002;
    return add(e);
  }
  Event& marker(MarkerPhase phase, std::string label, uint32_t vcpu = 0) {
    Event e;
    e.kind = EventKind::Marker;
    e.source = Source::Guest;
    e.phase = phase;
    e.name = keep(std::move(label));
    e.vcpu = vcpu;
    return add(e);
  }
  Event& counter(std::string name, uint64_t value, Source source = Source::KvmStats) {
    Event e;
    e.kind = EventKind::Counter;
    e.source = source;
    e.name = keep(std::move(name));
    e.value = value;
    return add(e);
  }
  Event& output(std::string text) {
    Event e;
    e.kind = EventKind::Output;
    e.source = Source::Vmm;
    e.text = keep(std::move(text));
    return add(e);
  }

  Trace& trace() { return trace_; }

 private:
  Trace trace_;
};

}  // namespace ringscope::test
