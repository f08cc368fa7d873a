// imgui_setup.cpp — style, fonts and the headless context.
#include "platform/imgui_setup.h"

#include <fontconfig/fontconfig.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "ringscope/i18n.h"

namespace ringscope::viewer {

namespace {

struct FontFile {
  std::string path;
  int index = 0;  // the face in a collection (.ttc, as fonts-noto-cjk ships)
};

// The font fontconfig ranks first for Korean, if it really has Hangul
// (fontconfig always answers with something, often a Latin-only font).
FontFile hangul_font() {
  FontFile f;
  if (!FcInit()) return f;
  FcPattern* pat = FcNameParse(reinterpret_cast<const FcChar8*>(":lang=ko:style=Regular"));
  FcConfigSubstitute(nullptr, pat, FcMatchPattern);
  FcDefaultSubstitute(pat);
  FcResult result;
  FcPattern* match = FcFontMatch(nullptr, pat, &result);
  FcChar8* file = nullptr;
  FcCharSet* chars = nullptr;
  if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch &&
      FcPatternGetCharSet(match, FC_CHARSET, 0, &chars) == FcResultMatch && FcCharSetHasChar(chars, 0xAC00)) {
    f.path = reinterpret_cast<const char*>(file);
    FcPatternGetInteger(match, FC_INDEX, 0, &f.index);
  }
  if (match) FcPatternDestroy(match);
  FcPatternDestroy(pat);
  return f;
}

}  // namespace

int merge_hangul_font(float size) {
  const std::string text = catalogue_text();
  if (text.empty()) return 0;
  const FontFile f = hangul_font();
  if (f.path.empty()) return 0;
  // Only the characters the catalogue uses beyond the Latin font's ranges
  // (Hangul, and the odd CJK punctuation): about 600 glyphs instead of the
  // 11 172 syllables of GetGlyphRangesKorean(), so the atlas stays small.
  ImFontGlyphRangesBuilder builder;
  ImVector<ImWchar> all;
  builder.AddText(text.c_str(), text.c_str() + text.size());
  builder.BuildRanges(&all);
  static ImVector<ImWchar> ranges;  // ImGui keeps the pointer until the atlas is built
  ranges.clear();
  int glyphs = 0;
  for (int i = 0; i + 1 < all.Size && all[i] != 0; i += 2) {
    ImWchar lo = std::max<ImWchar>(all[i], 0x1100), hi = all[i + 1];
    if (lo > hi) continue;
    ranges.push_back(lo);
    ranges.push_back(hi);
    glyphs += hi - lo + 1;
  }
  if (ranges.empty()) return 0;
  ranges.push_back(0);
  ImFontConfig cfg;
  cfg.MergeMode = true;  // into the Latin font: code, hex and arrows keep their glyphs
  cfg.FontNo = f.index;
  if (!ImGui::GetIO().Fonts->AddFontFromFileTTF(f.path.c_str(), size, &cfg, ranges.Data)) return 0;
  return glyphs;
}

void setup_style_and_fonts(float size) {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 4;
  s.FrameRounding = 3;
  s.TabRounding = 3;
  s.WindowBorderSize = 1;
  s.ItemSpacing = {8, 5};
  s.Colors[ImGuiCol_WindowBg] = ImVec4(0.09f, 0.09f, 0.11f, 1.0f);
  s.Colors[ImGuiCol_TitleBgActive] = s.Colors[ImGuiCol_TitleBg] = ImVec4(0.16f, 0.17f, 0.22f, 1.0f);

  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is computed; settings live in ViewSettings
  io.Fonts->Clear();
  static const ImWchar ranges[] = {0x0020, 0x024F,  // Latin, Latin-1 (µ), Latin Extended
                                   0x0370, 0x03FF,  // Greek
                                   0x2000, 0x206F,  // dashes, quotes, ellipsis
                                   0x2190, 0x21FF,  // arrows
                                   0x2200, 0x22FF,  // maths
                                   0x2500, 0x25FF,  // box drawing, shapes (■ ▶)
                                   0};
  const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"};
  bool loaded = false;
  for (const char* path : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && io.Fonts->AddFontFromFileTTF(path, size, nullptr, ranges)) {
      loaded = true;
      break;
    }
  }
  if (!loaded) io.Fonts->AddFontDefault();
  merge_hangul_font(size);  // in Korean only (the catalogue is empty in English)
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // build now; a renderer uploads it
}

HeadlessContext::HeadlessContext(int width, int height, float font_size) {
  ctx_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(ctx_);
  setup_style_and_fonts(font_size);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(width), static_cast<float>(height));
  io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(1));  // no texture: nothing is rasterised
}

HeadlessContext::~HeadlessContext() { ImGui::DestroyContext(ctx_); }

ImDrawData* HeadlessContext::frame(View& view, float dt) {
  ImGui::SetCurrentContext(ctx_);
  ImGui::GetIO().DeltaTime = dt;
  ImGui::NewFrame();
  view.draw();
  ImGui::Render();
  return ImGui::GetDrawData();
}

}  // namespace ringscope::viewer
