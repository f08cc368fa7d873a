// palette.h — the viewer's colours: one table (kColours in palette.cpp), one
// meaning per colour, the same meaning in every panel. The legend under the
// timeline is made from the same table, so every colour drawn is explained.
//
// Bands: ring 0 (kernel) warm red, ring 3 (user) blue, the guest (VMX
// non-root) bluish green, the hypervisor (VMX root) amber, a vCPU halted
// inside KVM slate; in a `bt` trace the same band shows direct execution
// (green), the translator (violet) and the monitor (orange). Marks: one colour per idea (port I/O, MMIO, an interrupt,
// a hypercall, ...) whichever row it appears in. The selection cursor is
// white, a colour no mark uses.
//
// Marks that share a timeline row stay apart for deuteranopes: a test
// simulates deuteranopia (Machado et al. 2009) on this table and checks the
// CIELAB distance of every pair that can meet in one row.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <span>

#include "ringscope/event.h"

namespace ringscope::viewer::palette {

// Every colour with a meaning. Keep in step with kColours (palette.cpp).
enum class Colour : uint8_t {
  // bands
  Ring0,
  Ring12,
  Ring3,
  Ring3Unobserved,  // a visit to ring 3 of unknown length (ran natively, not single-stepped)
  Unknown,          // nothing known here: CPL not recorded yet, or outside the trace
  NonRoot,
  Root,
  HaltedInKvm,
  BtDirect,      // bt: guest user code runs directly on the CPU
  BtTranslated,  // bt: guest kernel code runs in the translator
  BtMonitor,     // bt: the monitor (a callout, a translation, a world switch)
  // marks
  PortIo,
  Mmio,
  Hlt,
  Interrupt,
  Hypercall,
  OtherExit,
  Exception,
  PageFault,
  SystemCall,
  TrapReturn,
  Device,
  Output,
  Marker,
  ModeChange,
  WorldSwitch,
  BtTranslate,
  BtCallout,
  // the host's view under the lanes (View_HostTracks.cpp), and IPI arrows
  HostOnCpu,         // a vCPU's host thread ran on a host CPU
  HostRunDelay,      // it was runnable but waited for a host CPU
  HostRss,           // the VMM process's resident set
  HostRamAllocated,  // guest RAM the host has allocated
  HostDiskCached,    // the disk image in the host page cache
  Ipi,               // an inter-processor interrupt, sender to target (View_IpiArrows.cpp)
  // user interface
  Cursor,
  kCount
};
inline constexpr int kColourCount = static_cast<int>(Colour::kCount);

enum class Use : uint8_t { Band, Mark, Ui };

struct ColourInfo {
  Colour id;
  ImU32 rgba;
  Use use;
  const char* legend;  // what the legend says it means
};

// The table, indexed by Colour.
std::span<const ColourInfo> colours();
inline ImU32 rgba(Colour c) { return colours()[static_cast<size_t>(c)].rgba; }
inline const char* legend(Colour c) { return colours()[static_cast<size_t>(c)].legend; }

// The rows of marks in which two colours can meet, for the colour-blindness
// test: marks only need to stay apart from the marks of their own row.
std::span<const std::span<const Colour>> mark_rows();

// Which colour an event's mark gets. `cause` only matters for traps
// (int n / syscall are system calls whatever their vector).
Colour for_exit(uint16_t reason);
Colour for_event(EventKind k, uint16_t code, TrapCause cause = TrapCause::None);

// Shorthands kept for the panels.
inline constexpr ImU32 kRing0 = IM_COL32(214, 82, 66, 255);
inline constexpr ImU32 kRing3 = IM_COL32(66, 133, 214, 255);
inline constexpr ImU32 kNonRoot = IM_COL32(0, 158, 115, 255);
inline constexpr ImU32 kRoot = IM_COL32(230, 159, 0, 255);
inline constexpr ImU32 kHaltedInKvm = IM_COL32(140, 140, 165, 255);
inline constexpr ImU32 kBtDirect = IM_COL32(0, 180, 140, 255);
inline constexpr ImU32 kBtTranslated = IM_COL32(130, 100, 240, 255);
inline constexpr ImU32 kBtMonitor = IM_COL32(240, 145, 20, 255);
inline constexpr ImU32 kNoData = IM_COL32(50, 50, 56, 255);
inline constexpr ImU32 kSelection = IM_COL32(255, 255, 255, 255);  // the cursor: no mark is white
inline constexpr ImU32 kIpi = IM_COL32(255, 105, 180, 255);        // IPI arrows between vCPU lanes (View_IpiArrows.cpp)
// The host rows: blue against orange stays apart for colour-blind readers
// (the two states of one stacked column), and neither is a band's colour.
inline constexpr ImU32 kHostOnCpu = IM_COL32(170, 170, 255, 255);
inline constexpr ImU32 kHostRunDelay = IM_COL32(255, 80, 0, 255);
inline constexpr ImU32 kHostRss = IM_COL32(120, 200, 60, 255);
inline constexpr ImU32 kHostRamAllocated = IM_COL32(255, 235, 150, 255);
inline constexpr ImU32 kHostDiskCached = IM_COL32(230, 160, 255, 255);
// Not meanings of the trace: the frame around it.
inline constexpr ImU32 kRangeFill = IM_COL32(120, 190, 255, 70);  // the selected time range
inline constexpr ImU32 kRangeEdge = IM_COL32(140, 200, 255, 230);
inline constexpr ImU32 kBookmark = IM_COL32(0, 220, 220, 255);
inline constexpr ImU32 kLaneBg = IM_COL32(28, 28, 33, 255);
inline constexpr ImU32 kRuler = IM_COL32(160, 160, 170, 255);
inline constexpr ImU32 kError = IM_COL32(255, 110, 100, 255);
inline constexpr ImU32 kWarning = IM_COL32(255, 190, 80, 255);  // headings
// The badge of a followed trace (View_Timeline.cpp): live, and its dot; ended.
inline constexpr ImU32 kLiveBadge = IM_COL32(120, 20, 24, 235);
inline constexpr ImU32 kLiveDot = IM_COL32(255, 70, 70, 255);
inline constexpr ImU32 kEndedBadge = IM_COL32(60, 60, 66, 235);

ImU32 ring(int cpl);
inline ImU32 exit_reason(uint16_t reason) { return rgba(for_exit(reason)); }
inline ImU32 kind(EventKind k, uint16_t code, TrapCause cause = TrapCause::None) {
  return rgba(for_event(k, code, cause));
}

inline ImVec4 vec(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

}  // namespace ringscope::viewer::palette
