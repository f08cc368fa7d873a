// transitions.h — how the CPU moves between rings, as rules a software CPU
// applies: delivering an interrupt or exception through the IDT, SYSCALL,
// SYSRET and IRETQ. Each rule either produces the new CpuState (and writes
// the frame it pushes to guest memory) or raises the fault the architecture
// says it raises, with its error code. Only IA-32e 64-bit mode is modelled.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "ringscope/arch/x86_state.h"

namespace ringscope::arch {

// Exception vectors (SDM Vol. 3A §6.3.1, Table 6-1).
namespace vec {
inline constexpr uint8_t kDE = 0, kDB = 1, kNMI = 2, kBP = 3, kOF = 4, kBR = 5, kUD = 6, kNM = 7;
inline constexpr uint8_t kDF = 8, kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPF = 14, kMF = 16, kAC = 17;
}  // namespace vec

// Table 6-1: these exceptions push an error code.
bool pushes_error_code(uint8_t vector);

// §6.13: a selector error code. EXT (bit 0): the fault happened while
// delivering an event the program did not ask for (not `int n`). IDT (bit
// 1): the index names an IDT gate, not a GDT descriptor.
inline uint32_t selector_error(uint16_t selector, bool ext) { return (selector & 0xfffc) | (ext ? 1u : 0u); }
inline uint32_t idt_error(uint8_t vector, bool ext) { return (uint32_t(vector) << 3) | 2u | (ext ? 1u : 0u); }

// §4.7: the page-fault error code. P: the page was present (a protection
// violation); W: a write; U: CPL 3; I: an instruction fetch.
uint32_t page_fault_error(bool present, bool write, bool user, bool fetch);

// A fault the rules (or the instruction) raised.
struct Fault {
  uint8_t vector = 0;
  uint32_t error_code = 0;
  bool has_error_code = false;
  uint64_t cr2 = 0;  // #PF: the linear address
  std::string why;   // one sentence for a student: which rule failed
};

// What is being delivered, and why (§6.4: sources of interrupts).
enum class EventSource : uint8_t {
  Exception,  // raised by the instruction at `return_rip` (a fault) or just before it (a trap)
  SoftInt,    // int n / int3 / into: the gate's DPL is checked against CPL (§6.12.1.1)
  External,   // a hardware interrupt (or NMI)
};

struct InterruptRequest {
  uint8_t vector = 0;
  EventSource source = EventSource::Exception;
  uint64_t return_rip = 0;  // the RIP pushed: the faulting instruction, or the next one
  // The instruction that caused the event (for `int n`: the int itself). A
  // fault raised while delivering the event reports this RIP, because that
  // fault, unlike the event, is restartable.
  uint64_t instruction_rip = 0;
  uint32_t error_code = 0;  // used when pushes_error_code(vector) and source == Exception
  uint64_t cr2 = 0;         // #PF: loaded into CR2 before delivery (§6.15, Interrupt 14)
};

// A delivery that happened: what a trace records.
struct Delivered {
  uint8_t vector = 0;
  EventSource source = EventSource::Exception;
  bool has_error_code = false;
  uint32_t error_code = 0;
  uint64_t cr2 = 0;
  uint8_t from_cpl = 0, to_cpl = 0;
  uint64_t from_rip = 0, to_rip = 0;  // the RIP pushed, the handler
  uint64_t frame = 0;                 // RSP after the push: where the frame lies
  bool stack_switched = false;
};

// One attempt at §6.12/§6.14 delivery: on success the CpuState is updated
// and the frame pushed; on a fault nothing in `cpu` changes (memory may
// hold part of a frame, as on a real CPU).
std::variant<Delivered, Fault> deliver_once(CpuState& cpu, LinearMemory& memory, const InterruptRequest& request);

// Delivery as the CPU does it, faults during delivery included (§6.15,
// Interrupt 8, Table 6-5): a contributory fault while delivering a
// contributory one, or a page fault or contributory fault while delivering
// a page fault, becomes a double fault (#DF); a fault while delivering #DF
// shuts the processor down (a triple fault).
struct DeliveryOutcome {
  bool triple_fault = false;
  Delivered delivered;  // the event that finally reached a handler
  std::string why;      // triple fault: the chain of faults, as a sentence
  int nested = 0;       // how many faults the delivery itself raised
};
DeliveryOutcome deliver(CpuState& cpu, LinearMemory& memory, InterruptRequest request);

// SYSCALL (Vol. 2B; §5.8.8): from any CPL to CPL 0 through STAR/LSTAR/FMASK.
// `cpu.rip` must already point past the instruction (it becomes RCX).
// Raises #UD when EFER.SCE is clear or outside 64-bit mode.
std::variant<CpuState, Fault> syscall(const CpuState& cpu);

// SYSRET with REX.W (sysretq): back to CPL 3 at RCX with RFLAGS from R11.
std::variant<CpuState, Fault> sysretq(const CpuState& cpu);

// IRETQ (Vol. 2A IRET; §6.14.3): pops RIP, CS, RFLAGS, RSP, SS and checks
// the return segments; only returns to the same or an outer (less
// privileged) ring.
std::variant<CpuState, Fault> iretq(const CpuState& cpu, LinearMemory& memory);

}  // namespace ringscope::arch
