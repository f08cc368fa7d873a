// bench_viewer_lang.cpp — what Korean costs the viewer (issue 16): the font
// atlas (its size in pixels and in the RGBA bytes a renderer uploads, and
// its glyph count), the resident memory a context adds, and the frame time
// of the same view, English against Korean, measured side by side in one
// run. Frames are headless as in bench_viewer: ImGui lays out and builds
// the draw lists (text measurement included), nothing is rasterised.
//   bench_viewer_lang [FRAMES]   (default 2000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "platform/imgui_setup.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "visualizer/viewer_test_traces.h"

using namespace ringscope;
using namespace ringscope::viewer;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

struct Figures {
  int atlas_w = 0, atlas_h = 0, glyphs = 0;
  long context_kib = 0;
  double frame_us = 0;
};

Figures measure(const char* lang, int frames) {
  init_i18n(lang);
  Figures f;
  const long before = rss_kib();
  HeadlessContext ctx(1600, 1000);
  f.context_kib = rss_kib() - before;
  ImFontAtlas* atlas = ImGui::GetIO().Fonts;
  f.atlas_w = atlas->TexWidth;
  f.atlas_h = atlas->TexHeight;
  f.glyphs = atlas->Fonts[0]->Glyphs.Size;
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
  view.select(0, 5, true);
  for (int i = 0; i < 20; ++i) ctx.frame(view);  // layout settles
  const auto t = Clock::now();
  for (int i = 0; i < frames; ++i) ctx.frame(view);
  f.frame_us = std::chrono::duration<double, std::micro>(Clock::now() - t).count() / frames;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 2000;
  // Alternate the languages so that a busy machine slows both alike.
  Figures en{}, ko{};
  for (int round = 0; round < 3; ++round) {
    Figures e = measure("en", frames), k = measure("ko", frames);
    if (round == 0 || e.frame_us < en.frame_us) en = e;
    if (round == 0 || k.frame_us < ko.frame_us) ko = k;
  }
  std::printf("%-28s %14s %14s %8s\n", "", "English", "Korean", "ko/en");
  std::printf("%-28s %7dx%-6d %7dx%-6d\n", "font atlas (pixels)", en.atlas_w, en.atlas_h, ko.atlas_w, ko.atlas_h);
  const double en_mib = en.atlas_w * en.atlas_h * 4 / 1048576.0, ko_mib = ko.atlas_w * ko.atlas_h * 4 / 1048576.0;
  std::printf("%-28s %14.2f %14.2f %8.2f\n", "atlas texture, RGBA (MiB)", en_mib, ko_mib, ko_mib / en_mib);
  std::printf("%-28s %14d %14d %8.2f\n", "glyphs", en.glyphs, ko.glyphs, double(ko.glyphs) / en.glyphs);
  std::printf("%-28s %14ld %14ld\n", "context RSS added (KiB)", en.context_kib, ko.context_kib);
  std::printf("%-28s %14.1f %14.1f %8.2f\n", "frame, headless (µs, best)", en.frame_us, ko.frame_us,
              ko.frame_us / en.frame_us);
  init_i18n("en");
  return 0;
}
