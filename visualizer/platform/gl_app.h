// gl_app.h — the View on screen: a GLFW window with an OpenGL 3 context and
// Dear ImGui's GLFW + OpenGL 3 backends; and the headless screenshot, which
// renders frames into an offscreen framebuffer of the requested size (an
// invisible window's own framebuffer is not guaranteed to hold pixels) and
// writes it as a PNG. Under Xvfb, Mesa's llvmpipe does the rendering.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ringscope/result.h"
#include "ui/View.h"

namespace ringscope::viewer {

// Opens the window and runs until it is closed. Usage error with a sentence
// when there is no display.
Status run_window(View& view);

// Renders `frames` frames of `view` at width x height (more than one, so
// tables and auto-sized windows settle) and returns the last one as RGBA,
// top row first.
Result<std::vector<uint8_t>> render_offscreen(View& view, int width, int height, int frames = 3);

// render_offscreen + write_png.
Status screenshot(View& view, int width, int height, const std::string& png_path);

// A sentence saying why no window can be opened here, or "" if a display is
// set (DISPLAY or WAYLAND_DISPLAY).
std::string no_display_reason();

}  // namespace ringscope::viewer
