// palette.h — the viewer's colours, chosen so the same meaning has the same
// colour in every panel: ring 0 (kernel) warm red, ring 3 (user) blue, the
// guest (VMX non-root) green, the hypervisor (VMX root) amber. Exit reasons
// get stable colours from one small table so a reason looks the same in the
// timeline, the list and the charts.
#pragma once

#include <imgui.h>

#include <cstdint>

#include "ringscope/event.h"

namespace ringscope::viewer::palette {

inline constexpr ImU32 kRing0 = IM_COL32(214, 82, 66, 255);    // kernel
inline constexpr ImU32 kRing12 = IM_COL32(170, 110, 200, 255);  // rarely used rings
inline constexpr ImU32 kRing3 = IM_COL32(66, 133, 214, 255);    // user
inline constexpr ImU32 kRingUnknown = IM_COL32(70, 70, 78, 255);
inline constexpr ImU32 kRingMixed = IM_COL32(150, 100, 160, 255);  // many changes inside one pixel
inline constexpr ImU32 kNonRoot = IM_COL32(64, 160, 96, 255);      // guest running
inline constexpr ImU32 kRoot = IM_COL32(232, 168, 48, 255);        // VMM / KVM handling an exit
inline constexpr ImU32 kNoData = IM_COL32(45, 45, 50, 255);
inline constexpr ImU32 kSelection = IM_COL32(255, 235, 59, 255);
inline constexpr ImU32 kRangeFill = IM_COL32(120, 190, 255, 70);  // the selected time range
inline constexpr ImU32 kRangeEdge = IM_COL32(140, 200, 255, 230);
inline constexpr ImU32 kBookmark = IM_COL32(0, 220, 220, 255);
inline constexpr ImU32 kLaneBg = IM_COL32(28, 28, 33, 255);
inline constexpr ImU32 kRuler = IM_COL32(160, 160, 170, 255);
inline constexpr ImU32 kError = IM_COL32(255, 110, 100, 255);
inline constexpr ImU32 kWarning = IM_COL32(255, 190, 80, 255);

inline ImU32 ring(int cpl) {
  switch (cpl) {
    case 0: return kRing0;
    case 1:
    case 2: return kRing12;
    case 3: return kRing3;
    default: return kRingUnknown;
  }
}

// A distinct colour per exit reason; I/O (the most common in these traces)
// is pinned to a bright orange.
ImU32 exit_reason(uint16_t reason);
// Marks that are not exits: by kind (and trap vector).
ImU32 kind(EventKind k, uint16_t code);

inline ImVec4 vec(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

}  // namespace ringscope::viewer::palette
