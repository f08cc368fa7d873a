// palette.cpp — the colour table and which event gets which colour.
//
// Mark colours start from Okabe and Ito's palette for colour-blind readers
// (orange, sky blue, bluish green, yellow, vermillion, reddish purple),
// adjusted for the dark background; tests/visualizer/palette_test.cpp
// checks them under a deuteranopia simulation.
#include "ui/palette.h"

#include "ringscope/event_schema.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"

namespace ringscope::viewer::palette {

namespace {

// Indexed by Colour: one row per meaning.
constexpr ColourInfo kColours[] = {
    {Colour::Ring0, kRing0, Use::Band, N_("ring 0 (kernel)")},
    {Colour::Ring12, IM_COL32(230, 200, 90, 255), Use::Band, N_("ring 1/2")},
    {Colour::Ring3, kRing3, Use::Band, N_("ring 3 (user)")},
    {Colour::Ring3Unobserved, kRing3, Use::Band, N_("ring 3, length unknown (ran natively, not stepped)")},
    {Colour::Unknown, kNoData, Use::Band, N_("not known")},
    {Colour::NonRoot, kNonRoot, Use::Band, N_("guest (VMX non-root)")},
    {Colour::Root, kRoot, Use::Band, N_("hypervisor (VMX root)")},
    {Colour::HaltedInKvm, kHaltedInKvm, Use::Band, N_("halted inside KVM")},
    {Colour::BtDirect, kBtDirect, Use::Band, N_("direct execution (guest user code)")},
    {Colour::BtTranslated, kBtTranslated, Use::Band, N_("translator (guest kernel code)")},
    {Colour::BtMonitor, kBtMonitor, Use::Band, N_("monitor (callouts, translation, world switches)")},
    {Colour::PortIo, IM_COL32(255, 120, 40, 255), Use::Mark, N_("port I/O exit")},
    {Colour::Mmio, IM_COL32(204, 121, 167, 255), Use::Mark, N_("MMIO exit")},
    {Colour::Hlt, IM_COL32(95, 95, 105, 255), Use::Mark, N_("hlt")},
    {Colour::Interrupt, IM_COL32(86, 180, 233, 255), Use::Mark, N_("interrupt")},
    {Colour::Hypercall, IM_COL32(140, 230, 120, 255), Use::Mark, N_("hypercall")},
    {Colour::OtherExit, IM_COL32(160, 120, 255, 255), Use::Mark, N_("other exit")},
    {Colour::Exception, IM_COL32(200, 30, 30, 255), Use::Mark, N_("exception")},
    {Colour::PageFault, IM_COL32(240, 228, 66, 255), Use::Mark, N_("#PF")},
    {Colour::SystemCall, IM_COL32(230, 120, 200, 255), Use::Mark, N_("int n / syscall")},
    {Colour::TrapReturn, IM_COL32(70, 120, 230, 255), Use::Mark, N_("iretq / sysretq")},
    {Colour::Device, IM_COL32(180, 150, 110, 255), Use::Mark, N_("device access")},
    {Colour::Output, IM_COL32(150, 150, 150, 255), Use::Mark, N_("console output")},
    {Colour::Marker, IM_COL32(150, 200, 255, 255), Use::Mark, N_("marker, phase")},
    {Colour::ModeChange, IM_COL32(200, 120, 255, 255), Use::Mark, N_("mode change")},
    {Colour::WorldSwitch, IM_COL32(60, 240, 135, 255), Use::Mark, N_("world switch")},
    {Colour::BtTranslate, IM_COL32(255, 195, 0, 255), Use::Mark, N_("block translated")},
    {Colour::BtCallout, IM_COL32(225, 75, 105, 255), Use::Mark, N_("callout")},
    {Colour::HostOnCpu, kHostOnCpu, Use::Band, N_("host thread on a CPU")},
    {Colour::HostRunDelay, kHostRunDelay, Use::Band, N_("host thread waiting for a CPU (run delay)")},
    {Colour::HostRss, kHostRss, Use::Band, N_("VMM process resident (RSS)")},
    {Colour::HostRamAllocated, kHostRamAllocated, Use::Band, N_("guest RAM the host allocated")},
    {Colour::HostDiskCached, kHostDiskCached, Use::Band, N_("disk image in the host page cache")},
    {Colour::Ipi, kIpi, Use::Mark, N_("IPI: sender's ICR write -> target takes it")},
    {Colour::Cursor, kSelection, Use::Ui, N_("selected event")},
};
static_assert(std::size(kColours) == kColourCount, "one row per Colour");
constexpr bool in_order() {
  for (size_t i = 0; i < std::size(kColours); ++i)
    if (static_cast<size_t>(kColours[i].id) != i) return false;
  return true;
}
static_assert(in_order(), "kColours is indexed by Colour");

// The timeline's mark rows (MarkRow) and the colours each can show.
constexpr Colour kExitRow[] = {Colour::PortIo,    Colour::Mmio,      Colour::Hlt,       Colour::Interrupt,
                               Colour::Hypercall, Colour::OtherExit, Colour::Exception, Colour::BtCallout};
constexpr Colour kTrapRow[] = {Colour::Exception, Colour::PageFault,  Colour::SystemCall,
                               Colour::Interrupt, Colour::TrapReturn, Colour::WorldSwitch};
constexpr Colour kHcallRow[] = {Colour::Hypercall, Colour::Interrupt};
constexpr Colour kDeviceRow[] = {Colour::Device, Colour::Output};
constexpr Colour kMarkerRow[] = {Colour::Marker, Colour::ModeChange, Colour::BtTranslate};
constexpr std::span<const Colour> kRows[] = {kExitRow, kTrapRow, kHcallRow, kDeviceRow, kMarkerRow};

}  // namespace

std::span<const ColourInfo> colours() { return kColours; }
std::span<const std::span<const Colour>> mark_rows() { return kRows; }

ImU32 ring(int cpl) {
  switch (cpl) {
    case 0: return rgba(Colour::Ring0);
    case 1:
    case 2: return rgba(Colour::Ring12);
    case 3: return rgba(Colour::Ring3);
    default: return rgba(Colour::Unknown);
  }
}

Colour for_exit(uint16_t reason) {
  switch (reason) {
    case exit_reason::kIoInstruction: return Colour::PortIo;
    case exit_reason::kEptViolation:
    case exit_reason::kEptMisconfig: return Colour::Mmio;  // an access to a GPA with no RAM: a device register
    case exit_reason::kHlt: return Colour::Hlt;
    case exit_reason::kExternalInterrupt:
    case exit_reason::kInterruptWindow: return Colour::Interrupt;
    case exit_reason::kVmcall: return Colour::Hypercall;
    case exit_reason::kExceptionNmi:
    case exit_reason::kTripleFault: return Colour::Exception;
    default: return Colour::OtherExit;
  }
}

// A kind's colour comes from its colour key in the schema table (event_schema.h).
Colour for_event(EventKind k, uint16_t code, TrapCause cause) {
  switch (kind_spec(k).colour) {
    case ColourKey::ExitReason: return for_exit(code);
    case ColourKey::Trap:
      if (cause == TrapCause::SoftInt || cause == TrapCause::Syscall) return Colour::SystemCall;
      if (cause == TrapCause::Interrupt) return Colour::Interrupt;
      return code == 14 ? Colour::PageFault : Colour::Exception;
    case ColourKey::TrapReturn: return Colour::TrapReturn;
    case ColourKey::Hypercall: return Colour::Hypercall;
    case ColourKey::Irq: return Colour::Interrupt;
    case ColourKey::Device: return Colour::Device;
    case ColourKey::Output: return Colour::Output;
    case ColourKey::Marker:
    case ColourKey::RunEnd: return Colour::Marker;
    case ColourKey::ModeChange: return Colour::ModeChange;
    case ColourKey::WorldSwitch: return Colour::WorldSwitch;
    case ColourKey::BtTranslate: return Colour::BtTranslate;
    case ColourKey::BtCallout: return Colour::BtCallout;
    case ColourKey::Neutral: break;  // steps and counters have no mark; the list greys them
  }
  return Colour::Output;
}

}  // namespace ringscope::viewer::palette
