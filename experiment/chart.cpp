// chart.cpp — see chart.h.
//
// [SECTION] scales    data to pixels (linear or log10), tick values
// [SECTION] drawing   ImDrawList: frame, grid, ticks, labels, lines, spread, legend
// [SECTION] output    one ImGui frame, rasterised, to PNG
#include "chart.h"

#include <fmt/format.h>
#include <imgui.h>
#include <png.h>

#include <algorithm>
#include <cmath>

#include "platform/imgui_setup.h"
#include "platform/soft_raster.h"

namespace ringscope::experiment {

namespace {

// ---- [SECTION] scales -----------------------------------------------------------

struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  float p0 = 0, p1 = 1;  // pixels of lo and hi
  double t(double v) const { return log ? std::log10(std::max(v, 1e-300)) : v; }
  float px(double v) const {
    double a = t(lo), b = t(hi);
    double f = b > a ? (t(v) - a) / (b - a) : 0.5;
    return p0 + static_cast<float>(f) * (p1 - p0);
  }
};

// Linear ticks: 1, 2 or 5 times a power of ten, about five of them.
std::vector<double> linear_ticks(double lo, double hi) {
  double span = hi - lo;
  if (span <= 0) return {lo};
  double raw = span / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

// Log ticks: the powers of ten inside the range (and 2 and 5 times them when
// the range is under two decades).
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> out;
  int e0 = static_cast<int>(std::floor(std::log10(lo))), e1 = static_cast<int>(std::ceil(std::log10(hi)));
  bool fine = e1 - e0 <= 2;
  for (int e = e0; e <= e1; e++)
    for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
    }
  return out;
}

std::string tick_text(double v) {
  double a = std::abs(v);
  if (a == 0) return "0";
  if (a >= 1e6 && std::fmod(a, 1 << 20) == 0) return fmt::format("{:g}Mi", v / (1 << 20));
  if (a >= 1024 && std::fmod(a, 1024) == 0 && std::fmod(a, 1000) != 0) return fmt::format("{:g}Ki", v / 1024);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

ImU32 rgb(uint32_t c, int alpha = 255) {
  return IM_COL32((c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff, alpha);
}

// ---- [SECTION] drawing ----------------------------------------------------------

void draw(ImDrawList& dl, const Chart& c) {
  const float W = kChartWidth, H = kChartHeight;
  const float left = 78, right = W - 170, top = 62, bottom = H - 58;
  ImFont* font = ImGui::GetFont();
  const float fs = ImGui::GetFontSize();
  dl.AddRectFilled({0, 0}, {W, H}, IM_COL32(255, 255, 255, 255));
  dl.AddText(font, fs * 1.15f, {left, 12}, rgb(kAxisColour), c.title.c_str());

  // The data's extent: x over the points, y over the spreads.
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      xlo = std::min(xlo, double(p.x)), xhi = std::max(xhi, double(p.x));
      ylo = std::min(ylo, p.y.min), yhi = std::max(yhi, p.y.max);
    }
  bool empty = !(xlo <= xhi);
  if (empty) xlo = 1, xhi = 10, ylo = 0, yhi = 1;
  bool log_y = c.log_y && ylo > 0;
  bool log_x = c.log_x && xlo > 0;
  Scale sx{xlo, xhi, log_x, left + 14, right - 14};
  Scale sy;
  sy.log = log_y;
  if (log_y) {
    sy.lo = std::pow(10, std::floor(std::log10(ylo)));
    sy.hi = std::pow(10, std::ceil(std::log10(yhi)));
    if (sy.hi <= sy.lo) sy.hi = sy.lo * 10;
  } else {
    sy.lo = std::min(0.0, ylo);
    sy.hi = yhi > sy.lo ? yhi * 1.08 : sy.lo + 1;
  }
  sy.p0 = bottom, sy.p1 = top;

  // Grid and ticks.
  std::vector<double> xt;
  if (log_x) {
    for (const auto& s : c.series)
      for (const auto& p : s.points) xt.push_back(double(p.x));
    std::sort(xt.begin(), xt.end());
    xt.erase(std::unique(xt.begin(), xt.end()), xt.end());
  } else {
    xt = linear_ticks(xlo, xhi);
  }
  std::vector<double> yt = log_y ? log_ticks(sy.lo, sy.hi) : linear_ticks(sy.lo, sy.hi);
  for (double v : yt) {
    float y = sy.px(v);
    dl.AddLine({left, y}, {right, y}, IM_COL32(228, 228, 228, 255), 1.0f);
    std::string t = tick_text(v);
    ImVec2 sz = font->CalcTextSizeA(fs, FLT_MAX, 0, t.c_str());
    dl.AddText(font, fs, {left - 8 - sz.x, y - sz.y / 2}, rgb(kAxisColour), t.c_str());
  }
  for (double v : xt) {
    float x = sx.px(v);
    dl.AddLine({x, top}, {x, bottom}, IM_COL32(236, 236, 236, 255), 1.0f);
    dl.AddLine({x, bottom}, {x, bottom + 5}, rgb(kAxisColour), 1.0f);
    std::string t = tick_text(v);
    ImVec2 sz = font->CalcTextSizeA(fs, FLT_MAX, 0, t.c_str());
    dl.AddText(font, fs, {x - sz.x / 2, bottom + 8}, rgb(kAxisColour), t.c_str());
  }
  // The axes: a left and a bottom line.
  dl.AddLine({left, top}, {left, bottom}, rgb(kAxisColour), 2.0f);
  dl.AddLine({left, bottom}, {right, bottom}, rgb(kAxisColour), 2.0f);
  std::string xl = c.x_label + (log_x ? " (log scale)" : "");
  ImVec2 xs = font->CalcTextSizeA(fs, FLT_MAX, 0, xl.c_str());
  dl.AddText(font, fs, {(left + right) / 2 - xs.x / 2, bottom + 30}, rgb(kAxisColour), xl.c_str());
  std::string yl = c.y_label + (log_y ? " (log scale)" : "");
  dl.AddText(font, fs, {18, top - 14 - fs}, rgb(0x505050), yl.c_str());
  if (empty) {
    const char* none = "no run of this measure has a value";
    dl.AddText(font, fs, {left + 20, (top + bottom) / 2}, rgb(0x905050), none);
  }

  // One line per mode; the spread as a bar with caps; a dot at each median.
  for (size_t i = 0; i < c.series.size(); i++) {
    const auto& s = c.series[i];
    ImU32 col = rgb(series_colour(i));
    std::vector<ImVec2> pts;
    for (const auto& p : s.points) pts.push_back({sx.px(double(p.x)), sy.px(p.y.median)});
    if (pts.size() >= 2) dl.AddPolyline(pts.data(), static_cast<int>(pts.size()), col, 0, 2.5f);
    for (size_t k = 0; k < s.points.size(); k++) {
      const auto& p = s.points[k];
      float x = pts[k].x, y0 = sy.px(p.y.min), y1 = sy.px(p.y.max);
      if (std::abs(y0 - y1) >= 1) {
        dl.AddLine({x, y0}, {x, y1}, col, 1.5f);
        dl.AddLine({x - 5, y0}, {x + 5, y0}, col, 1.5f);
        dl.AddLine({x - 5, y1}, {x + 5, y1}, col, 1.5f);
      }
      dl.AddCircleFilled(pts[k], 4.0f, col, 16);
    }
    // Legend.
    float ly = top + 8 + static_cast<float>(i) * (fs + 10);
    dl.AddLine({right + 16, ly + fs / 2}, {right + 44, ly + fs / 2}, col, 3.0f);
    dl.AddCircleFilled({right + 30, ly + fs / 2}, 4.0f, col, 16);
    dl.AddText(font, fs, {right + 52, ly}, rgb(kAxisColour), s.mode.c_str());
  }
  float ny = top + 8 + static_cast<float>(c.series.size()) * (fs + 10) + 6;
  dl.AddText(font, fs * 0.9f, {right + 16, ny}, rgb(0x707070), "dot: median");
  dl.AddText(font, fs * 0.9f, {right + 16, ny + fs}, rgb(0x707070), "bar: min..max");
}

// ---- [SECTION] output -----------------------------------------------------------

// An ImGui context of our own for one frame, the caller's restored after.
class ChartContext {
 public:
  ChartContext() : previous_(ImGui::GetCurrentContext()), ctx_(ImGui::CreateContext()) {
    ImGui::SetCurrentContext(ctx_);
    viewer::setup_style_and_fonts(15.0f);
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(kChartWidth, kChartHeight);
    io.DeltaTime = 1.0f / 60;
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(1));
  }
  ~ChartContext() {
    ImGui::DestroyContext(ctx_);
    ImGui::SetCurrentContext(previous_);
  }
  ChartContext(const ChartContext&) = delete;
  ChartContext& operator=(const ChartContext&) = delete;

 private:
  ImGuiContext* previous_;
  ImGuiContext* ctx_;
};

}  // namespace

uint32_t series_colour(size_t i) {
  static const uint32_t palette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b};
  return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

bool wants_log_axis(const std::vector<Series>& series) {
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& s : series)
    for (const auto& p : s.points) lo = std::min(lo, p.x), hi = std::max(hi, p.x);
  return lo > 0 && hi >= lo * 10;
}

std::vector<uint8_t> render_chart(const Chart& chart) {
  ChartContext context;
  ImGui::NewFrame();
  draw(*ImGui::GetBackgroundDrawList(), chart);
  ImGui::Render();
  std::vector<uint8_t> canvas(static_cast<size_t>(kChartWidth) * kChartHeight * 4, 255);
  unsigned char* tex = nullptr;
  int tw = 0, th = 0;
  ImGui::GetIO().Fonts->GetTexDataAsRGBA32(&tex, &tw, &th);
  viewer::rasterize(*ImGui::GetDrawData(), viewer::SoftTexture{tex, tw, th}, canvas, kChartWidth, kChartHeight);
  return canvas;
}

Status write_chart_png(const std::filesystem::path& file, const Chart& chart) {
  std::vector<uint8_t> pixels = render_chart(chart);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = kChartWidth;
  image.height = kChartHeight;
  image.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr))
    return make_error(ErrorKind::Internal, fmt::format("cannot encode {}: {}", file.string(), image.message));
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels.data(), 0, nullptr))
    return make_error(ErrorKind::Internal, fmt::format("cannot encode {}: {}", file.string(), image.message));
  bytes.resize(size);
  return write_file_atomically(file, bytes);
}

}  // namespace ringscope::experiment
