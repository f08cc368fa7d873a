// vocabulary.cpp — the one place where the names of the event vocabulary
// (docs/trace-format.md "Events") are spelled; the kinds' names are in
// their rows of the schema table (event_kinds.cpp).
//
// Every table is indexed by the enum's value, so adding an enumerator without
// a name fails the static_asserts below instead of printing garbage.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "ringscope/event.h"
#include "ringscope/i18n.h"

namespace ringscope {
namespace {

using namespace std::string_view_literals;

constexpr std::array<std::string_view, kSourceCount> kSourceNames = {
    "kvm-exit"sv, "kvm-stats"sv, "single-step"sv, "emulator"sv, "vmx-model"sv, "guest"sv, "vmm"sv, "device-thread"sv,
};
static_assert(static_cast<int>(Source::DeviceThread) + 1 == kSourceCount);

constexpr std::array<std::string_view, 3> kHandledByNames = {""sv, "kernel"sv, "vmm"sv};
constexpr std::array<std::string_view, 5> kDirectionNames = {""sv, "in"sv, "out"sv, "read"sv, "write"sv};
constexpr std::array<std::string_view, kTrapCauseCount> kCauseNames = {
    ""sv, "exception"sv, "interrupt"sv, "int"sv, "syscall"sv, "iretq"sv, "sysretq"sv, "hlt"sv,
};
static_assert(static_cast<int>(TrapCause::Halt) + 1 == kTrapCauseCount);
constexpr std::array<std::string_view, kBtWorldCount> kWorldNames = {""sv, "direct"sv, "translated"sv, "monitor"sv};
static_assert(static_cast<int>(BtWorld::Monitor) + 1 == kBtWorldCount);
// The words schema 4 and earlier wrote in an irq_inject's `name`; JSON's `via`.
constexpr std::array<std::string_view, kIrqViaCount> kIrqViaNames = {""sv, "KVM_INTERRUPT"sv, "irqfd"sv, "ipi"sv};
static_assert(static_cast<int>(IrqVia::Ipi) + 1 == kIrqViaCount);
constexpr std::array<std::string_view, 4> kTransportNames = {""sv, "port"sv, "mmio"sv, "vmcall"sv};
constexpr std::array<std::string_view, 3> kPhaseNames = {"point"sv, "begin"sv, "end"sv};

constexpr std::array<std::string_view, kRunEndReasonCount> kRunEndNames = {
    "guest_exit"sv,    "halted"sv,         "triple_fault"sv,    "internal_error"sv, "failed_entry"sv,
    "watchdog_time"sv, "watchdog_exits"sv, "watchdog_output"sv, "vmm_error"sv,      "quit"sv,
};
static_assert(static_cast<int>(RunEndReason::Quit) + 1 == kRunEndReasonCount);

// One sentence each, written for a student reading `ringscope run` output;
// marked for the catalogue, translated by whoever prints them (i18n.h).
constexpr std::array<std::string_view, kRunEndReasonCount> kRunEndExplanations = {
    N_("The guest finished and reported its exit status through the probe port."),
    N_("The guest halted for good (HLT with interrupts disabled, or nothing left to wake it) without reporting "
       "an exit status."),
    N_("The CPU hit a fault while delivering a double fault and shut down (VT-x exit reason 2); "
       "usually a broken IDT, GDT or page table."),
    N_("KVM met something it could not emulate and gave up; the registers show where the guest was."),
    N_("VM entry failed because the guest state (segments, control registers, boot state) was invalid."),
    N_("The run took longer than the wall-time limit and the watchdog stopped it."),
    N_("The guest caused more VM exits than the exit limit allows, so the watchdog stopped it."),
    N_("The guest wrote more console output than the output limit allows, so the watchdog stopped it."),
    N_("The VMM itself failed (an operating-system error or a bug in ringscope), not the guest."),
    N_("A user ended the run through the control socket (QMP quit) before the guest finished; the trace holds "
       "everything up to that moment."),
};

// Intel SDM Vol. 3A, Table 6-1 "Protected-Mode Exceptions and Interrupts".
constexpr std::array<std::string_view, 32> kExceptionNames = {
    "#DE divide error"sv,
    "#DB debug"sv,
    "NMI non-maskable interrupt"sv,
    "#BP breakpoint"sv,
    "#OF overflow"sv,
    "#BR bound range exceeded"sv,
    "#UD invalid opcode"sv,
    "#NM device not available"sv,
    "#DF double fault"sv,
    "coprocessor segment overrun"sv,
    "#TS invalid TSS"sv,
    "#NP segment not present"sv,
    "#SS stack-segment fault"sv,
    "#GP general protection"sv,
    "#PF page fault"sv,
    ""sv,  // 15: reserved
    "#MF x87 floating-point error"sv,
    "#AC alignment check"sv,
    "#MC machine check"sv,
    "#XM SIMD floating-point exception"sv,
    "#VE virtualization exception"sv,
    "#CP control protection"sv,
    ""sv,
    ""sv,
    ""sv,
    ""sv,
    ""sv,
    ""sv,  // 22-27: reserved
    "#HV hypervisor injection"sv,
    "#VC VMM communication"sv,
    "#SX security exception"sv,
    ""sv,  // 31: reserved
};

// Index a name table with a bounds check: an out-of-range enum value (a
// corrupt cast) gives "" rather than reading past the table.
template <typename Enum, size_t N>
std::string_view lookup(const std::array<std::string_view, N>& table, Enum e) {
  auto i = static_cast<size_t>(e);
  return i < N ? table[i] : std::string_view{};
}

template <typename Enum, size_t N>
std::optional<Enum> reverse_lookup(const std::array<std::string_view, N>& table, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (table[i] == s) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view source_name(Source s) { return lookup(kSourceNames, s); }
std::optional<Source> source_from_name(std::string_view s) { return reverse_lookup<Source>(kSourceNames, s); }
std::string_view handled_by_name(HandledBy h) { return lookup(kHandledByNames, h); }
std::string_view direction_name(Direction d) { return lookup(kDirectionNames, d); }
std::string_view cause_name(TrapCause c) { return lookup(kCauseNames, c); }
std::string_view world_name(BtWorld w) { return lookup(kWorldNames, w); }
std::string_view transport_name(Transport t) { return lookup(kTransportNames, t); }
std::string_view irq_via_name(IrqVia v) { return lookup(kIrqViaNames, v); }
std::optional<IrqVia> irq_via_from_name(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return reverse_lookup<IrqVia>(kIrqViaNames, s);
}
std::string_view phase_name(MarkerPhase p) { return lookup(kPhaseNames, p); }
std::string_view run_end_name(RunEndReason r) { return lookup(kRunEndNames, r); }
std::string_view run_end_explanation(RunEndReason r) { return lookup(kRunEndExplanations, r); }
std::string_view exception_name(uint8_t vector) { return vector < 32 ? kExceptionNames[vector] : std::string_view{}; }

}  // namespace ringscope
