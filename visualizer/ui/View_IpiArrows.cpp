// View_IpiArrows.cpp — inter-processor interrupts drawn as arrows between
// vCPU lanes: from the sending vCPU's write of its local APIC's interrupt
// command register (the `device` event "lapic ICR" on its lane) to the
// target vCPU's irq_inject (via ipi), where the IPI was taken. The
// irq_inject carries both ends (its sender in `value`, the time since the
// ICR write in `duration_ns`), so no search pairs them.
//
// Only ringscope's own local APIC model (emulation) records IPIs; under
// KVM's in-kernel irqchip they never leave the kernel, and a KVM trace has
// no arrows: the tooltip of a KVM trace's IPI scenario says why in the
// event explanations instead.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ringscope/event_schema.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

namespace {
constexpr ImU32 kIpiColour = palette::kIpi;
constexpr float kHoverPx = 4;

float distance_to_segment(ImVec2 p, ImVec2 a, ImVec2 b) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float len2 = dx * dx + dy * dy;
  float t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = std::clamp(t, 0.0f, 1.0f);
  const float cx = a.x + t * dx - p.x, cy = a.y + t * dy - p.y;
  return std::sqrt(cx * cx + cy * cy);
}
}  // namespace

const std::vector<View::IpiArrow>& View::ipi_arrows(int trace) {
  if (ipi_cache_.size() != traces_.size()) ipi_cache_.assign(traces_.size(), {});
  IpiCache& c = ipi_cache_[static_cast<size_t>(trace)];
  const TraceModel& m = *traces_[static_cast<size_t>(trace)].model;
  if (c.model == &m && c.events == m.size()) return c.arrows;
  c = {};
  c.model = &m;
  c.events = m.size();
  for (const VcpuTrack& tr : m.tracks()) {
    for (uint32_t i : tr.marks[static_cast<int>(MarkRow::Hypercalls)]) {
      const Event e = m.event(i);
      if (e.kind != EventKind::IrqInject || irq_via(e) != IrqVia::Ipi) continue;
      IpiArrow a;
      a.from = static_cast<uint32_t>(e.value);
      a.to = e.vcpu;
      a.taken_ns = e.time_ns;
      a.sent_ns = e.time_ns > e.duration_ns ? e.time_ns - e.duration_ns : 0;
      a.vector = e.vector;
      a.delivery = std::string(e.reg);
      a.event = i;
      c.arrows.push_back(std::move(a));
    }
  }
  std::sort(c.arrows.begin(), c.arrows.end(),
            [](const IpiArrow& a, const IpiArrow& b) { return a.taken_ns < b.taken_ns; });
  return c.arrows;
}

bool View::any_ipis() {
  for (size_t t = 0; t < traces_.size(); ++t)
    if (!ipi_arrows(static_cast<int>(t)).empty()) return true;
  return false;
}

void View::draw_ipi_arrows(ImDrawList* dl, float x0, float x1) {
  ipi_hover_.reset();
  ipi_drawn_ = 0;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  for (size_t t = 0; t < traces_.size(); ++t) {
    const std::vector<IpiArrow>& arrows = ipi_arrows(static_cast<int>(t));
    if (arrows.empty()) continue;
    const LoadedTrace& lt = traces_[t];
    const int64_t base = static_cast<int64_t>(lt.model->origin_ns()) + lt.align_ns;
    auto x_of = [&](uint64_t abs) { return timeline_x(static_cast<double>(static_cast<int64_t>(abs) - base)); };
    // Where an arrow starts and ends on a lane: the devices row (the ICR
    // write) and the irqs row (the delivery), else the ring band.
    auto lane_y = [&](uint32_t vcpu, MarkRow row) -> std::optional<float> {
      for (const LaneGeom& g : lanes_) {
        if (g.trace != static_cast<int>(t) || g.vcpu != vcpu) continue;
        const int r = static_cast<int>(row);
        if (g.row_y[r] > 0) return g.row_y[r] + g.row_h[r] / 2;
        return (g.ring_y0 + g.ring_y1) / 2;
      }
      return std::nullopt;
    };
    for (const IpiArrow& a : arrows) {
      const auto ya = lane_y(a.from, MarkRow::Devices), yb = lane_y(a.to, MarkRow::Hypercalls);
      if (!ya || !yb) continue;
      const float xa = std::clamp(x_of(a.sent_ns), x0 - 1000, x1 + 1000),
                  xb = std::clamp(x_of(a.taken_ns), x0 - 1000, x1 + 1000);
      if (std::max(xa, xb) < x0 || std::min(xa, xb) > x1) continue;
      const ImVec2 p{xa, *ya}, q{xb, *yb};
      const bool hot = distance_to_segment(mouse, p, q) <= kHoverPx;
      const float thick = hot ? 2.5f : 1.5f;
      dl->AddLine(p, q, kIpiColour, thick);
      // The head at the target, pointing along the arrow.
      const float dx = q.x - p.x, dy = q.y - p.y, len = std::max(1.0f, std::sqrt(dx * dx + dy * dy));
      const float ux = dx / len, uy = dy / len, head = 7;
      dl->AddTriangleFilled(q, {q.x - ux * head - uy * head * 0.5f, q.y - uy * head + ux * head * 0.5f},
                            {q.x - ux * head + uy * head * 0.5f, q.y - uy * head - ux * head * 0.5f}, kIpiColour);
      dl->AddCircleFilled(p, 2.5f, kIpiColour);
      ++ipi_drawn_;
      if (hot) ipi_hover_ = a;
    }
  }
}

void View::ipi_tooltip() {
  if (!ipi_hover_) return;
  const IpiArrow& a = *ipi_hover_;
  std::string what = a.delivery == "fixed" ? trf("vector {}", a.vector)
                     : a.delivery == "STARTUP"
                         ? trf("STARTUP at page {} (physical 0x{:x})", a.vector, uint64_t{a.vector} << 12)
                         : a.delivery;
  ImGui::SetTooltip("%s", trf("IPI: vCPU {} -> vCPU {}, {}\n"
                              "{} from the sender's ICR write to the target taking it.\n"
                              "Recorded by ringscope's local APIC model. Under KVM's in-kernel irqchip the "
                              "same IPI never leaves the kernel: no exit, no event, no arrow.",
                              a.from, a.to, what, format_duration(a.taken_ns - a.sent_ns))
                              .c_str());
}

}  // namespace ringscope::viewer
