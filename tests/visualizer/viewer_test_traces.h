// viewer_test_traces.h — small traces with known content for the viewer's
// tests, written through the real TraceWriter so they are read back exactly
// as a file from `ringscope run` would be.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ringscope/exit_reasons.h"
#include "ringscope/trace.h"

namespace ringscope::viewer::test {

// A syscall-like run on one vCPU, times in µs after start (origin 1 s):
//   0..100 µs   ring 0 steps (boot), one UART exit at 50 µs (4 µs in the VMM)
//   100 µs      iretq to ring 3
//   100..300 µs ring 3 steps
//   300 µs      #UD trap into ring 0 (the "system call")
//   300..400 µs ring 0 steps; UART exit at 350 µs
//   400 µs      iretq back to ring 3; steps until 500 µs; run_end at 500 µs
// Markers "begin run" at 90 µs and "end run" at 480 µs.
inline constexpr uint64_t kOrigin = 1'000'000'000;
inline constexpr uint64_t us(uint64_t n) { return kOrigin + n * 1000; }

inline std::vector<uint8_t> syscall_trace_bytes(int exits_per_write = 1) {
  TraceHeader h;
  h.scenario = "syscalls";
  h.mode = "full-virt";
  h.level = "full";
  h.start_mono_ns = kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  static const std::string nop("\x90", 1), out_insn("\xee", 1), ud2("\x0f\x0b", 2), iretq("\x48\xcf", 2);
  auto step = [&](uint64_t t, uint8_t cpl, uint64_t rip, const std::string& bytes) {
    Event e;
    e.kind = EventKind::Step;
    e.source = Source::SingleStep;
    e.time_ns = t;
    e.cpl = cpl;
    e.rip = rip;
    e.text = bytes;
    w->emit(e);
  };
  auto uart_exit = [&](uint64_t t, uint64_t rip) {
    for (int k = 0; k < exits_per_write; ++k) {
      Event e;
      e.kind = EventKind::VmExit;
      e.source = Source::KvmExit;
      e.time_ns = t + k * 10;
      e.reason = exit_reason::kIoInstruction;
      e.handled_by = HandledBy::Vmm;
      e.direction = Direction::Out;
      e.port = 0x3f8;
      e.size = 1;
      e.value = 'h';
      e.duration_ns = 4000;
      e.rip = rip;
      w->emit(e);
    }
  };
  auto ring = [&](EventKind kind, TrapCause cause, uint8_t vector, uint64_t t, uint8_t from, uint8_t to) {
    Event e;
    e.kind = kind;
    e.source = Source::SingleStep;
    e.time_ns = t;
    e.cause = cause;
    e.vector = vector;
    e.from_cpl = from;
    e.to_cpl = to;
    e.rip = from == 3 ? 0x8000000097 : 0x1001ee;
    e.rip_to = to == 3 ? 0x8000000097 : 0x100122;
    w->emit(e);
  };
  auto marker = [&](uint64_t t, MarkerPhase phase) {
    Event e;
    e.kind = EventKind::Marker;
    e.source = Source::Guest;
    e.time_ns = t;
    e.phase = phase;
    e.name = "run";
    w->emit(e);
  };
  for (uint64_t t = 0; t < 100; t += 2) {
    if (t == 50) {
      step(us(t), 0, 0x102304, out_insn);
      uart_exit(us(t) + 100, 0x102305);  // KVM reports the RIP after the 1-byte out
      continue;
    }
    if (t == 90) marker(us(t), MarkerPhase::Begin);
    step(us(t), 0, 0x100000 + t, nop);
  }
  ring(EventKind::TrapReturn, TrapCause::Iret, 0, us(100), 0, 3);
  for (uint64_t t = 100; t < 300; t += 2) step(us(t) + 1, 3, 0x8000000000 + t, nop);
  ring(EventKind::Trap, TrapCause::Exception, 6, us(300), 3, 0);
  for (uint64_t t = 300; t < 400; t += 2) {
    if (t == 350) {
      step(us(t) + 1, 0, 0x102304, out_insn);
      uart_exit(us(t) + 100, 0x102305);  // KVM reports the RIP after the 1-byte out
      continue;
    }
    step(us(t) + 1, 0, 0x100100 + t, nop);
  }
  ring(EventKind::TrapReturn, TrapCause::Iret, 0, us(400), 0, 3);
  for (uint64_t t = 400; t < 500; t += 2) {
    if (t == 480) marker(us(t), MarkerPhase::End);
    step(us(t) + 1, 3, 0x8000000000 + t, nop);
  }
  Event end;
  end.kind = EventKind::RunEnd;
  end.source = Source::Vmm;
  end.time_ns = us(500);
  end.end_reason = RunEndReason::GuestExit;
  w->emit(end);
  (void)w->close();
  return w->memory_bytes();
}

inline Trace syscall_trace(int exits_per_write = 1) {
  auto t = read_trace_bytes(syscall_trace_bytes(exits_per_write));
  return std::move(t).value();
}

// A run as recorded on a host that does not single-step ring 3 (PVM), with
// nested and overlapping phases, times in µs after start:
//   phase "run" 10..90 µs, inside it "fault" 20..60 µs and "overlap"
//   50..80 µs (overlapping "fault");
//   at 40 µs and at 70 µs an iretq to ring 3 and, at the same ns, a #PF back
//   to ring 0: two ring-3 visits of zero length, each followed by an
//   `unstepped_runs` counter; run_end at 0.5 s (far from the visits, so the
//   selected run_end's line never covers them).
inline std::vector<uint8_t> pvm_trace_bytes() {
  TraceHeader h;
  h.scenario = "pagefault";
  h.mode = "full-virt";
  h.level = "full";
  h.start_mono_ns = kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  static const std::string nop("\x90", 1);
  auto step = [&](uint64_t t) {
    Event e;
    e.kind = EventKind::Step;
    e.source = Source::SingleStep;
    e.time_ns = t;
    e.cpl = 0;
    e.rip = 0x100000 + (t % 4096);
    e.text = nop;
    w->emit(e);
  };
  auto marker = [&](uint64_t t, const char* name, MarkerPhase phase) {
    Event e;
    e.kind = EventKind::Marker;
    e.source = Source::Guest;
    e.time_ns = t;
    e.phase = phase;
    e.name = name;
    w->emit(e);
  };
  auto visit = [&](uint64_t t, uint64_t n) {
    Event r;
    r.kind = EventKind::TrapReturn;
    r.source = Source::SingleStep;
    r.time_ns = t;
    r.cause = TrapCause::Iret;
    r.from_cpl = 0;
    r.to_cpl = 3;
    r.rip = 0x100122;
    r.rip_to = 0x8000000000;
    w->emit(r);
    Event f;
    f.kind = EventKind::Trap;
    f.source = Source::SingleStep;
    f.time_ns = t;
    f.cause = TrapCause::Exception;
    f.vector = 14;
    f.from_cpl = 3;
    f.to_cpl = 0;
    f.rip = 0x8000000000;
    f.rip_to = 0x100400;
    w->emit(f);
    Event c;
    c.kind = EventKind::Counter;
    c.source = Source::SingleStep;
    c.time_ns = t;
    c.name = "unstepped_runs";
    c.value = n;
    w->emit(c);
  };
  step(us(0));
  marker(us(10), "run", MarkerPhase::Begin);
  marker(us(20), "fault", MarkerPhase::Begin);
  step(us(30));
  visit(us(40), 1);
  marker(us(50), "overlap", MarkerPhase::Begin);
  marker(us(60), "fault", MarkerPhase::End);
  visit(us(70), 2);
  marker(us(80), "overlap", MarkerPhase::End);
  marker(us(90), "run", MarkerPhase::End);
  Event end;
  end.kind = EventKind::RunEnd;
  end.source = Source::Vmm;
  end.time_ns = us(500'000);
  end.end_reason = RunEndReason::GuestExit;
  w->emit(end);
  (void)w->close();
  return w->memory_bytes();
}

inline Trace pvm_trace() { return std::move(read_trace_bytes(pvm_trace_bytes())).value(); }

// A system call under emulation, times in µs after start: ring-3 steps
// `mov eax, 5` and `int 0x40` (at 0x8000000995), the trap at 12 µs with the
// return address 0x8000000997 as its rip (as the emulator records it), the
// handler, an iretq, then the `ret` at 0x8000000997; a #PF at 30 µs on
// `mov eax, [rax]` (0x8000000a00, run again after the handler); an external
// interrupt at 40 µs. With `steps` false the same events at level `exits`,
// without any step.
inline std::vector<uint8_t> emulation_int_trace_bytes(bool steps = true) {
  TraceHeader h;
  h.scenario = "syscalls";
  h.mode = "emulation";
  h.level = steps ? "full" : "exits";
  h.start_mono_ns = kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto step = [&](uint64_t t, uint8_t cpl, uint64_t rip, std::string bytes) {
    if (!steps) return;
    Event e;
    e.kind = EventKind::Step;
    e.source = Source::Emulator;
    e.time_ns = t;
    e.cpl = cpl;
    e.rip = rip;
    e.text = bytes;
    w->emit(e);
  };
  auto trap = [&](uint64_t t, TrapCause cause, uint8_t vector, uint8_t from, uint8_t to, uint64_t rip,
                  uint64_t rip_to) {
    Event e;
    e.kind = cause == TrapCause::Iret ? EventKind::TrapReturn : EventKind::Trap;
    e.source = Source::Emulator;
    e.time_ns = t;
    e.cause = cause;
    e.vector = vector;
    e.from_cpl = from;
    e.to_cpl = to;
    e.rip = rip;
    e.rip_to = rip_to;
    w->emit(e);
  };
  step(us(10), 3, 0x8000000990, std::string("\xb8\x05\x00\x00\x00", 5));
  step(us(11), 3, 0x8000000995, std::string("\xcd\x40", 2));
  trap(us(12), TrapCause::SoftInt, 0x40, 3, 0, 0x8000000997, 0x1001e7);
  step(us(13), 0, 0x1001e7, std::string("\x6a\x00", 2));
  step(us(14), 0, 0x100287, std::string("\x48\xcf", 2));
  trap(us(15), TrapCause::Iret, 0, 0, 3, 0x100287, 0x8000000997);
  step(us(16), 3, 0x8000000997, std::string("\xc3", 1));
  step(us(29), 3, 0x80000009f0, std::string("\x90", 1));
  trap(us(30), TrapCause::Exception, 14, 3, 0, 0x8000000a00, 0x100400);
  step(us(31), 0, 0x100400, std::string("\x6a\x0e", 2));
  trap(us(32), TrapCause::Iret, 0, 0, 3, 0x100287, 0x8000000a00);
  step(us(33), 3, 0x8000000a00, std::string("\x8b\x00", 2));
  trap(us(40), TrapCause::Interrupt, 32, 3, 0, 0x8000000a02, 0x100500);
  Event end;
  end.kind = EventKind::RunEnd;
  end.source = Source::Vmm;
  end.time_ns = us(50);
  end.end_reason = RunEndReason::GuestExit;
  w->emit(end);
  (void)w->close();
  return w->memory_bytes();
}
inline Trace emulation_int_trace(bool steps = true) {
  return std::move(read_trace_bytes(emulation_int_trace_bytes(steps))).value();
}

// Known shares of time, for the timeline's bands (one vCPU, level exits):
//   0 .. 250 ms    periods of 100 µs: ring 3 for 75 µs, then a system call
//                  into ring 0 for 25 µs, during which an I/O exit keeps the
//                  VMM busy for all 25 µs: ring 3 75 %, VMX root 25 %
//   250 .. 500 ms  the same periods, but the exit takes 2 µs: root 2 %
//   500 .. 600 ms  ring 0, one exit at 600 ms
//   600 .. 900 ms  nothing: the vCPU sleeps; at 900 ms an exit and KVM's
//                  halt_wait_ns counter sampled at 300 ms (halted inside KVM)
//   1 s            run_end
inline std::vector<uint8_t> share_trace_bytes() {
  TraceHeader h;
  h.scenario = "shares";
  h.mode = "full-virt";
  h.level = "exits";
  h.start_mono_ns = kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto ring = [&](EventKind kind, TrapCause cause, uint64_t t, uint8_t from, uint8_t to) {
    Event e;
    e.kind = kind;
    e.source = Source::Guest;
    e.time_ns = t;
    e.cause = cause;
    e.vector = cause == TrapCause::SoftInt ? 0x40 : 0;
    e.from_cpl = from;
    e.to_cpl = to;
    e.rip = 0x100000;
    e.rip_to = 0x100000;
    w->emit(e);
  };
  auto exit = [&](uint64_t t, uint64_t duration) {
    Event e;
    e.kind = EventKind::VmExit;
    e.source = Source::KvmExit;
    e.time_ns = t;
    e.reason = exit_reason::kIoInstruction;
    e.handled_by = HandledBy::Vmm;
    e.direction = Direction::Out;
    e.port = 0x3f8;
    e.size = 1;
    e.cpl = 0;
    e.duration_ns = duration;
    w->emit(e);
  };
  for (uint64_t p = 0; p < 5000; ++p) {
    const uint64_t t = kOrigin + p * 100'000;
    ring(EventKind::TrapReturn, TrapCause::Iret, t, 0, 3);
    ring(EventKind::Trap, TrapCause::SoftInt, t + 75'000, 3, 0);
    exit(t + 75'000, p < 2500 ? 25'000 : 2'000);
  }
  exit(kOrigin + 600'000'000, 1'000);
  exit(kOrigin + 900'000'000, 1'000);
  Event c;
  c.kind = EventKind::Counter;
  c.source = Source::KvmStats;
  c.time_ns = kOrigin + 900'000'000;
  c.name = "halt_wait_ns";
  c.value = 300'000'000 - 1'000;
  w->emit(c);
  Event end;
  end.kind = EventKind::RunEnd;
  end.source = Source::Vmm;
  end.time_ns = kOrigin + 1'000'000'000;
  end.end_reason = RunEndReason::GuestExit;
  w->emit(end);
  (void)w->close();
  return w->memory_bytes();
}
inline Trace share_trace() { return std::move(read_trace_bytes(share_trace_bytes())).value(); }

// A trace written again with a chunk every `per_chunk` events, as a live
// writer's period flushes cut it; `ends` gets the end of the header and of
// each chunk, the last one the end-of-trace mark: the sizes a followed file
// has between two flushes.
inline std::vector<uint8_t> rechunk(const std::vector<uint8_t>& bytes, size_t per_chunk, std::vector<size_t>& ends) {
  Trace t = std::move(read_trace_bytes(bytes)).value();
  auto w = TraceWriter::create_in_memory(t.header);
  ends = {w->bytes_written()};
  for (size_t i = 0; i < t.events.size(); ++i) {
    w->emit(t.events[i]);
    if ((i + 1) % per_chunk == 0) {
      (void)w->flush();
      ends.push_back(w->bytes_written());
    }
  }
  if (t.events.size() % per_chunk != 0) {
    (void)w->flush();
    ends.push_back(w->bytes_written());
  }
  (void)w->close();
  ends.push_back(w->bytes_written());
  return w->memory_bytes();
}

// The first `n` bytes of `bytes` into `path` (replacing it).
inline void write_prefix(const std::string& path, const std::vector<uint8_t>& bytes, size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, n, f);
  std::fclose(f);
}

}  // namespace ringscope::viewer::test
