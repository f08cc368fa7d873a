// gl_app.cpp — GLFW + OpenGL 3 around the View (interactive and offscreen).
#include "platform/gl_app.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <cstdlib>
#include <string>

#include "platform/imgui_setup.h"
#include "platform/png_writer.h"

namespace ringscope::viewer {

namespace {

std::string g_glfw_error;
void on_glfw_error(int, const char* description) { g_glfw_error = description ? description : "unknown GLFW error"; }

// The framebuffer-object entry points are not in GL 1.1's libGL ABI; ask
// GLFW for them once there is a context.
#define GL_FRAMEBUFFER 0x8D40
#define GL_COLOR_ATTACHMENT0 0x8CE0
#define GL_FRAMEBUFFER_COMPLETE 0x8CD5
struct FboFns {
  void (*GenFramebuffers)(GLsizei, GLuint*);
  void (*BindFramebuffer)(GLenum, GLuint);
  void (*FramebufferTexture2D)(GLenum, GLenum, GLenum, GLuint, GLint);
  GLenum (*CheckFramebufferStatus)(GLenum);
  void (*DeleteFramebuffers)(GLsizei, const GLuint*);
  bool load() {
    GenFramebuffers = reinterpret_cast<decltype(GenFramebuffers)>(glfwGetProcAddress("glGenFramebuffers"));
    BindFramebuffer = reinterpret_cast<decltype(BindFramebuffer)>(glfwGetProcAddress("glBindFramebuffer"));
    FramebufferTexture2D =
        reinterpret_cast<decltype(FramebufferTexture2D)>(glfwGetProcAddress("glFramebufferTexture2D"));
    CheckFramebufferStatus =
        reinterpret_cast<decltype(CheckFramebufferStatus)>(glfwGetProcAddress("glCheckFramebufferStatus"));
    DeleteFramebuffers = reinterpret_cast<decltype(DeleteFramebuffers)>(glfwGetProcAddress("glDeleteFramebuffers"));
    return GenFramebuffers && BindFramebuffer && FramebufferTexture2D && CheckFramebufferStatus && DeleteFramebuffers;
  }
};

// A window, its GL context and an ImGui context with both backends.
class GlSession {
 public:
  Status open(int width, int height, bool visible, float font_size) {
    if (std::string why = no_display_reason(); !why.empty()) return make_error(ErrorKind::Unavailable, why);
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit())
      return make_error(ErrorKind::Unavailable,
                        "cannot start GLFW (" + g_glfw_error + "); check that DISPLAY names a running X server");
    glfw_ = true;
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE);
    window_ = glfwCreateWindow(width, height, "ringscope view", nullptr, nullptr);
    if (!window_)
      return make_error(ErrorKind::Unavailable, "cannot open an OpenGL 3.3 window (" + g_glfw_error +
                                                    "); on a machine without a GPU install Mesa (libgl1-mesa-dri)");
    glfwMakeContextCurrent(window_);
    glfwSwapInterval(visible ? 1 : 0);
    ImGui::CreateContext();
    imgui_ = true;
    setup_style_and_fonts(font_size);
    ImGui_ImplGlfw_InitForOpenGL(window_, true);
    ImGui_ImplOpenGL3_Init("#version 330");
    return ok_status();
  }
  ~GlSession() {
    if (imgui_) {
      ImGui_ImplOpenGL3_Shutdown();
      ImGui_ImplGlfw_Shutdown();
      ImGui::DestroyContext();
    }
    if (window_) glfwDestroyWindow(window_);
    if (glfw_) glfwTerminate();
  }
  GLFWwindow* window() const { return window_; }

  // One frame; `size` overrides the window's size (offscreen rendering).
  void frame(View& view, int fb_w, int fb_h, bool force_size) {
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (force_size) {
      ImGuiIO& io = ImGui::GetIO();
      io.DisplaySize = ImVec2(static_cast<float>(fb_w), static_cast<float>(fb_h));
      io.DisplayFramebufferScale = ImVec2(1, 1);
    }
    ImGui::NewFrame();
    view.draw();
    ImGui::Render();
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(0.06f, 0.06f, 0.07f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  }

 private:
  GLFWwindow* window_ = nullptr;
  bool glfw_ = false, imgui_ = false;
};

}  // namespace

std::string no_display_reason() {
  const char* x = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  if ((x && *x) || (w && *w)) return {};
  return "there is no display to draw on (DISPLAY is not set); on a machine without one, run the viewer under a "
         "virtual X server, e.g. `xvfb-run -a ringscope view FILE --screenshot out.png` (Debian package xvfb)";
}

Status run_window(View& view) {
  GlSession s;
  TRY(s.open(view.settings().window_w, view.settings().window_h, true, view.settings().font_size));
  while (!glfwWindowShouldClose(s.window())) {
    // Sleep while nothing moves; poll while playing or animating, and look
    // for a live trace's new events about 60 times a second.
    if (view.playing())
      glfwPollEvents();
    else
      glfwWaitEventsTimeout(view.any_live() ? 1.0 / 60 : 0.05);
    int w = 0, h = 0;
    glfwGetFramebufferSize(s.window(), &w, &h);
    s.frame(view, w, h, false);
    glfwSwapBuffers(s.window());
  }
  glfwGetWindowSize(s.window(), &view.settings().window_w, &view.settings().window_h);
  return ok_status();
}

Result<std::vector<uint8_t>> render_offscreen(View& view, int width, int height, int frames) {
  GlSession s;
  TRY(s.open(width, height, false, view.settings().font_size));
  FboFns fbo;
  if (!fbo.load())
    return make_error(ErrorKind::Unavailable,
                      "this OpenGL driver has no framebuffer objects; install Mesa (libgl1-mesa-dri)");
  GLuint tex = 0, fb = 0;
  glGenTextures(1, &tex);
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  fbo.GenFramebuffers(1, &fb);
  fbo.BindFramebuffer(GL_FRAMEBUFFER, fb);
  fbo.FramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
  if (fbo.CheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
    return make_error(ErrorKind::Unavailable, "cannot render offscreen: the framebuffer is incomplete");
  for (int f = 0; f < frames; ++f) {
    fbo.BindFramebuffer(GL_FRAMEBUFFER, fb);
    s.frame(view, width, height, true);
  }
  fbo.BindFramebuffer(GL_FRAMEBUFFER, fb);
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  fbo.BindFramebuffer(GL_FRAMEBUFFER, 0);
  fbo.DeleteFramebuffers(1, &fb);
  glDeleteTextures(1, &tex);
  // GL's rows go bottom-up; PNG's top-down. Alpha is opaque on screen.
  std::vector<uint8_t> out(pixels.size());
  const size_t row = static_cast<size_t>(width) * 4;
  for (int y = 0; y < height; ++y) std::copy_n(pixels.data() + (height - 1 - y) * row, row, out.data() + y * row);
  for (size_t i = 3; i < out.size(); i += 4) out[i] = 255;
  return out;
}

Status screenshot(View& view, int width, int height, const std::string& png_path) {
  auto pixels = render_offscreen(view, width, height);
  if (!pixels) return pixels.error();
  return write_png(png_path, width, height, pixels.value());
}

}  // namespace ringscope::viewer
