// explain.h — events in words: a one-line summary and a plain-language
// explanation for students.
//
// One table serves every reader: `ringscope show` prints these strings, the
// viewer's event list and inspector show the same ones. Everything here is a
// pure function of one Event (no trace context), so it is cheap to call for
// the few rows on screen and trivial to test with made-up events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ringscope/event.h"

namespace ringscope {

// The payload of an event in one line, without seq/time/vcpu/kind, e.g.
//   vm_exit: "io_instruction  out 0x3f8 size 1 value 0x68 'h'  rip 0x100a3c cpl 0  4.2 µs (vmm)"
//   trap:    "#PF page fault  error 0x6 cr2 0x7000  cpl 3->0  rip 0x401003 -> 0x100200"
std::string summarize_event(const Event& e);

// A sentence or three for a student: what happened, why the CPU or the
// hypervisor did it, and what it cost, e.g.
//   "OUT to port 0x3f8 (UART THR): the guest wrote a byte ('h') to the
//    serial port. <the exit reason's explanation> The VMM's device model in
//    user space handled it; exit to re-entry took 4.2 µs."
std::string explain_event(const Event& e);

// A well-known legacy PC I/O port, for naming the register behind an I/O
// exit ("UART THR", "PIC1 command"). Empty name if the port is not known.
struct PortInfo {
  std::string_view name;   // "UART THR"
  std::string_view doing;  // what an access of this direction means, e.g. "the guest wrote a byte to the serial port"
};
PortInfo describe_port(uint16_t port, Direction dir);

// "4.2 µs", "812 ns", "1.25 ms", "3.10 s".
std::string format_duration(uint64_t ns);
// A byte value as a character literal when printable ("'h'", "'\n'"); "" otherwise.
std::string char_literal(uint64_t value);

}  // namespace ringscope
