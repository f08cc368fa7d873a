// imgui_setup.h — what every platform does to an ImGui context: the style,
// and fonts with the glyphs the explanations use (µ, arrows, dashes).
//
// Headless (no GL): frames for the tests and the benchmark, with draw data
// produced but never rasterised.
#pragma once

#include <imgui.h>

#include "ui/View.h"

namespace ringscope::viewer {

// DejaVu Sans from Debian's fonts-dejavu-core when present; else Dear
// ImGui's built-in font (ASCII only: "µs" then shows as "?s").
// In Korean, a Hangul font found with fontconfig (fonts-nanum or
// fonts-noto-cjk) is merged in for the characters the catalogue uses.
void setup_style_and_fonts(float size);

// Merges the Hangul glyphs the current catalogue needs into the last font
// added; returns how many code points were requested (0 in English, or
// when no Hangul font is installed: Korean labels then show as '?').
int merge_hangul_font(float size);

class HeadlessContext {
 public:
  HeadlessContext(int width, int height, float font_size = 15.0f);
  ~HeadlessContext();
  HeadlessContext(const HeadlessContext&) = delete;
  HeadlessContext& operator=(const HeadlessContext&) = delete;

  // One frame of `view`; returns the draw data (valid until the next frame).
  ImDrawData* frame(View& view, float dt = 1.0f / 60);
  ImGuiIO& io() { return ImGui::GetIO(); }

 private:
  ImGuiContext* ctx_;
};

}  // namespace ringscope::viewer
