// View_HostTracks.cpp — the host's view of the VM under each vCPU lane
// (ringscope/host_counters.h, model/host_series.h).
//
// Two small plots, drawn only for a trace that has host counters:
//   host CPU   under every vCPU lane: the share of wall time the vCPU's host
//              thread ran (blue) and waited, runnable, for a host CPU (orange
//              run delay), 0-100%, one pixel column at a time. Each column's
//              value is the counter's difference across the column over the
//              column's time (HostSeries::rate_between), so it is the true
//              share however the samples fall.
//   host mem   under vCPU 0's lane: the process's RSS, guest RAM the host has
//              allocated, and the disk image in the page cache, as levels
//              scaled to the largest of them; that largest level, in MiB, is
//              written beside the row's top, where the plot reaches it.
// Hovering either shows the figures at that time and where they come from.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ringscope/host_counters.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

namespace {

constexpr float kHostCpuH = View::kHostCpuRowH, kHostMemH = View::kHostMemRowH;
// Colours from the one table (palette.h): the legend below the lanes names them.
constexpr ImU32 kCpuCol = palette::kHostOnCpu;
constexpr ImU32 kDelayCol = palette::kHostRunDelay;
constexpr ImU32 kRssCol = palette::kHostRss;
constexpr ImU32 kRamCol = palette::kHostRamAllocated;
constexpr ImU32 kDiskCol = palette::kHostDiskCached;
constexpr ImU32 kGrid = IM_COL32(70, 70, 80, 255);
constexpr ImU32 kRowBg = IM_COL32(22, 22, 26, 255);

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1 << 20)); }

// The memory row's scale, short enough for the label column: whole MiB
// from 10 MiB up, one decimal below.
std::string scale_mib(uint64_t bytes) {
  const double m = static_cast<double>(bytes) / (1 << 20);
  return m >= 10 ? fmt::format("{:.0f}", m) : fmt::format("{:.1f}", m);
}

std::string percent(std::optional<double> share) {
  return share ? fmt::format("{:.0f}%", 100.0 * *share) : std::string("-");
}

}  // namespace

std::optional<float> View::host_cpu_row_y(int trace, uint32_t vcpu) const {
  for (const auto& g : lanes_)
    if (g.trace == trace && g.vcpu == vcpu && g.host_cpu_y > 0) return g.host_cpu_y;
  return std::nullopt;
}

std::optional<float> View::host_mem_row_y(int trace) const {
  for (const auto& g : lanes_)
    if (g.trace == trace && g.host_mem_y > 0) return g.host_mem_y;
  return std::nullopt;
}

float View::host_rows(LaneGeom& g, const TraceModel& m, float y) const {
  g.host_cpu_y = g.host_mem_y = 0;
  if (m.host().lane(g.vcpu)) {
    g.host_cpu_y = y;
    y += kHostCpuH + 2;
  }
  if (g.vcpu == 0 && m.host().any_process()) {
    g.host_mem_y = y;
    y += kHostMemH + 2;
  }
  return y;
}

void View::draw_host_rows(ImDrawList* dl, const LaneGeom& g, float x0, float x1) {
  if (g.host_cpu_y <= 0 && g.host_mem_y <= 0) return;
  const LoadedTrace& lt = traces_[g.trace];
  const TraceModel& m = *lt.model;
  const int64_t base = static_cast<int64_t>(m.origin_ns()) + lt.align_ns;
  const double span = view_t1_ - view_t0_;
  const float w = std::max(1.0f, x1 - x0);
  // The absolute time at pixel x of the timeline.
  auto abs_at = [&](float x) {
    const double a = view_t0_ + (x - x0) / w * span + static_cast<double>(base);
    return a <= 0 ? uint64_t{0} : static_cast<uint64_t>(a);
  };
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  auto label = [&](float y, const char* text) {
    dl->AddText({x0 - 8 - ImGui::CalcTextSize(text).x, y}, palette::kRuler, text);
  };

  if (g.host_cpu_y > 0) {
    const HostLaneSeries& s = *m.host().lane(g.vcpu);
    const float y0 = g.host_cpu_y, y1 = y0 + kHostCpuH;
    label(y0 + 6, ringscope::tr("host CPU"));
    dl->AddRectFilled({x0, y0}, {x1, y1}, kRowBg);
    dl->AddLine({x0, y0}, {x1, y0}, kGrid);  // 100%
    dl->AddLine({x0, (y0 + y1) / 2}, {x1, (y0 + y1) / 2}, kGrid);
    // Column by column: CPU share from the bottom, run delay on top of it
    // (together they are the time the thread wanted a CPU).
    for (float x = std::floor(x0); x < x1; x += 1) {
      const uint64_t a = abs_at(x), b = abs_at(x + 1);
      const auto cpu = s.cpu.rate_between(a, b), delay = s.run_delay.rate_between(a, b);
      if (!cpu && !delay) continue;
      const float hc = static_cast<float>(std::clamp(cpu.value_or(0.0), 0.0, 1.0)) * kHostCpuH;
      const float hd =
          std::min(kHostCpuH - hc, static_cast<float>(std::clamp(delay.value_or(0.0), 0.0, 1.0)) * kHostCpuH);
      if (hc > 0) dl->AddRectFilled({x, y1 - hc}, {x + 1, y1}, kCpuCol);
      if (hd > 0) dl->AddRectFilled({x, y1 - hc - hd}, {x + 1, y1 - hc}, kDelayCol);
    }
    if (mouse.x >= x0 && mouse.x < x1 && mouse.y >= y0 && mouse.y < y1) {
      // The hovered column, widened to 5 px so a tooltip reads a steady figure.
      const uint64_t a = abs_at(mouse.x - 2), b = abs_at(mouse.x + 3);
      ImGui::BeginTooltip();
      ImGui::TextUnformatted(fmt::format("vcpu{}", g.vcpu).c_str());
      ImGui::TextUnformatted(trf("on a host CPU: {} of the wall time ({})", percent(s.cpu.rate_between(a, b)),
                                 host_counter_name(HostCounter::VcpuCpuNs))
                                 .c_str());
      ImGui::TextUnformatted(trf("waiting for a host CPU (run delay): {} of the wall time ({})",
                                 percent(s.run_delay.rate_between(a, b)),
                                 host_counter_name(HostCounter::VcpuRunDelayNs))
                                 .c_str());
      ImGui::TextDisabled("%s", ringscope::tr("Rates: the counter's growth between samples over the wall time "
                                              "between them. The rest of the time the thread slept (the guest "
                                              "halted) or the counters were not sampled."));
      ImGui::EndTooltip();
    }
  }

  if (g.host_mem_y > 0) {
    const HostTracks& h = m.host();
    const float y0 = g.host_mem_y, y1 = y0 + kHostMemH;
    const uint64_t top_bytes =
        std::max({h.rss().max_value(), h.ram_resident().max_value(), h.disk_cached().max_value(), uint64_t{1}});
    const double top = static_cast<double>(top_bytes);
    // The scale: the value the row's top line stands for (every level is
    // plotted against it), at that line, then the row's name below it.
    host_mem_scale_bytes_ = top_bytes;
    label(y0 - 2, trf("{} MiB", scale_mib(top_bytes)).c_str());
    label(y0 + 13, ringscope::tr("host memory"));
    dl->AddRectFilled({x0, y0}, {x1, y1}, kRowBg);
    dl->AddLine({x0, y0 + 1}, {x1, y0 + 1}, kGrid);  // the scale's level
    auto plot = [&](const HostSeries& s, ImU32 col) {
      if (s.empty()) return;
      float prev_y = -1;
      for (float x = std::floor(x0); x < x1; x += 1) {
        const auto v = s.level_at(abs_at(x + 1));
        if (!v || abs_at(x) > s.samples().back().time_ns) {
          prev_y = -1;
          continue;
        }
        const float yy = y1 - 1 - static_cast<float>(static_cast<double>(*v) / top) * (kHostMemH - 2);
        dl->AddLine({x, prev_y < 0 ? yy : prev_y}, {x + 1, yy}, col, 1.5f);
        prev_y = yy;
      }
    };
    plot(h.rss(), kRssCol);
    plot(h.ram_resident(), kRamCol);
    plot(h.disk_cached(), kDiskCol);
    if (mouse.x >= x0 && mouse.x < x1 && mouse.y >= y0 && mouse.y < y1) {
      const uint64_t t = abs_at(mouse.x);
      auto line = [&](const HostSeries& s, HostCounter c) {
        if (s.empty()) return;
        const auto v = s.level_at(t);
        ImGui::TextUnformatted(fmt::format("{}: {}  ({})", ringscope::tr(host_counter(c).title),
                                           v ? mib(static_cast<double>(*v)) : std::string("-"), host_counter_name(c))
                                   .c_str());
      };
      ImGui::BeginTooltip();
      line(h.rss(), HostCounter::RssBytes);
      line(h.ram_resident(), HostCounter::RamResidentBytes);
      line(h.disk_cached(), HostCounter::DiskCachedBytes);
      ImGui::TextDisabled("%s", trf("Levels at the last sample before this time; the row's top line is the largest, "
                                    "{}.",
                                    mib(top))
                                    .c_str());
      ImGui::EndTooltip();
    }
  }
}

}  // namespace ringscope::viewer
