// chart_test.cpp — the chart's pixels, not only its file: axes, one line per
// mode in the plot (not just in the legend), nothing of a mode that has no
// data, and the PNG written and read back the same.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "chart.h"
#include "png_pixels.h"

namespace ringscope::experiment {
namespace {

using test::Image;

Chart two_lines() {
  Chart c;
  c.title = "console — VM exits per KiB";
  c.x_label = "bytes";
  c.y_label = "VM exits per KiB";
  c.log_y = true;
  Series fv{"full-virt", {}}, pv{"paravirt", {}};
  for (uint64_t x : {64, 256, 1024, 4096, 16384, 65536}) {
    fv.points.push_back(Point{x, Spread{2048, 2040, 2060, 3}});
    pv.points.push_back(Point{x, Spread{32.0 * 64 / double(x) + 1, 30.0 * 64 / double(x), 40.0 * 64 / double(x) + 2, 3}});
  }
  c.series = {fv, pv};
  c.log_x = wants_log_axis(c.series);
  return c;
}

// Pixels of `rgb` in the plot area (left of the legend).
int in_plot(const Image& img, uint32_t rgb) {
  int n = 0;
  for (int y = 0; y < img.height; y++)
    for (int x = 0; x < img.width - 180; x++) n += img.is(x, y, rgb, 30);
  return n;
}

TEST(ExperimentChart, HasAxesAndOneLinePerMode) {
  Chart c = two_lines();
  EXPECT_TRUE(c.log_x) << "64 B .. 64 KiB spans three decades";
  Image img = test::from_pixels(render_chart(c), kChartWidth, kChartHeight);
  // The axes: a bottom line across most of the width, a left line down most of the height.
  EXPECT_GT(img.longest_run(kAxisColour, true), kChartWidth / 2);
  EXPECT_GT(img.longest_run(kAxisColour, false), kChartHeight / 2);
  // Each mode's line crosses the plot: many pixels of its colour there.
  for (size_t i = 0; i < c.series.size(); i++)
    EXPECT_GT(in_plot(img, series_colour(i)), 400) << c.series[i].mode << "'s line is missing";
  // A colour no series has is absent: the test can tell lines apart.
  EXPECT_EQ(in_plot(img, series_colour(2)), 0);
  // The background is white and dominates.
  EXPECT_GT(img.count(0xffffff), kChartWidth * kChartHeight / 2);
}

TEST(ExperimentChart, AModeWithoutDataDrawsNoLine) {
  Chart c = two_lines();
  c.series.pop_back();
  Image img = test::from_pixels(render_chart(c), kChartWidth, kChartHeight);
  EXPECT_GT(in_plot(img, series_colour(0)), 400);
  EXPECT_EQ(in_plot(img, series_colour(1)), 0);
}

TEST(ExperimentChart, AnEmptyChartStillHasItsAxes) {
  Chart c;
  c.title = "nothing";
  Image img = test::from_pixels(render_chart(c), kChartWidth, kChartHeight);
  EXPECT_GT(img.longest_run(kAxisColour, true), kChartWidth / 2);
  EXPECT_EQ(in_plot(img, series_colour(0)), 0);
}

TEST(ExperimentChart, ThePngHoldsTheRenderedPixels) {
  Chart c = two_lines();
  auto file = std::filesystem::temp_directory_path() / ("rs-chart-" + std::to_string(::getpid()) + ".png");
  auto st = write_chart_png(file, c);
  ASSERT_TRUE(st.ok()) << st.error().message;
  Image png;
  ASSERT_TRUE(test::read_png(file.string(), png));
  EXPECT_EQ(png.width, kChartWidth);
  EXPECT_EQ(png.height, kChartHeight);
  EXPECT_EQ(png.rgba, render_chart(c)) << "deterministic: the same data gives the same pixels";
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace ringscope::experiment
