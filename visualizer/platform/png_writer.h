// png_writer.h — RGBA pixels to a PNG file, with libpng.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ringscope/result.h"

namespace ringscope::viewer {

// `rgba` is width*height*4 bytes, top row first.
Status write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba);

}  // namespace ringscope::viewer
