// event.h — the event vocabulary (trace schema v5, docs/trace-format.md).
//
// Every backend, the trace file, the CLI and the viewer speak in these
// Events. The tables of names (kinds, sources, causes, ...) live in
// vocabulary.cpp and are the only place those names are spelled.
//
// An Event is a flat, trivially copyable record: every kind uses a subset of
// the fields (its row of the schema table, event_schema.h). Producers build
// them with the constructors in events.h. Strings are views: the
// emitter keeps them alive for the duration of EventSink::emit(); a reader
// keeps them alive as long as the trace it returned.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringscope {

enum class EventKind : uint8_t {
  VmExit = 0,  // the guest left VMX non-root mode (or would have)
  Trap,        // an event delivered into the guest kernel
  TrapReturn,  // iretq / sysretq
  Hypercall,   // a guest's deliberate call into the hypervisor
  Device,      // a device model did something
  IrqInject,   // the VMM injected an interrupt
  ModeChange,  // CR0/CR4/EFER changed (real -> protected -> long)
  Step,        // one instruction (trace level full)
  Counter,     // a named counter's value
  Output,      // bytes the guest wrote to its console
  Marker,      // a label the workload emitted to bracket a phase
  RunEnd,      // how the run ended (always the last event of a complete trace)
  // bt mode (binary translation, trace schema 3):
  WorldSwitch,  // the guest moved between direct execution and the translator
  BtTranslate,  // a guest kernel block was translated into the translation cache
  BtCallout,    // translated code called the monitor to emulate a sensitive instruction
};
inline constexpr int kEventKindCount = 15;

enum class Source : uint8_t {
  KvmExit = 0,  // a KVM_RUN return
  KvmStats,     // a delta of the per-vCPU stats fd
  SingleStep,   // KVM guest-debug single-stepping
  Emulator,     // a Unicorn hook
  VmxModel,     // what VT-x would have done, computed
  Guest,        // reported by the guest through its probe port
  Vmm,          // the VMM itself (device models, watchdog, run end)
  // The VMM's device thread (run --io offload, trace schema 4): a doorbell
  // KVM passed on through an ioeventfd, and the device work it caused.
  DeviceThread,
};
inline constexpr int kSourceCount = 8;

enum class HandledBy : uint8_t { None = 0, Kernel, Vmm };
// in/out for port I/O, read/write for MMIO and devices.
enum class Direction : uint8_t { None = 0, In, Out, Read, Write };
// What caused a trap or a trap_return.
enum class TrapCause : uint8_t {
  None = 0,
  Exception,  // a fault or trap raised by an instruction (#PF, #GP, #UD, ...)
  Interrupt,  // an external (hardware) interrupt
  SoftInt,    // int n
  Syscall,    // the syscall instruction
  Iret,       // iretq
  Sysret,     // sysretq
  Halt,       // hlt (a world_switch's cause: the monitor idles the vCPU until an interrupt)
};
inline constexpr int kTrapCauseCount = 8;
// What a vm_exit's qualification describes, so that readers know which of
// its fields mean what (`number` is the MSR for Msr, the hypercall number
// for Vmcall, and the VT-x exit qualification otherwise). Set by the producer (events.h), not inferred by readers; an
// event without it (a schema-1 trace) is read through exit_access() (event_schema.h).
enum class AccessKind : uint8_t {
  None = 0,        // no qualification (hlt, external interrupt, triple fault, ...)
  Port,            // port I/O: port, size, direction, value, count
  Mmio,            // MMIO (an EPT violation on an unbacked GPA): gpa, length, direction, value
  Msr,             // RDMSR/WRMSR: `number` is the MSR (ECX), direction, value
  Cr,              // a control-register access: `reg` names it ("cr3"), direction, value
  PageTableStore,  // no-EPT shadow paging: a store into a guest page table (#PF): reg, gpa, value
  Exception,       // an exception exit: vector, error code, cr2
  Vmcall,          // VMCALL: `number` is the hypercall number (RAX)
  Cpuid,           // CPUID: `value` is the leaf (EAX)
};
inline constexpr int kAccessKindCount = 9;
enum class Transport : uint8_t { None = 0, Port, Mmio, Vmcall };

// irq_inject: the path by which the interrupt reached the vCPU (schema 5;
// before it, the event's `name` held the same words). Set by the producer
// (events.h); readers call irq_via() (event_schema.h), which also reads the
// older traces.
enum class IrqVia : uint8_t {
  None = 0,
  // The VMM's own PIC model chose `vector` and the VMM injected it with
  // KVM_INTERRUPT (run --irqchip vmm).
  KvmInterrupt,
  // The VMM raised IRQ line `value` for `device` by writing to an irqfd: KVM's
  // in-kernel irqchip chooses the vector and delivers it (--irqchip kernel).
  Irqfd,
  // Another vCPU's local APIC sent it, an inter-processor interrupt through
  // ringscope's local APIC model (emulation with several vCPUs): `value` is the
  // sending vCPU, `reg` the delivery mode ("fixed", "INIT", "STARTUP"),
  // `vector` the vector (STARTUP: the start page), `duration_ns` the time from
  // the sender's ICR write (a `device` event "lapic ICR" on its lane) to this
  // delivery.
  Ipi,
};
inline constexpr int kIrqViaCount = 4;

// bt mode: where the guest's instructions run (docs/bt.md). None before the
// first world_switch of a run says nothing yet.
enum class BtWorld : uint8_t {
  None = 0,
  Direct,      // guest user code, natively on the CPU (under KVM)
  Translated,  // guest kernel code, from the translation cache
  Monitor,     // the monitor itself: a callout, a translation, the switch between worlds
};
inline constexpr int kBtWorldCount = 4;

// bt mode: the sensitive and privileged instructions the translator finds
// and turns into callouts. One table (bt_insns.h) names each and says what
// a callout's fields mean for it; a bt_translate's `value` is a mask with
// bit n set when the block holds instruction n.
enum class BtInsn : uint8_t {
  None = 0,
  Cli,
  Sti,
  Pushf,
  Popf,
  Hlt,
  In,
  Out,
  Ins,
  Outs,
  MovCr,
  Lmsw,
  Clts,
  MovDr,
  Rdmsr,
  Wrmsr,
  Lgdt,
  Lidt,
  Lldt,
  Ltr,
  Sgdt,
  Sidt,
  Sldt,
  Str,
  Smsw,
  MovSeg,
  PushSeg,
  PopSeg,
  Lar,
  Lsl,
  Verr,
  Verw,
  CallFar,
  JmpFar,
  RetFar,
  IntN,
  Iret,
  Sysret,
  Swapgs,
  Invlpg,
  Invd,
  Wbinvd,
  Cpuid,
  Rdtsc,
  PtStore,  // not an instruction class: a store into a page holding the guest's page tables (traced)
};
inline constexpr int kBtInsnCount = 45;
enum class MarkerPhase : uint8_t { Point = 0, Begin, End };

// How a run ended. Everything except GuestExit is a failure (Halted too: the
// guest stopped for good without reporting a status).
enum class RunEndReason : uint8_t {
  GuestExit = 0,   // the guest wrote its status to the probe port
  Halted,          // halted for good (hlt with interrupts off, nothing to wake it) without a status
  TripleFault,     // the CPU shut down (VT-x exit reason 2)
  InternalError,   // KVM could not emulate something
  FailedEntry,     // VM entry failed: the boot state is invalid
  WatchdogTime,    // wall-time limit
  WatchdogExits,   // exit-count limit
  WatchdogOutput,  // output-size limit
  VmmError,        // the VMM itself failed (bug or OS error)
  Quit,            // a user ended the run through the control socket (QMP quit)
};
inline constexpr int kRunEndReasonCount = 10;

// Guest registers, captured when a run ends badly (and where a backend can).
struct GuestRegs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
  uint64_t cr0, cr2, cr3, cr4, efer;
  uint16_t cs, ss;
  uint8_t cpl;
};

struct Event {
  uint64_t seq = 0;      // assigned by the sink, dense from 0
  uint64_t time_ns = 0;  // host CLOCK_MONOTONIC
  uint32_t vcpu = 0;
  EventKind kind = EventKind::Marker;
  Source source = Source::Vmm;

  // vm_exit
  uint16_t reason = 0;  // VT-x basic exit reason (exit_reasons.h)
  HandledBy handled_by = HandledBy::None;
  uint64_t duration_ns = 0;  // vm_exit: exit to re-entry; device: time in the model

  // where the guest was (vm_exit, trap, trap_return, step, hypercall)
  uint64_t rip = 0;
  uint8_t cpl = 0;

  // qualification of an access (vm_exit I/O/MMIO, device)
  Direction direction = Direction::None;
  uint8_t size = 0;     // access width in bytes
  uint16_t port = 0;    // I/O port
  uint32_t count = 0;   // rep count / descriptors / bytes, where it applies
  uint64_t value = 0;   // data written or read; counter value; status
  uint64_t gpa = 0;     // MMIO address, marker label address
  uint32_t length = 0;  // MMIO length

  // trap / trap_return
  uint8_t vector = 0;
  uint32_t error_code = 0;
  bool has_error_code = false;
  uint64_t cr2 = 0;
  uint8_t from_cpl = 0, to_cpl = 0;
  TrapCause cause = TrapCause::None;
  uint64_t rip_to = 0;

  // hypercall; vm_exit: the MSR, hypercall number or qualification (see AccessKind)
  uint64_t number = 0;
  std::array<uint64_t, 4> args{};
  uint64_t result = 0;
  Transport transport = Transport::None;

  // mode_change: control registers before and after
  uint64_t cr0 = 0, cr4 = 0, efer = 0;
  uint64_t prev_cr0 = 0, prev_cr4 = 0, prev_efer = 0;

  // marker
  MarkerPhase phase = MarkerPhase::Point;

  // run_end
  RunEndReason end_reason = RunEndReason::GuestExit;

  // vm_exit: what its qualification describes (schema 2); bt_callout: what the monitor did
  AccessKind access = AccessKind::None;

  // bt mode (schema 3): world_switch's worlds; bt_callout's instruction
  BtWorld from_world = BtWorld::None, to_world = BtWorld::None;
  BtInsn insn = BtInsn::None;

  // irq_inject (schema 5): how the interrupt was delivered
  IrqVia via = IrqVia::None;

  // Strings (views, see the header comment):
  //   device: device name ("uart", "probe")      register: "THR", "LSR", queue name
  //   name:   counter name, marker label          text: output bytes, step bytes, run_end message
  std::string_view device, reg, name, text;

  // Registers, present on run_end after a failure and where recorded.
  const GuestRegs* regs = nullptr;
};

// Anything that consumes events: the trace writer, an in-memory recorder,
// a tee. emit() assigns e.seq. Implementations must be cheap: emit() sits on
// the vCPU's exit path.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(Event& e) = 0;
};

// A sink that drops everything (tracing off), used by benchmarks.
class NullSink final : public EventSink {
 public:
  void emit(Event& e) override { e.seq = next_++; }

 private:
  uint64_t next_ = 0;
};

// ---- vocabulary tables (vocabulary.cpp) -----------------------------------
std::string_view kind_name(EventKind k);  // "vm_exit", "trap", ...
std::optional<EventKind> kind_from_name(std::string_view s);
std::string_view source_name(Source s);  // "kvm-exit", ...
std::optional<Source> source_from_name(std::string_view s);
std::string_view handled_by_name(HandledBy h);  // "kernel", "vmm", ""
std::string_view direction_name(Direction d);   // "in", "out", "read", "write"
std::string_view cause_name(TrapCause c);       // "exception", "interrupt", "int", "syscall", "iretq", "sysretq", "hlt"
std::string_view world_name(BtWorld w);         // "direct", "translated", "monitor", ""
std::string_view transport_name(Transport t);   // "port", "mmio", "vmcall"
std::string_view irq_via_name(IrqVia v);        // "KVM_INTERRUPT", "irqfd", "ipi", ""
std::optional<IrqVia> irq_via_from_name(std::string_view s);  // nullopt for "" and unknown names
std::string_view phase_name(MarkerPhase p);                   // "point", "begin", "end"
std::string_view run_end_name(RunEndReason r);                // "guest_exit", "triple_fault", ...
std::string_view run_end_explanation(RunEndReason r);         // one sentence for a student
std::string_view exception_name(uint8_t vector);              // "#PF page fault", ...; "" if not an exception

}  // namespace ringscope

// The constructors, one per kind, and emit_counter(): every producer wants them.
#include "ringscope/events.h"  // IWYU pragma: export
