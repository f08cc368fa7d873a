// imgui_setup.cpp — style, fonts and the headless context.
#include "platform/imgui_setup.h"

#include <filesystem>

namespace ringscope::viewer {

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
  static const ImWchar ranges[] = {0x0020, 0x024F,   // Latin, Latin-1 (µ), Latin Extended
                                   0x0370, 0x03FF,   // Greek
                                   0x2000, 0x206F,   // dashes, quotes, ellipsis
                                   0x2190, 0x21FF,   // arrows
                                   0x2200, 0x22FF,   // maths
                                   0x2500, 0x25FF,   // box drawing, shapes (■ ▶)
                                   0};
  const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                              "/usr/share/fonts/TTF/DejaVuSans.ttf"};
  bool loaded = false;
  for (const char* path : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && io.Fonts->AddFontFromFileTTF(path, size, nullptr, ranges)) {
      loaded = true;
      break;
    }
  }
  if (!loaded) io.Fonts->AddFontDefault();
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
