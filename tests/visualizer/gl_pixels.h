// gl_pixels.h — what the GL tests share: a frame read back as pixels and a
// colour comparison with a little tolerance (blending, sRGB rounding).
#pragma once

#include <gtest/gtest.h>
#include <imgui.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace ringscope::viewer::test {

constexpr int kW = 1400, kH = 900;  // the frame every GL test renders

struct Pixels {
  std::vector<uint8_t> rgba;
  ImU32 at(float x, float y) const {
    const size_t i = (static_cast<size_t>(y) * kW + static_cast<size_t>(x)) * 4;
    return IM_COL32(rgba[i], rgba[i + 1], rgba[i + 2], 255);
  }
};

inline ::testing::AssertionResult near(ImU32 got, ImU32 want) {
  for (int shift : {0, 8, 16}) {
    const int a = static_cast<int>((got >> shift) & 0xff), b = static_cast<int>((want >> shift) & 0xff);
    if (std::abs(a - b) > 12)
      return ::testing::AssertionFailure()
             << std::hex << "colour 0x" << (got & 0xffffff) << " is not 0x" << (want & 0xffffff);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ringscope::viewer::test
