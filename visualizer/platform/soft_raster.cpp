// soft_raster.cpp — see soft_raster.h. One triangle at a time: its bounding
// box clipped to the command's clip rectangle, an edge-function test at
// each pixel centre (a centre exactly on a shared edge is painted by both
// triangles: invisible for the opaque shapes charts use), colour and texture coordinates interpolated
// barycentrically, the atlas sampled bilinearly.
#include "platform/soft_raster.h"

#include <algorithm>
#include <cmath>

namespace ringscope::viewer {

namespace {

struct Rgba {
  float r, g, b, a;
};

Rgba unpack(ImU32 c) {
  return {static_cast<float>((c >> IM_COL32_R_SHIFT) & 0xff) / 255.0f,
          static_cast<float>((c >> IM_COL32_G_SHIFT) & 0xff) / 255.0f,
          static_cast<float>((c >> IM_COL32_B_SHIFT) & 0xff) / 255.0f,
          static_cast<float>((c >> IM_COL32_A_SHIFT) & 0xff) / 255.0f};
}

// The atlas's alpha at (u, v), bilinear; the atlas's colour is white.
float coverage(const SoftTexture& t, float u, float v) {
  if (!t.rgba || t.width <= 0 || t.height <= 0) return 1.0f;
  float x = u * static_cast<float>(t.width) - 0.5f, y = v * static_cast<float>(t.height) - 0.5f;
  int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
  float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
  auto at = [&](int xi, int yi) {
    xi = std::clamp(xi, 0, t.width - 1);
    yi = std::clamp(yi, 0, t.height - 1);
    return static_cast<float>(t.rgba[(static_cast<size_t>(yi) * t.width + xi) * 4 + 3]) / 255.0f;
  };
  float top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  float bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

float edge(const ImVec2& a, const ImVec2& b, float px, float py) {
  return (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x);
}

void triangle(const ImDrawVert& v0, const ImDrawVert& v1_in, const ImDrawVert& v2_in, const ImVec4& clip,
              const SoftTexture& font, std::vector<uint8_t>& canvas, int width, int height) {
  const ImDrawVert* v1 = &v1_in;
  const ImDrawVert* v2 = &v2_in;
  float area = edge(v0.pos, v1->pos, v2->pos.x, v2->pos.y);
  if (area == 0) return;
  if (area < 0) {
    std::swap(v1, v2);
    area = -area;
  }
  float minx = std::max({clip.x, 0.0f, std::min({v0.pos.x, v1->pos.x, v2->pos.x})});
  float maxx = std::min({clip.z, static_cast<float>(width), std::max({v0.pos.x, v1->pos.x, v2->pos.x})});
  float miny = std::max({clip.y, 0.0f, std::min({v0.pos.y, v1->pos.y, v2->pos.y})});
  float maxy = std::min({clip.w, static_cast<float>(height), std::max({v0.pos.y, v1->pos.y, v2->pos.y})});
  if (minx >= maxx || miny >= maxy) return;
  const Rgba c0 = unpack(v0.col), c1 = unpack(v1->col), c2 = unpack(v2->col);
  for (int y = static_cast<int>(std::floor(miny)); y < static_cast<int>(std::ceil(maxy)); y++) {
    float py = static_cast<float>(y) + 0.5f;
    for (int x = static_cast<int>(std::floor(minx)); x < static_cast<int>(std::ceil(maxx)); x++) {
      float px = static_cast<float>(x) + 0.5f;
      float w0 = edge(v1->pos, v2->pos, px, py), w1 = edge(v2->pos, v0.pos, px, py), w2 = edge(v0.pos, v1->pos, px, py);
      if (w0 < 0 || w1 < 0 || w2 < 0) continue;
      w0 /= area, w1 /= area, w2 /= area;
      float u = w0 * v0.uv.x + w1 * v1->uv.x + w2 * v2->uv.x;
      float v = w0 * v0.uv.y + w1 * v1->uv.y + w2 * v2->uv.y;
      float a = (w0 * c0.a + w1 * c1.a + w2 * c2.a) * coverage(font, u, v);
      if (a <= 0) continue;
      float r = w0 * c0.r + w1 * c1.r + w2 * c2.r;
      float g = w0 * c0.g + w1 * c1.g + w2 * c2.g;
      float b = w0 * c0.b + w1 * c1.b + w2 * c2.b;
      uint8_t* d = &canvas[(static_cast<size_t>(y) * width + x) * 4];
      auto mix = [a](uint8_t dst, float src) {
        return static_cast<uint8_t>(std::lround(std::clamp(src * a * 255.0f + dst * (1 - a), 0.0f, 255.0f)));
      };
      d[0] = mix(d[0], r);
      d[1] = mix(d[1], g);
      d[2] = mix(d[2], b);
      d[3] = static_cast<uint8_t>(std::lround(std::clamp(a * 255.0f + d[3] * (1 - a), 0.0f, 255.0f)));
    }
  }
}

}  // namespace

void rasterize(const ImDrawData& data, const SoftTexture& font, std::vector<uint8_t>& canvas, int width, int height) {
  if (canvas.size() != static_cast<size_t>(width) * height * 4) return;
  for (int l = 0; l < data.CmdListsCount; l++) {
    const ImDrawList& list = *data.CmdLists[l];
    for (const ImDrawCmd& cmd : list.CmdBuffer) {
      if (cmd.UserCallback) continue;  // no callbacks in headless drawing
      ImVec4 clip(cmd.ClipRect.x - data.DisplayPos.x, cmd.ClipRect.y - data.DisplayPos.y,
                  cmd.ClipRect.z - data.DisplayPos.x, cmd.ClipRect.w - data.DisplayPos.y);
      for (unsigned i = 0; i + 2 < cmd.ElemCount; i += 3) {
        const ImDrawIdx* idx = &list.IdxBuffer[static_cast<int>(cmd.IdxOffset + i)];
        const ImDrawVert* vtx = &list.VtxBuffer[static_cast<int>(cmd.VtxOffset)];
        triangle(vtx[idx[0]], vtx[idx[1]], vtx[idx[2]], clip, font, canvas, width, height);
      }
    }
  }
}

}  // namespace ringscope::viewer
