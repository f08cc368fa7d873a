// palette.cpp — colours that need a table.
#include "ui/palette.h"

#include "ringscope/event_schema.h"
#include "ringscope/exit_reasons.h"

namespace ringscope::viewer::palette {

ImU32 exit_reason(uint16_t reason) {
  switch (reason) {
    case exit_reason::kIoInstruction: return IM_COL32(255, 140, 40, 255);
    case exit_reason::kHlt: return IM_COL32(150, 150, 160, 255);
    case exit_reason::kEptViolation: return IM_COL32(240, 90, 200, 255);
    case exit_reason::kExternalInterrupt: return IM_COL32(120, 200, 255, 255);
    case exit_reason::kVmcall: return IM_COL32(120, 230, 120, 255);
    case exit_reason::kCpuid: return IM_COL32(200, 200, 90, 255);
    case exit_reason::kTripleFault: return IM_COL32(255, 40, 40, 255);
    default: break;
  }
  static const ImU32 others[] = {IM_COL32(255, 120, 120, 255), IM_COL32(140, 120, 255, 255),
                                 IM_COL32(90, 220, 200, 255),  IM_COL32(230, 200, 140, 255),
                                 IM_COL32(200, 140, 230, 255), IM_COL32(160, 220, 90, 255)};
  return others[(reason * 7u) % (sizeof(others) / sizeof(others[0]))];
}

// A kind's colour comes from its colour key in the schema table (event_schema.h).
ImU32 kind(EventKind k, uint16_t code) {
  switch (kind_spec(k).colour) {
    case ColourKey::ExitReason: return exit_reason(code);
    case ColourKey::Trap: return code == 14 ? IM_COL32(255, 215, 80, 255) : IM_COL32(255, 99, 132, 255);
    case ColourKey::TrapReturn: return IM_COL32(110, 180, 255, 255);
    case ColourKey::Hypercall: return IM_COL32(120, 230, 120, 255);
    case ColourKey::Irq: return IM_COL32(120, 200, 255, 255);
    case ColourKey::Device: return IM_COL32(200, 170, 120, 255);
    case ColourKey::Output: return IM_COL32(220, 220, 220, 255);
    case ColourKey::Marker: return IM_COL32(230, 230, 240, 255);
    case ColourKey::ModeChange: return IM_COL32(180, 130, 255, 255);
    case ColourKey::RunEnd: return IM_COL32(255, 255, 255, 255);
    case ColourKey::Neutral: break;
  }
  return IM_COL32(128, 128, 128, 255);
}

}  // namespace ringscope::viewer::palette
