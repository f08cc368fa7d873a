// View_RingDiagram.cpp — where the CPU is: rings 0-3 as concentric circles
// inside a "VMX non-root (guest)" box, above a "VMX root (hypervisor)" box.
// Each vCPU of the selected trace is a dot at its ring (or in the root box
// while an exit is being handled) at the selected event's time, and the
// selected event's transition is drawn as an arrow that grows when the
// selection changes: ring 3 -> 0 for a trap, 0 -> 3 for iretq/sysretq,
// non-root -> root for a VM exit and back for the VM entry.
//
// A bt trace has no VMX in its story: the boxes are the guest (ring 3 run
// directly on the CPU, ring 0 run by the translator) above the monitor, a
// world switch is the arrow between the rings, and a callout goes from
// ring 0 down into the monitor and back.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

namespace {

void arrow(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float progress, bool dashed = false) {
  const ImVec2 tip{a.x + (b.x - a.x) * progress, a.y + (b.y - a.y) * progress};
  const float dx = tip.x - a.x, dy = tip.y - a.y;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  if (dashed) {
    for (float s = 0; s < len; s += 10) {
      const float e = std::min(len, s + 6);
      dl->AddLine({a.x + dx * s / len, a.y + dy * s / len}, {a.x + dx * e / len, a.y + dy * e / len}, col, 2.5f);
    }
  } else {
    dl->AddLine(a, tip, col, 3.0f);
  }
  const float ux = dx / len, uy = dy / len;
  dl->AddTriangleFilled(tip, {tip.x - ux * 12 - uy * 7, tip.y - uy * 12 + ux * 7},
                        {tip.x - ux * 12 + uy * 7, tip.y - uy * 12 - ux * 7}, col);
}

}  // namespace

void View::draw_ring_diagram() {
  const TraceModel* m = selected_model();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (avail.x < 50 || avail.y < 50) return;
  const float root_h = std::clamp(avail.y * 0.22f, 36.0f, 70.0f);
  const ImVec2 guest0 = p, guest1{p.x + avail.x, p.y + avail.y - root_h - 8};
  const ImVec2 root0{p.x, guest1.y + 8}, root1{p.x + avail.x, p.y + avail.y};
  ring_diagram_text_.clear();
  const bool bt = m && m->bt();
  const ImU32 guest_col = bt ? palette::kBtDirect : palette::kNonRoot;
  const ImU32 root_col = bt ? palette::kBtMonitor : palette::kRoot;
  const char* guest_title = bt ? ringscope::tr("the guest: ring 3 runs directly on the CPU, ring 0 in the translator")
                               : ringscope::tr("VMX non-root: the guest");
  const char* root_title = bt ? ringscope::tr("the monitor: ringscope emulates what translated code calls out for")
                              : ringscope::tr("VMX root: the hypervisor (KVM + ringscope's VMM)");
  ring_diagram_text_ = fmt::format("{}\n{}\n", guest_title, root_title);
  dl->AddRect(guest0, guest1, guest_col, 6, 0, 2);
  dl->AddText({guest0.x + 8, guest0.y + 4}, guest_col, guest_title);
  dl->AddRectFilled(root0, root1, (root_col & 0x00ffffff) | 0x30000000, 6);
  dl->AddRect(root0, root1, root_col, 6, 0, 2);
  dl->AddText({root0.x + 8, root0.y + 4}, root_col, root_title);

  // Rings: 3 outermost, 0 in the middle, left of centre so the labels fit
  // beside them (a column of names with a line to each ring) at any size.
  float label_w = 0;
  const char* ring0_name = bt ? ringscope::tr("ring 0  kernel, translated") : ringscope::tr("ring 0  kernel");
  const char* ring3_name = bt ? ringscope::tr("ring 3  user, run directly") : ringscope::tr("ring 3  user");
  for (const char* t : {ring0_name, ring3_name}) label_w = std::max(label_w, ImGui::CalcTextSize(t).x);
  const float room_x = guest1.x - guest0.x - label_w - 40, room_y = guest1.y - guest0.y - 24;
  const float r_max = std::max(20.0f, std::min(room_x, room_y) / 2 - 6);
  const ImVec2 c{guest0.x + 12 + r_max + std::max(0.0f, (room_x - 2 * r_max) / 2), (guest0.y + guest1.y) / 2 + 8};
  const float radius[4] = {r_max * 0.28f, r_max * 0.52f, r_max * 0.76f, r_max};
  for (int ring = 3; ring >= 0; --ring) {
    const ImU32 col = palette::ring(ring);
    const ImU32 fill = ring == 1 || ring == 2 ? IM_COL32(60, 50, 70, 255) : (col & 0x00ffffff) | 0x70000000;
    dl->AddCircleFilled(c, radius[ring], fill, 64);
    dl->AddCircle(c, radius[ring], col, 64, 1.5f);
  }
  const float line_h = ImGui::GetTextLineHeight();
  auto ring_label = [&](int ring, const char* text) {
    const float mid = ring == 0 ? radius[0] * 0.5f : (radius[ring] + radius[ring - 1]) / 2;
    const ImVec2 on_ring{c.x + mid * 0.7071f, c.y - mid * 0.7071f};
    const ImVec2 at{c.x + r_max + 20, c.y - r_max * 0.5f + static_cast<float>(3 - ring) * (line_h + 2)};
    dl->AddLine(on_ring, {at.x - 4, at.y + line_h / 2}, IM_COL32(200, 200, 210, 150), 1.0f);
    dl->AddText(at, IM_COL32(255, 255, 255, 235), text);
  };
  ring_label(0, ring0_name);
  ring_label(1, ringscope::tr("ring 1"));
  ring_label(2, ringscope::tr("ring 2"));
  ring_label(3, ring3_name);
  if (!m) return;

  // Where each point of the diagram is: a ring at an angle, or the root box.
  const float angle = -2.3f;
  auto ring_point = [&](int ring, float a) {
    const float r = ring == 0 ? radius[0] * 0.55f : (radius[ring] + radius[ring - 1]) / 2;
    // Ring 0's point sits below its label, in the middle of the circle.
    if (ring == 0) return ImVec2{c.x + radius[0] * 0.45f * std::cos(a + 2.3f), c.y + radius[0] * 0.25f};
    return ImVec2{c.x + r * std::cos(a), c.y + r * std::sin(a)};
  };
  const ImVec2 root_point{c.x, (root0.y + root1.y) / 2 + 6};

  const size_t i = selection_.event;
  const Event e = m->event(i);
  const double anim = settings_.animate ? std::clamp((ImGui::GetTime() - selection_time_s_) / 0.6, 0.0, 1.0) : 1.0;
  const float prog = static_cast<float>(anim);

  // The transition of the selected event.
  std::string label;
  if (e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn) {
    if (e.from_cpl != e.to_cpl && e.from_cpl < 4 && e.to_cpl < 4) {
      const ImVec2 a = ring_point(e.from_cpl, angle + 0.5f), b = ring_point(e.to_cpl, angle + 0.5f);
      arrow(dl, a, b, e.kind == EventKind::Trap ? palette::kind(e.kind, e.vector, e.cause) : palette::kind(e.kind, 0),
            prog);
      const std::string what = e.kind == EventKind::Trap
                                   ? (e.cause == TrapCause::Syscall      ? std::string("syscall")
                                      : exception_name(e.vector).empty() ? ringscope::trf("vector {}", e.vector)
                                                                         : std::string(exception_name(e.vector)))
                                   : std::string(cause_name(e.cause));
      label = ringscope::trf("{}: ring {} -> ring {}", what, e.from_cpl, e.to_cpl);
    }
  } else if (e.kind == EventKind::WorldSwitch) {
    if (e.from_cpl != e.to_cpl && e.from_cpl < 4 && e.to_cpl < 4) {
      const ImVec2 a = ring_point(e.from_cpl, angle + 0.5f), b = ring_point(e.to_cpl, angle + 0.5f);
      arrow(dl, a, b, e.to_world == BtWorld::Direct ? palette::kBtDirect : palette::kBtTranslated, prog);
      label = ringscope::trf("world switch ({}): ring {} -> ring {}, {} -> {}", cause_name(e.cause), e.from_cpl,
                             e.to_cpl, world_name(e.from_world), world_name(e.to_world));
    }
  } else if (e.kind == EventKind::BtCallout) {
    const int cpl = std::clamp<int>(e.cpl, 0, 3);
    const ImVec2 a = ring_point(cpl, angle + 0.9f);
    const ImVec2 b{root_point.x - 40, root_point.y};
    arrow(dl, a, b, palette::kBtMonitor, std::min(1.0f, prog * 2));
    if (prog > 0.5f)
      arrow(dl, {b.x + 80, b.y - 6}, ring_point(cpl, angle + 1.3f), palette::kBtTranslated, (prog - 0.5f) * 2, true);
    label = ringscope::trf("callout: the monitor emulates {} for ring {}", bt_insn_name(e.insn), cpl);
  } else if (e.kind == EventKind::BtTranslate) {
    label = ringscope::trf("translated the kernel block at {:#x}: {} instructions, {} bytes", e.rip, e.count, e.length);
  } else if (e.kind == EventKind::VmExit || e.kind == EventKind::Hypercall) {
    const int cpl = e.cpl;
    const ImVec2 a = ring_point(std::clamp(cpl, 0, 3), angle + 0.9f);
    const ImVec2 b{root_point.x - 40, root_point.y};
    arrow(dl, a, b, palette::kRoot, std::min(1.0f, prog * 2));
    if (prog > 0.5f)
      arrow(dl, {b.x + 80, b.y - 6}, ring_point(std::clamp(cpl, 0, 3), angle + 1.3f), palette::kNonRoot,
            (prog - 0.5f) * 2, true);
    label = e.kind == EventKind::VmExit
                ? ringscope::trf("VM exit ({}) from ring {}, then VM entry after {}", exit_reason_name(e.reason), cpl,
                                 format_duration(e.duration_ns))
                : ringscope::trf("hypercall {} from ring {}", e.number, cpl);
  }

  // The dots: every vCPU of the selected trace at the selected time.
  const uint64_t t = m->time(i);
  for (const VcpuTrack& tr : m->tracks()) {
    if (tr.events == 0) continue;
    const bool halted = m->halted_at(tr.vcpu, t) != nullptr;
    const bool in_root = (m->root_at(tr.vcpu, t).has_value() || halted) && e.kind != EventKind::VmExit;
    const int cpl = m->cpl_at(tr.vcpu, t);
    const float a = angle + 0.35f * static_cast<float>(tr.vcpu);
    ImVec2 at = in_root ? ImVec2{root_point.x + 30.0f * tr.vcpu, root_point.y} : ring_point(std::max(cpl, 0), a);
    if (e.kind == EventKind::VmExit && tr.vcpu == e.vcpu && prog < 1.0f)
      at = ring_point(std::clamp<int>(e.cpl, 0, 3), a);
    if (cpl < 0 && !in_root) continue;
    dl->AddCircleFilled(at, 8, palette::kSelection, 20);
    dl->AddCircle(at, 8, IM_COL32(0, 0, 0, 255), 20, 2);
    const std::string name = fmt::format("vCPU {}{}", tr.vcpu, halted ? ringscope::tr(" (halted inside KVM)") : "");
    const ImVec2 sz = ImGui::CalcTextSize(name.c_str());
    // Left of the dot: the ring names are in a column on the right.
    const float lx = at.x - 12 - sz.x;
    dl->AddRectFilled({lx - 2, at.y - 9}, {lx + sz.x + 2, at.y - 7 + sz.y}, IM_COL32(0, 0, 0, 170), 3);
    dl->AddText({lx, at.y - 8}, palette::kSelection, name.c_str());
  }
  ring_diagram_text_ += label;
  if (!label.empty()) {
    const ImVec2 sz = ImGui::CalcTextSize(label.c_str());
    // Top right, clear of the ring names.
    const ImVec2 lp{std::max(guest0.x + 8, guest1.x - sz.x - 10), guest0.y + 4};
    dl->AddRectFilled({lp.x - 4, lp.y - 2}, {lp.x + sz.x + 4, lp.y + sz.y + 2}, IM_COL32(0, 0, 0, 170), 4);
    dl->AddText(lp, palette::kSelection, label.c_str());
  }
}

}  // namespace ringscope::viewer
