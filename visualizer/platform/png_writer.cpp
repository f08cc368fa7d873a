// png_writer.cpp — libpng's simplified API (png_image), which needs no
// setjmp handling.
#include "platform/png_writer.h"

#include <png.h>

namespace ringscope::viewer {

Status write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba) {
  if (width <= 0 || height <= 0 || rgba.size() < static_cast<size_t>(width) * height * 4)
    return make_error(ErrorKind::Internal, "write_png: the pixel buffer does not match the image size");
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&image, path.c_str(), 0, rgba.data(), 0, nullptr)) {
    return make_error(ErrorKind::IoError, "cannot write the screenshot " + path + " (" + image.message +
                                              "); check that the directory exists and is writable");
  }
  return ok_status();
}

}  // namespace ringscope::viewer
