// png_pixels.h — a PNG read back as RGBA, and what the chart tests look for
// in it: pixels of a colour, and long horizontal and vertical runs (axes).
#pragma once

#include <png.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ringscope::experiment::test {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;
  bool is(int x, int y, uint32_t rgb, int tolerance = 24) const {
    const uint8_t* p = &rgba[(static_cast<size_t>(y) * width + x) * 4];
    auto near = [&](int a, int b) { return a - b <= tolerance && b - a <= tolerance; };
    return near(p[0], (rgb >> 16) & 0xff) && near(p[1], (rgb >> 8) & 0xff) && near(p[2], rgb & 0xff);
  }
  int count(uint32_t rgb) const {
    int n = 0;
    for (int y = 0; y < height; y++)
      for (int x = 0; x < width; x++) n += is(x, y, rgb);
    return n;
  }
  // The longest run of `rgb` in any row (horizontal) or column (vertical).
  int longest_run(uint32_t rgb, bool horizontal) const {
    int best = 0;
    int outer = horizontal ? height : width, inner = horizontal ? width : height;
    for (int o = 0; o < outer; o++) {
      int run = 0;
      for (int i = 0; i < inner; i++) {
        bool hit = horizontal ? is(i, o, rgb) : is(o, i, rgb);
        run = hit ? run + 1 : 0;
        best = std::max(best, run);
      }
    }
    return best;
  }
};

inline bool read_png(const std::string& path, Image& out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return false;
  image.format = PNG_FORMAT_RGBA;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgba.resize(PNG_IMAGE_SIZE(image));
  return png_image_finish_read(&image, nullptr, out.rgba.data(), 0, nullptr) != 0;
}

inline Image from_pixels(const std::vector<uint8_t>& rgba, int width, int height) {
  return Image{width, height, rgba};
}

}  // namespace ringscope::experiment::test
