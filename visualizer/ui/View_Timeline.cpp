// View_Timeline.cpp — one lane per vCPU of each trace: a ring band (CPL over
// time), a VMX band (guest in non-root mode, VMM in root mode while it
// handles an exit), and rows of marks (exits, traps, hypercalls, device
// accesses, markers), under a time ruler.
//
// It stays fast on millions of events the way Tracy's timeline does: every
// row binary-searches the visible window and folds whatever falls within
// ~3 px into one counted mark (fold_* in model/trace_model.h), so a frame
// costs O(pixels * log n), never O(events).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

namespace {

constexpr float kLabelW = 160, kRulerH = 26, kRingH = 24, kVmxH = 14, kRowH = 14, kLaneGap = 10, kTickH = 8;
// Hover.row values besides a MarkRow.
constexpr int kHoverRing = -1, kHoverVmx = -2, kHoverPhase = -3, kHoverRing3 = -4;
const char* kRowNames[kMarkRowCount] = {N_("exits"), N_("traps"), N_("hcalls, irqs"), N_("devices"), N_("markers")};

struct Hover {
  int trace = -1;
  size_t event = 0;
  size_t count = 0;  // > 1: a folded mark
  uint64_t first_ns = 0, last_ns = 0;
  int row = -1;  // MarkRow, or one of kHover* (ring band, VMX band, a phase, a ring-3 tick)
  uint32_t vcpu = 0;
  uint64_t at_ns = 0;
};
Hover g_hover;  // written while drawing, read by input and the tooltip (one View per process in practice)

uint64_t to_abs(double rel_ns, int64_t base) {
  const double a = rel_ns + static_cast<double>(base);
  return a <= 0 ? 0 : static_cast<uint64_t>(a);
}

// Diagonal hatching in `col` over a dark fill, outlined: a span whose
// length the trace does not know.
void draw_hatched(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col) {
  dl->AddRectFilled(a, b, IM_COL32(20, 20, 24, 255));
  dl->PushClipRect(a, b, true);
  const float h = b.y - a.y;
  for (float x = a.x - h; x < b.x; x += 5) dl->AddLine({x, b.y}, {x + h, a.y}, col, 2.0f);
  dl->PopClipRect();
  dl->AddRect(a, b, col, 0, 0, 1.0f);
}

// Pixel heights of a stacked column: each state's share of `total`, at
// least one pixel for a state that has any time at all (a ring entered
// shows at every zoom), summing to `h`.
template <size_t N>
std::array<int, N> stack_heights(const std::array<uint64_t, N>& t, int h) {
  std::array<int, N> out{};
  uint64_t total = 0;
  for (uint64_t v : t) total += v;
  if (total == 0) return out;
  int sum = 0;
  size_t largest = 0;
  for (size_t k = 0; k < N; ++k) {
    out[k] = static_cast<int>(std::lround(static_cast<double>(t[k]) / static_cast<double>(total) * h));
    if (t[k] > 0 && out[k] == 0) out[k] = 1;
    sum += out[k];
    if (t[k] > t[largest]) largest = k;
  }
  out[largest] += h - sum;  // the biggest state absorbs the rounding
  return out;
}

}  // namespace

float View::timeline_x(double rel_ns) const {
  return tl_x0_ + static_cast<float>((rel_ns - view_t0_) / (view_t1_ - view_t0_)) * (tl_x1_ - tl_x0_);
}

std::optional<float> View::ring_band_y(int trace, uint32_t vcpu) const {
  for (const auto& g : lanes_)
    if (g.trace == trace && g.vcpu == vcpu) return (g.ring_y0 + g.ring_y1) / 2;
  return std::nullopt;
}

std::optional<float> View::vmx_band_y(int trace, uint32_t vcpu) const {
  for (const auto& g : lanes_)
    if (g.trace == trace && g.vcpu == vcpu) return (g.vmx_y0 + g.vmx_y1) / 2;
  return std::nullopt;
}

void View::draw_ruler(ImDrawList* dl, float x0, float x1, float y0, float y1) {
  dl->AddRectFilled({x0, y0}, {x1, y1}, IM_COL32(36, 36, 42, 255));
  const double span = view_t1_ - view_t0_;
  const double px_ns = span / std::max(1.0f, x1 - x0);
  // A step of 1, 2 or 5 times a power of ten, about 110 px apart.
  const double raw = px_ns * 110;
  const double p10 = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  const double step = raw <= p10 ? p10 : raw <= 2 * p10 ? 2 * p10 : raw <= 5 * p10 ? 5 * p10 : 10 * p10;
  const char* unit = step >= 1e9 ? "s" : step >= 1e6 ? "ms" : step >= 1e3 ? "µs" : "ns";
  const double scale = step >= 1e9 ? 1e9 : step >= 1e6 ? 1e6 : step >= 1e3 ? 1e3 : 1;
  const double unit_step = step / scale;
  const int decimals = unit_step >= 1 ? 0 : unit_step >= 0.1 ? 1 : 2;
  for (double t = std::ceil(view_t0_ / step) * step; t <= view_t1_; t += step) {
    const float x = timeline_x(t);
    dl->AddLine({x, y1 - 8}, {x, y1}, palette::kRuler);
    for (int k = 1; k < 5; ++k) {
      const float xs = timeline_x(t + step * k / 5);
      if (xs < x1) dl->AddLine({xs, y1 - 4}, {xs, y1}, IM_COL32(110, 110, 120, 255));
    }
    // A tick within a hundredth of a step of 0 is 0 (never "-0 ms").
    const double v = std::fabs(t) < step * 0.01 ? 0.0 : t / scale;
    const std::string label = v == 0 ? fmt::format("0 {}", unit) : fmt::format("{:+.{}f} {}", v, decimals, unit);
    dl->AddText({x + 3, y0 + 3}, palette::kRuler, label.c_str());
  }
  for (const auto& [t, i] : bookmarks_) {
    const float x = timeline_x(rel(t, i));
    if (x < x0 || x > x1) continue;
    dl->AddTriangleFilled({x - 5, y1 - 10}, {x + 5, y1 - 10}, {x, y1}, palette::kBookmark);
  }
}

void View::draw_lane(ImDrawList* dl, const LaneGeom& g, float x0, float x1) {
  const LoadedTrace& lt = traces_[g.trace];
  const TraceModel& m = *lt.model;
  const VcpuTrack* tr = m.track(g.vcpu);
  const int64_t base = static_cast<int64_t>(m.origin_ns()) + lt.align_ns;
  const uint64_t a0 = to_abs(view_t0_, base), a1 = to_abs(view_t1_, base);
  const uint64_t px_ns = static_cast<uint64_t>(std::max(1.0, (view_t1_ - view_t0_) / std::max(1.0f, x1 - x0)));
  auto x_of = [&](uint64_t abs) { return timeline_x(static_cast<double>(static_cast<int64_t>(abs - base))); };
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const bool mouse_in_x = mouse.x >= x0 && mouse.x < x1;
  const uint64_t mouse_abs = to_abs(view_t0_ + (mouse.x - x0) / (x1 - x0) * (view_t1_ - view_t0_), base);

  // Labels in the left column.
  const float lx = ImGui::GetWindowPos().x + 8;
  // The trace's name, cut off with "..." before the "ring" row name.
  const std::string lane = traces_.size() > 1 ? m.name() : std::string("vCPU ") + std::to_string(g.vcpu);
  const ImU32 lane_col = IM_COL32(230, 230, 235, 255);
  const float room = x0 - 8 - ImGui::CalcTextSize(ringscope::tr("ring")).x - 8 - lx;
  if (ImGui::CalcTextSize(lane.c_str()).x <= room) {
    dl->AddText({lx, g.y0}, lane_col, lane.c_str());
  } else {
    const float dots = ImGui::CalcTextSize("...").x;
    dl->PushClipRect({lx, g.y0}, {lx + room - dots, g.y0 + ImGui::GetFontSize()}, true);
    dl->AddText({lx, g.y0}, lane_col, lane.c_str());
    dl->PopClipRect();
    dl->AddText({lx + room - dots, g.y0}, lane_col, "...");
  }
  if (traces_.size() > 1)
    dl->AddText({lx, g.y0 + 16}, IM_COL32(170, 170, 180, 255), fmt::format("vCPU {}", g.vcpu).c_str());
  // Row names right-aligned against the timeline.
  auto label = [&](float y, const char* text) {
    dl->AddText({x0 - 8 - ImGui::CalcTextSize(text).x, y}, palette::kRuler, text);
  };
  label(g.ring_y0 + 4, ringscope::tr("ring"));
  label(g.vmx_y0 - 1, m.bt() ? "BT" : "VMX");
  for (int r = 0; r < kMarkRowCount; ++r)
    if (g.row_y[r] > 0) label(g.row_y[r] - 1, ringscope::tr(kRowNames[r]));

  const uint64_t first = m.first_ns(), last = m.last_ns();
  const uint64_t b0 = std::max(a0, first), b1 = std::min(a1, last);
  dl->AddRectFilled({x0, g.ring_y0}, {x1, g.ring_y1}, palette::kNoData);
  dl->AddRectFilled({x0, g.vmx_y0}, {x1, g.vmx_y1}, palette::kNoData);
  // The selected event: a white line through the lane (no mark is white),
  // drawn under the marks so it never hides one.
  auto draw_cursor = [&] {
    if (selection_.trace != g.trace) return;
    const CompactEvent& c = m.at(selection_.event);
    if (c.vcpu != g.vcpu && m.tracks().size() > 1) return;
    const float x = x_of(c.time_ns);
    if (x < x0 || x > x1) return;
    dl->AddLine({x, g.y0}, {x, g.y1}, palette::kSelection, 2.0f);
    dl->AddTriangleFilled({x - 6, g.y0 - 6}, {x + 6, g.y0 - 6}, {x, g.y0 + 2}, palette::kSelection);
  };
  if (!tr || b1 <= b0) draw_cursor();
  if (tr && b1 > b0) {
    draw_bands(dl, g, m, g.vcpu, base, b0, b1, x0, x1);
    draw_cursor();
    // Ring-3 visits too short to see: a tick in the ring-3 colour over the
    // top of the band, at least 3 px wide. A visit whose length is unknown
    // (ring 3 ran natively, not single-stepped: PVM hosts) is drawn as what
    // it is: a hatched box the height of the band, at least 5 px wide.
    fold_spans<Ring3Visit>(tr->ring3, b0, b1, px_ns * 3, [&](uint64_t b, uint64_t e, size_t first_v, size_t n) {
      const float xa = x_of(b), xe = x_of(e);
      const bool unobserved = tr->ring3[first_v].steps == 0 && m.unstepped_runs() > 0;
      if (!unobserved && xe - xa >= 3 && n == 1) return;  // wide enough: the band itself shows it
      const float w = unobserved ? 7.0f : 3.0f;
      const float xm = xe - xa >= w ? xa : (xa + xe) / 2 - w / 2;
      const float xr = std::max(xe, xm + w);
      if (unobserved) {
        draw_hatched(dl, {xm, g.ring_y0}, {xr, g.ring_y1}, palette::kRing3);
      } else {
        dl->AddRectFilled({xm, g.ring_y0}, {xr, g.ring_y0 + kTickH}, palette::kRing3);
      }
      dl->AddTriangleFilled({xm - 2, g.ring_y0 - 4}, {xm + w + 2, g.ring_y0 - 4}, {xm + w / 2, g.ring_y0},
                            palette::kRing3);
      ++marks_drawn_;
      if (mouse_in_x && mouse.y >= g.ring_y0 - 4 && mouse.y < g.ring_y1 && mouse.x >= xm - 3 && mouse.x < xr + 3)
        g_hover = {g.trace, first_v, n, b, e, kHoverRing3, g.vcpu, mouse_abs};
    });
    // Phases (marker begin..end) as labelled spans in the markers row, one
    // sub-row per nesting depth (model: stack_phases), labels clipped to
    // their span.
    if (g.row_y[static_cast<int>(MarkRow::Markers)] > 0) {
      const float ry0 = g.row_y[static_cast<int>(MarkRow::Markers)];
      for (size_t d = 0; d < tr->phase_rows.size(); ++d) {
        const float ry = ry0 + static_cast<float>(d) * kRowH;
        const auto& row = tr->phase_rows[d];
        fold_spans<PhaseSpan>(row, a0, a1, px_ns * 3, [&](uint64_t b, uint64_t e, size_t first_p, size_t n) {
          const PhaseStats& p = m.stats().phases[row[first_p].phase];
          const float xa = std::max(x_of(b), x0), xb = std::max(std::min(x_of(e), x1), xa + 2);
          // A phase is what its markers bracket: the marker colour, translucent.
          const ImU32 mc = palette::rgba(palette::Colour::Marker) & 0x00ffffff;
          dl->AddRectFilled({xa, ry + 1}, {xb, ry + kRowH - 1}, mc | (n > 1 ? 0x46000000u : 0x28000000u));
          dl->AddLine({xa, ry + 1}, {xa, ry + kRowH - 1}, mc | 0x96000000u);
          if (xb - xa > 12 && n == 1) {
            dl->PushClipRect({xa, ry}, {xb - 1, ry + kRowH}, true);
            dl->AddText({xa + 4, ry - 1}, IM_COL32(230, 230, 240, 210), p.label.c_str());
            dl->PopClipRect();
          }
          if (mouse_in_x && mouse.y >= ry && mouse.y < ry + kRowH && mouse.x >= xa && mouse.x < xb)
            g_hover = {g.trace, row[first_p].phase, n, b, e, kHoverPhase, g.vcpu, mouse_abs};
        });
      }
    }
    // Mark rows.
    for (int r = 0; r < kMarkRowCount; ++r) {
      if (g.row_y[r] <= 0) continue;
      const float ry = g.row_y[r];
      const auto& list = tr->marks[r];
      fold_marks(m, list, a0, a1, px_ns * 3, [&](size_t first_i, size_t n) {
        const uint32_t idx = list[first_i];
        const CompactEvent& c = m.at(idx);
        const auto k = static_cast<EventKind>(c.kind);
        const ImU32 col = palette::kind(k, c.code, k == EventKind::Trap ? m.event(idx).cause : TrapCause::None);
        const float xa = x_of(c.time_ns);
        float xb = xa + 2;
        const float rh = g.row_h[r];
        if (n > 1) {
          xb = std::max(x_of(m.time(list[first_i + n - 1])) + 2, xa + 3);
          dl->AddRectFilled({xa, ry + 1}, {xb, ry + rh - 1}, (col & 0x00ffffff) | 0xb0000000);
          dl->AddRectFilled({xa, ry + 1}, {xb, ry + 3}, col);
        } else {
          dl->AddRectFilled({xa, ry + 1}, {xb, ry + rh - 1}, col);
        }
        ++marks_drawn_;
        if (mouse_in_x && mouse.y >= ry && mouse.y < ry + g.row_h[r] && mouse.x >= xa - 3 && mouse.x < xb + 3)
          g_hover = {g.trace, idx, n, c.time_ns, m.time(list[first_i + n - 1]), r, g.vcpu, mouse_abs};
      });
    }
  }
  draw_host_rows(dl, g, x0, x1);
}

void View::draw_bands(ImDrawList* dl, const LaneGeom& g, const TraceModel& m, uint32_t vcpu, int64_t base, uint64_t b0,
                      uint64_t b1, float x0, float x1) {
  const double span = view_t1_ - view_t0_;
  auto abs_at = [&](float x) { return to_abs(view_t0_ + (x - x0) / (x1 - x0) * span, base); };
  auto x_of = [&](uint64_t abs) { return timeline_x(static_cast<double>(static_cast<int64_t>(abs - base))); };
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const float xa = std::max(x0, std::floor(x_of(b0))), xb = std::min(x1, std::ceil(x_of(b1)));
  // Ring band, top to bottom: ring 3, ring 1/2, ring 0, not known.
  // VMX band, top to bottom: hypervisor (root), halted inside KVM, guest.
  static constexpr ImU32 kRingCols[4] = {palette::kRing3, IM_COL32(230, 200, 90, 255), palette::kRing0,
                                         palette::kNoData};
  // In a bt trace: the monitor, halted, the translator, direct execution,
  // and not known (before the first world switch: nothing ran yet).
  static constexpr ImU32 kVmxCols[5] = {palette::kRoot, palette::kHaltedInKvm, palette::kNoData, palette::kNonRoot,
                                        palette::kNoData};
  static constexpr ImU32 kBtCols[5] = {palette::kBtMonitor, palette::kHaltedInKvm, palette::kBtTranslated,
                                       palette::kBtDirect, palette::kNoData};
  const ImU32* band_cols = m.bt() ? kBtCols : kVmxCols;
  const int ring_h = static_cast<int>(g.ring_y1 - g.ring_y0), vmx_h = static_cast<int>(g.vmx_y1 - g.vmx_y0);
  std::array<int, 4> run_ring{};
  std::array<int, 5> run_vmx{};
  const VcpuTrack* track = m.track(vcpu);
  const uint64_t worlds_from = m.bt() && track ? track->worlds_from : 0;
  float ring_x = xa, vmx_x = xa;
  auto flush_ring = [&](float x_end) {
    float y = g.ring_y0;
    for (int k = 0; k < 4 && x_end > ring_x; ++k) {
      if (run_ring[k] <= 0) continue;
      dl->AddRectFilled({ring_x, y}, {x_end, y + static_cast<float>(run_ring[k])}, kRingCols[k]);
      y += static_cast<float>(run_ring[k]);
      // A long stretch in one ring says which.
      if (run_ring[k] == ring_h && x_end - ring_x > 120 && (k == 0 || k == 2))
        dl->AddText({std::max(ring_x, x0) + 4, g.ring_y0 + 4}, IM_COL32(255, 255, 255, 230),
                    k == 2 ? ringscope::tr("ring 0 · kernel") : ringscope::tr("ring 3 · user"));
    }
    ring_x = x_end;
  };
  auto flush_vmx = [&](float x_end) {
    float y = g.vmx_y0;
    for (int k = 0; k < 5 && x_end > vmx_x; ++k) {
      if (run_vmx[k] <= 0) continue;
      dl->AddRectFilled({vmx_x, y}, {x_end, y + static_cast<float>(run_vmx[k])}, band_cols[k]);
      y += static_cast<float>(run_vmx[k]);
    }
    vmx_x = x_end;
  };
  // Each column's share is the difference of the running totals at its two
  // edges; the walker finds each edge from the last one.
  TraceModel::Walker walk(m, vcpu);
  uint64_t prev_t = std::max(abs_at(xa), b0);
  TimeShare prev = walk.totals_at(prev_t);
  for (float x = xa; x < xb; x += 1) {
    const uint64_t ta = prev_t, tb = std::max(ta + 1, std::min(abs_at(x + 1), b1));
    const TimeShare cur = walk.totals_at(tb);
    TimeShare s;
    uint64_t known = 0;
    for (int k = 0; k < 4; ++k) {
      s.cpl[k] = cur.cpl[k] - prev.cpl[k];
      known += s.cpl[k];
    }
    s.cpl_unknown = tb - ta > known ? tb - ta - known : 0;
    s.root = cur.root - prev.root;
    s.halted = cur.halted - prev.halted;
    s.translated = cur.translated - prev.translated;
    prev = cur;
    prev_t = tb;
    const auto ring = stack_heights<4>({s.cpl[3], s.cpl[1] + s.cpl[2], s.cpl[0], s.cpl_unknown}, ring_h);
    // bt: the monitor's time lies inside the translator's (callouts come
    // from translated code), so the translator's own share is what is left.
    const uint64_t busy = s.root + s.halted, width = tb - ta;
    const uint64_t translated = s.translated > s.root ? s.translated - s.root : 0;
    uint64_t rest = width > busy + translated ? width - busy - translated : 0;
    // bt: before the first world switch the guest is in neither world.
    const uint64_t unknown = ta < worlds_from ? std::min(rest, std::min(tb, worlds_from) - ta) : 0;
    rest -= unknown;
    const auto vmx = stack_heights<5>({s.root, s.halted, translated, rest, unknown}, vmx_h);
    if (ring != run_ring) {
      flush_ring(x);
      run_ring = ring;
    }
    if (vmx != run_vmx) {
      flush_vmx(x);
      run_vmx = vmx;
    }
    if (mouse.x >= x && mouse.x < x + 1) {
      if (mouse.y >= g.ring_y0 && mouse.y < g.ring_y1)
        g_hover = {g.trace, m.lower_bound(ta), 0, ta, tb, kHoverRing, vcpu, abs_at(mouse.x)};
      if (mouse.y >= g.vmx_y0 && mouse.y < g.vmx_y1) {
        const auto root = m.root_at(vcpu, abs_at(mouse.x));
        g_hover = {g.trace, root ? *root : m.lower_bound(ta), 0, ta, tb, kHoverVmx, vcpu, abs_at(mouse.x)};
      }
    }
  }
  flush_ring(xb);
  flush_vmx(xb);
}

void View::timeline_input(float x0, float x1, float y0, float y1) {
  ImGui::SetCursorScreenPos({x0, y0});
  ImGui::InvisibleButton("##timeline", {std::max(1.0f, x1 - x0), std::max(1.0f, y1 - y0)},
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  ImGuiIO& io = ImGui::GetIO();
  const bool hovered = ImGui::IsItemHovered();
  const double span = view_t1_ - view_t0_;
  if (hovered && io.MouseWheel != 0) {
    // Zoom around the time under the cursor, so it stays put.
    const double at = view_t0_ + (io.MousePos.x - x0) / (x1 - x0) * span;
    const double f = std::pow(0.8, io.MouseWheel);
    const double w = std::clamp(span * f, 50.0, 1e13);
    const double k = (at - view_t0_) / span;
    set_zoom(at - k * w, at - k * w + w);
    follow_user_width_ = follow_;  // following goes on at the width the user chose
  }
  auto rel_at = [&](float x) { return view_t0_ + (std::clamp(x, x0, x1) - x0) / (x1 - x0) * span; };
  if (ImGui::IsItemActivated()) {
    dragging_ = false;
    drag_start_x_ = io.MousePos.x;
    // Right-drag, or shift-drag, selects a time range; a plain drag pans.
    range_dragging_ = io.MouseDown[1] || io.KeyShift;
    range_anchor_ = rel_at(io.MousePos.x);
  }
  if (ImGui::IsItemActive() && std::fabs(io.MousePos.x - drag_start_x_) > 3) dragging_ = true;
  if (ImGui::IsItemActive() && range_dragging_ && dragging_) {
    const double at = rel_at(io.MousePos.x);
    set_range(std::min(at, range_anchor_), std::max(at, range_anchor_));
  } else if (ImGui::IsItemActive() && dragging_ && io.MouseDelta.x != 0) {
    const double d = -io.MouseDelta.x / (x1 - x0) * span;
    set_zoom(view_t0_ + d, view_t1_ + d);
    follow_ = false;  // the user looks elsewhere: stop scrolling under them
  }
  if (ImGui::IsItemDeactivated() && !dragging_ && !range_dragging_ && g_hover.trace >= 0) {
    // A click selects what is under the cursor: a mark's event, a phase's
    // begin marker, the event entering a ring-3 visit, or on the bands the
    // event at that time.
    const TraceModel& hm = *traces_[g_hover.trace].model;
    size_t e = g_hover.event;
    if (g_hover.row == kHoverRing) e = hm.lower_bound(g_hover.at_ns);
    if (g_hover.row == kHoverPhase) e = hm.stats().phases[g_hover.event].begin_seq;
    if (g_hover.row == kHoverRing3) e = hm.track(g_hover.vcpu)->ring3[g_hover.event].event;
    if (e >= hm.size() && e > 0) e = hm.size() - 1;
    follow_ = false;  // the user picked an event: keep it selected
    select(g_hover.trace, e, false);
  }
  if (ImGui::IsItemDeactivated()) {
    range_dragging_ = false;
    dragging_ = false;  // the drag is over: the statistics may recompute
  }
  if (hovered && g_hover.trace >= 0 && !dragging_) {
    const TraceModel& m = *traces_[g_hover.trace].model;
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
    auto unobserved_note = [&](const Ring3Visit& v) {
      if (v.steps == 0 && m.unstepped_runs() > 0)
        ImGui::TextWrapped(
            ringscope::tr("Ring 3 ran natively, unobserved: this host does not single-step user mode (the trace "
                          "counts %llu unstepped runs), so the visit shows only where it began and ended."),
            static_cast<unsigned long long>(m.unstepped_runs()));
    };
    if (g_hover.row == kHoverRing3) {
      const Ring3Visit& v = m.track(g_hover.vcpu)->ring3[g_hover.event];
      if (g_hover.count > 1)
        ImGui::Text(ringscope::tr("%zu visits to ring 3 (user mode) here, from %s to %s; zoom in to separate them."),
                    g_hover.count, time_label(static_cast<double>(g_hover.first_ns - m.origin_ns())).c_str(),
                    time_label(static_cast<double>(g_hover.last_ns - m.origin_ns())).c_str());
      else
        ImGui::Text(ringscope::tr("ring 3 (user mode) at %s for %s"),
                    time_label(static_cast<double>(v.begin_ns - m.origin_ns())).c_str(),
                    format_duration(v.end_ns - v.begin_ns).c_str());
      unobserved_note(v);
    } else if (g_hover.row == kHoverPhase) {
      const PhaseStats& p = m.stats().phases[g_hover.event];
      if (g_hover.count > 1)
        ImGui::Text(ringscope::tr("%zu phases here; zoom in to separate them."), g_hover.count);
      else
        ImGui::Text(ringscope::tr("phase \"%s\"%s: %s, %llu VM exits, %llu traps"), p.label.c_str(),
                    p.closed ? "" : ringscope::tr(" (never ended)"), format_duration(p.duration_ns()).c_str(),
                    static_cast<unsigned long long>(p.vm_exits), static_cast<unsigned long long>(p.traps));
    } else if (g_hover.row == kHoverRing || g_hover.row == kHoverVmx) {
      // What the pixel under the mouse holds, as shares of its time.
      const TimeShare sh = m.share(g_hover.vcpu, g_hover.first_ns, g_hover.last_ns);
      const uint64_t w = std::max<uint64_t>(1, g_hover.last_ns - g_hover.first_ns);
      auto pct = [&](uint64_t t) { return 100.0 * static_cast<double>(t) / static_cast<double>(w); };
      if (g_hover.row == kHoverRing) {
        const int cpl = m.cpl_at(g_hover.vcpu, g_hover.at_ns);
        if (cpl < 0)
          ImGui::TextUnformatted(ringscope::tr("CPL not known yet: no event has recorded it."));
        else
          ImGui::Text(ringscope::tr("ring %d (%s)"), cpl,
                      cpl == 0   ? ringscope::tr("kernel mode")
                      : cpl == 3 ? ringscope::tr("user mode")
                                 : ringscope::tr("rarely used ring"));
        if (sh.cpl[cpl < 0 ? 0 : cpl] < w)
          ImGui::Text(
              ringscope::tr("This pixel (%s): ring 3 %.1f%%, ring 0 %.1f%%%s; the band stacks the shares."),
              format_duration(w).c_str(), pct(sh.cpl[3]), pct(sh.cpl[0]),
              sh.cpl[1] + sh.cpl[2] ? ringscope::trf(", ring 1/2 {:.1f}%", pct(sh.cpl[1] + sh.cpl[2])).c_str() : "");
        if (cpl == 3)
          if (const Ring3Visit* v = m.ring3_at(g_hover.vcpu, g_hover.at_ns)) unobserved_note(*v);
      } else {
        const auto root = m.root_at(g_hover.vcpu, g_hover.at_ns);
        if (m.bt()) {
          bt_band_tooltip(m, root, g_hover.vcpu, g_hover.at_ns);
        } else if (root) {
          const Event e = m.event(*root);
          ImGui::Text(
              ringscope::tr("VMX root mode: the hypervisor handled exit #%llu (%s) for %s, then re-entered the guest."),
              static_cast<unsigned long long>(e.seq), exit_reason_name(e.reason).c_str(),
              format_duration(e.duration_ns).c_str());
        } else if (const HaltSpan* h = m.halted_at(g_hover.vcpu, g_hover.at_ns)) {
          ImGui::Text(
              ringscope::tr(
                  "Halted inside KVM for %s of this %s stretch without events (%.0f%%): the guest executed hlt "
                  "and KVM's in-kernel irqchip kept the vCPU asleep until an interrupt, without returning to the "
                  "VMM. KVM's halt_wait_ns counter gives how long the vCPU waited between two samples, not "
                  "exactly when: the wait is drawn over the longest quiet stretches between them."),
              format_duration(h->halted_ns()).c_str(), format_duration(h->end_ns - h->begin_ns).c_str(),
              h->share * 100);
        } else {
          ImGui::TextUnformatted(ringscope::tr("VMX non-root mode: the guest runs."));
        }
        if (m.bt() && sh.root + sh.translated > 0 && sh.translated < w)
          ImGui::Text(ringscope::tr("This pixel (%s): monitor %.1f%%, translator %.1f%%, direct execution %.1f%%."),
                      format_duration(w).c_str(), pct(sh.root),
                      pct(sh.translated > sh.root ? sh.translated - sh.root : 0),
                      std::max(0.0, 100.0 - pct(sh.root) - pct(sh.translated > sh.root ? sh.translated - sh.root : 0)));
        else if (!m.bt() && sh.root + sh.halted > 0 && sh.root + sh.halted < w)
          ImGui::Text(ringscope::tr("This pixel (%s): hypervisor %.1f%%, halted in KVM %.1f%%, guest %.1f%%."),
                      format_duration(w).c_str(), pct(sh.root), pct(sh.halted), 100.0 - pct(sh.root) - pct(sh.halted));
      }
    } else if (g_hover.count > 1) {
      ImGui::Text(ringscope::tr("%zu %s folded into one mark, from %s to %s."), g_hover.count,
                  ringscope::tr(kRowNames[g_hover.row]),
                  time_label(static_cast<double>(g_hover.first_ns - m.origin_ns())).c_str(),
                  time_label(static_cast<double>(g_hover.last_ns - m.origin_ns())).c_str());
      ImGui::TextDisabled(ringscope::tr("Zoom in (mouse wheel) to see them one by one; click selects the first."));
    } else {
      const Event e = m.event(g_hover.event);
      ImGui::Text("#%llu  %s  %s", static_cast<unsigned long long>(e.seq),
                  time_label(static_cast<double>(e.time_ns - m.origin_ns())).c_str(),
                  std::string(kind_name(e.kind)).c_str());
      ImGui::TextUnformatted(summarize_event(e).c_str());
    }
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void View::draw_timeline() {
  marks_drawn_ = 0;
  g_hover = {};
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float x0 = origin.x + kLabelW, x1 = origin.x + avail.x - 4;
  tl_x0_ = x0;
  tl_x1_ = std::max(x0 + 10, x1);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  if (traces_.empty() && machines_) {
    ImGui::TextWrapped(
        ringscope::tr("No trace yet. Make a VM with \"New VM\" in the Machines panel and run it: its "
                      "trace appears here while it is written."));
    lanes_.clear();
    return;
  }
  if (traces_.empty()) {
    ImGui::TextWrapped(
        ringscope::tr("No trace loaded. Record one with `ringscope run SCENARIO --trace FILE.rtrace` and open it "
                      "with `ringscope view FILE.rtrace`."));
    lanes_.clear();
    return;
  }
  draw_ruler(dl, x0, tl_x1_, origin.y, origin.y + kRulerH);
  const float legend_h = legend(avail.x, false);
  const ImVec2 after_ruler = ImGui::GetCursorScreenPos();
  if (any_followed()) draw_live_controls(dl, origin.x, x0, tl_x1_, origin.y);
  ImGui::SetCursorScreenPos(after_ruler);

  // Lane geometry: rows only for kinds the track has.
  lanes_.clear();
  float y = origin.y + kRulerH + 6;
  for (size_t t = 0; t < traces_.size(); ++t) {
    const TraceModel& m = *traces_[t].model;
    const size_t n_tracks = std::max<size_t>(1, m.tracks().size());
    for (size_t v = 0; v < n_tracks; ++v) {
      const VcpuTrack* tr = m.track(static_cast<uint32_t>(v));
      if (tr && tr->events == 0) continue;
      LaneGeom g{};
      g.trace = static_cast<int>(t);
      g.vcpu = static_cast<uint32_t>(v);
      g.y0 = y;
      g.ring_y0 = y + 2;
      g.ring_y1 = g.ring_y0 + kRingH;
      g.vmx_y0 = g.ring_y1 + 3;
      g.vmx_y1 = g.vmx_y0 + kVmxH;
      float ry = g.vmx_y1 + 4;
      for (int r = 0; r < kMarkRowCount; ++r) {
        g.row_y[r] = 0;
        g.row_h[r] = kRowH;
        if (r == static_cast<int>(MarkRow::Markers) && tr && !tr->phase_rows.empty())
          g.row_h[r] = kRowH * static_cast<float>(tr->phase_rows.size());  // one sub-row per nesting depth
        if (tr && (!tr->marks[r].empty() || (r == static_cast<int>(MarkRow::Markers) && !tr->phase_rows.empty()))) {
          g.row_y[r] = ry;
          ry += g.row_h[r] + 2;
        }
      }
      ry = host_rows(g, m, ry);
      g.y1 = ry;
      y = ry + kLaneGap;
      lanes_.push_back(g);
    }
  }
  // The legend always shows; lanes that do not fit above it are clipped.
  const float lanes_bottom = std::min(y, origin.y + avail.y - legend_h - 2);
  dl->PushClipRect({origin.x, origin.y}, {origin.x + avail.x, lanes_bottom + 3}, true);
  for (const auto& g : lanes_) {
    dl->AddRectFilled({origin.x, g.y0 - 3}, {origin.x + avail.x, g.y1 + 3}, palette::kLaneBg, 3);
    draw_lane(dl, g, x0, tl_x1_);
  }
  draw_ipi_arrows(dl, x0, tl_x1_);
  if (range_) {
    // The selected time range: a shaded band over the ruler and the lanes.
    const float ra = std::clamp(timeline_x(range_->first), x0, tl_x1_),
                rb = std::clamp(timeline_x(range_->second), x0, tl_x1_);
    if (rb > ra || (ra > x0 && ra < tl_x1_)) {
      dl->AddRectFilled({ra, origin.y}, {std::max(rb, ra + 1), lanes_bottom}, palette::kRangeFill);
      dl->AddLine({ra, origin.y}, {ra, lanes_bottom}, palette::kRangeEdge);
      dl->AddLine({rb, origin.y}, {rb, lanes_bottom}, palette::kRangeEdge);
      const std::string w = format_duration(static_cast<uint64_t>(range_->second - range_->first));
      dl->AddText({ra + 4, origin.y + kRulerH - 14}, palette::kRangeEdge, w.c_str());
    }
  }
  dl->PopClipRect();
  timeline_input(x0, tl_x1_, origin.y, std::max(lanes_bottom, origin.y + kRulerH + 10));
  ipi_tooltip();
  ImGui::SetCursorScreenPos({origin.x, std::min(lanes_bottom + 2, origin.y + avail.y - legend_h)});
  legend(avail.x, true);
}

void View::draw_live_controls(ImDrawList* dl, float x_label, float x0, float x1, float y0) {
  // The Follow box, in the label column beside the ruler.
  ImGui::SetCursorScreenPos({x_label + 2, y0 + 2});
  ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, {2, 1});
  bool on = follow_;
  if (ImGui::Checkbox(ringscope::tr("Follow"), &on)) set_follow(on);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", ringscope::tr("Keep the newest events in view and selected while the run is live. "
                                          "Dragging the timeline turns it off."));
  ImGui::PopStyleVar();
  // The badge at the ruler's right end: live (a red dot) or ended.
  const bool live = any_live();
  uint64_t events = 0;
  for (const auto& t : traces_)
    if (t.followed) events += t.model->size();
  const std::string text = live ? trf("LIVE · {} events", events) : trf("run ended · {} events", events);
  const ImVec2 size = ImGui::CalcTextSize(text.c_str());
  const float h = size.y + 4, dot = live ? h : 0;
  const ImVec2 a{std::max(x0, x1 - size.x - dot - 12), y0 + 2}, b{x1 - 2, y0 + 2 + h};
  dl->AddRectFilled(a, b, live ? palette::kLiveBadge : palette::kEndedBadge, 3);
  if (live) dl->AddCircleFilled({a.x + 4 + dot / 2 - 2, (a.y + b.y) / 2}, h / 2 - 4, palette::kLiveDot);
  dl->AddText({a.x + 4 + dot, a.y + 2}, IM_COL32(255, 255, 255, 255), text.c_str());
}

uint64_t View::colours_used(const TraceModel& m) {
  using palette::Colour;
  static_assert(palette::kColourCount <= 64, "one bit per colour");
  uint64_t used = 0;
  auto use = [&](Colour c) { used |= uint64_t{1} << static_cast<int>(c); };
  const TraceStats& st = m.stats();
  for (const VcpuTrack& tr : m.tracks()) {
    if (tr.events == 0) continue;
    use(m.bt() ? Colour::BtDirect : Colour::NonRoot);
    if (!tr.translated.empty()) use(Colour::BtTranslated);
    for (const CplChange& c : tr.cpl) use(c.cpl == 0 ? Colour::Ring0 : c.cpl == 3 ? Colour::Ring3 : Colour::Ring12);
    if (tr.cpl.empty() || tr.cpl.front().time_ns > m.first_ns()) use(Colour::Unknown);
    if (!tr.root.empty()) use(m.bt() ? Colour::BtMonitor : Colour::Root);
    if (!tr.halted.empty()) use(Colour::HaltedInKvm);
    if (m.unstepped_runs() > 0)
      for (const Ring3Visit& v : tr.ring3)
        if (v.steps == 0) use(Colour::Ring3Unobserved);
  }
  // The host rows (View_HostTracks.cpp).
  for (const VcpuTrack& tr : m.tracks())
    if (m.host().lane(tr.vcpu)) {
      use(Colour::HostOnCpu);
      use(Colour::HostRunDelay);
    }
  if (!m.host().rss().empty()) use(Colour::HostRss);
  if (!m.host().ram_resident().empty()) use(Colour::HostRamAllocated);
  if (!m.host().disk_cached().empty()) use(Colour::HostDiskCached);
  for (const ExitReasonStats& r : st.exits)
    if (r.count) use(palette::for_exit(r.reason));
  for (const TrapStats& t : st.traps) use(palette::for_event(EventKind::Trap, t.vector, t.cause));
  for (int k = 0; k < event_kind_count(); ++k) {
    const auto kind = static_cast<EventKind>(k);
    bool shown = false;
    mark_row_for(kind, shown);
    if (st.by_kind[k] && shown && kind != EventKind::VmExit && kind != EventKind::Trap)
      use(palette::for_event(kind, 0));
  }
  return used;
}

// The BT band's tooltip (a bt trace): where the guest was at t, in words.
void View::bt_band_tooltip(const TraceModel& m, std::optional<uint32_t> monitor_event, uint32_t vcpu, uint64_t t) {
  if (monitor_event) {
    const Event e = m.event(*monitor_event);
    ImGui::Text(ringscope::tr("The monitor: %s for %s (%s)."), kind_name(e.kind).data(),
                format_duration(e.duration_ns).c_str(), summarize_event(e).c_str());
    return;
  }
  switch (m.world_at(vcpu, t)) {
    case BtWorld::Translated:
      ImGui::TextWrapped(
          "%s", ringscope::tr("The translator: guest kernel code runs from the translation cache, its sensitive "
                              "instructions replaced by callouts into the monitor."));
      break;
    case BtWorld::Direct:
      ImGui::TextWrapped("%s", ringscope::tr("Direct execution: guest user code runs natively on the CPU; the "
                                             "monitor's IDT, GDT and TSS catch every trap."));
      break;
    default: ImGui::TextUnformatted(ringscope::tr("Not known yet: no world switch recorded before this time.")); break;
  }
}

float View::legend(float width, bool draw) {
  // A legend, wrapped, so a student can read every colour without asking.
  uint64_t used = 0;
  for (const auto& t : traces_) used |= t.colours;
  const float h = ImGui::GetTextLineHeight(), gap = 14;
  const float x_start = ImGui::GetCursorScreenPos().x, y_start = ImGui::GetCursorScreenPos().y;
  float x = 0, y = 0;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  auto item = [&](float w, auto&& paint) {
    if (x > 0 && x + w > width) {
      x = 0;
      y += h + 4;
    }
    if (draw) paint(ImVec2{x_start + x, y_start + y});
    x += w + gap;
  };
  for (const palette::ColourInfo& c : palette::colours()) {
    if (!(used & (uint64_t{1} << static_cast<int>(c.id)))) continue;
    const float w = h + 2 + ImGui::CalcTextSize(ringscope::tr(c.legend)).x;
    item(w, [&](ImVec2 p) {
      if (c.id == palette::Colour::Ring3Unobserved)
        draw_hatched(dl, {p.x, p.y + 1}, {p.x + h - 4, p.y + h - 1}, c.rgba);
      else
        dl->AddRectFilled({p.x, p.y + 2}, {p.x + h - 4, p.y + h - 2}, c.rgba, 2);
      dl->AddText({p.x + h + 2, p.y}, ImGui::GetColorU32(ImGuiCol_Text), ringscope::tr(c.legend));
    });
  }
  if (any_ipis()) {
    const char* text = ringscope::tr("IPI: sender's ICR write -> target takes it");
    item(22 + ImGui::CalcTextSize(text).x, [&](ImVec2 p) {
      const ImU32 pink = palette::kIpi;
      dl->AddLine({p.x, p.y + h / 2}, {p.x + 14, p.y + h / 2}, pink, 1.5f);
      dl->AddTriangleFilled({p.x + 18, p.y + h / 2}, {p.x + 12, p.y + h / 2 - 4}, {p.x + 12, p.y + h / 2 + 4}, pink);
      dl->AddText({p.x + 22, p.y}, ImGui::GetColorU32(ImGuiCol_Text), text);
    });
  }
  if (selection_.valid()) {
    const char* text = ringscope::tr("selected event");
    item(12 + ImGui::CalcTextSize(text).x, [&](ImVec2 p) {
      dl->AddLine({p.x + 4, p.y}, {p.x + 4, p.y + h}, palette::kSelection, 2.0f);
      dl->AddText({p.x + 12, p.y}, ImGui::GetColorU32(ImGuiCol_Text), text);
    });
  }
  const char* help =
      ringscope::tr("wheel: zoom  drag: pan  right/shift-drag: select range  Esc: clear  click: select  F: fit");
  item(ImGui::CalcTextSize(help).x, [&](ImVec2 p) { dl->AddText(p, ImGui::GetColorU32(ImGuiCol_TextDisabled), help); });
  const float total = y + h + 4;
  if (draw) {
    ImGui::Dummy({width, total});
    legend_rect_ = {{x_start, y_start}, {x_start + width, y_start + y + h}};
  }
  return total;
}

}  // namespace ringscope::viewer
