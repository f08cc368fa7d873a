// soft_raster.h — Dear ImGui's draw data rasterised on the CPU, without
// OpenGL or a display: what the GL backend does, in plain C++.
//
// ImDrawList turns lines, shapes and text into textured, coloured
// triangles (anti-aliased edges are thin triangles whose outer vertices are
// transparent). Filling them with interpolated colour and the font atlas's
// coverage gives the same picture the GPU would. `ringscope experiment`
// draws its charts this way, so they are made on a machine with no X server
// and no GPU, and look the same everywhere.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <vector>

namespace ringscope::viewer {

// The font atlas as RGBA32 (ImFontAtlas::GetTexDataAsRGBA32).
struct SoftTexture {
  const unsigned char* rgba = nullptr;
  int width = 0, height = 0;
};

// Draws `data` over `canvas` (width*height*4 bytes, RGBA, top row first),
// blending by alpha, honouring each command's clip rectangle.
void rasterize(const ImDrawData& data, const SoftTexture& font, std::vector<uint8_t>& canvas, int width, int height);

}  // namespace ringscope::viewer
