// chart.h — a line chart as a PNG: one line per mode against the swept
// value, a dot at each median and a bar from the smallest to the largest
// run (the spread), drawn with Dear ImGui's ImDrawList and rasterised on
// the CPU (visualizer/platform/soft_raster.h): no display, no GPU.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "results.h"
#include "ringscope/result.h"

namespace ringscope::experiment {

struct Chart {
  std::string title;
  std::string x_label, y_label;
  std::vector<Series> series;
  bool log_x = false, log_y = false;
};

inline constexpr int kChartWidth = 880, kChartHeight = 520;

// The colour of the i-th series (0xRRGGBB), in the spec's mode order; the
// axes are kAxisColour. Tests look for them in the picture.
uint32_t series_colour(size_t i);
inline constexpr uint32_t kAxisColour = 0x202020;

// A swept axis is logarithmic when its values span more than a decade.
bool wants_log_axis(const std::vector<Series>& series);

// The chart as RGBA pixels, kChartWidth x kChartHeight, top row first.
std::vector<uint8_t> render_chart(const Chart& chart);

// render_chart, written as a PNG (without following a symlink).
Status write_chart_png(const std::filesystem::path& file, const Chart& chart);

}  // namespace ringscope::experiment
