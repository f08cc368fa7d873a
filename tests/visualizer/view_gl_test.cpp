// view_gl_test.cpp — what is actually on screen: frames rendered by OpenGL
// (Mesa's llvmpipe under Xvfb in CI) and read back as pixels, and the
// `ringscope view --screenshot` command end to end.
//
// CTest runs this binary under `xvfb-run -a`; run by hand without a display
// (and without xvfb-run) it skips, saying why.
#include <gtest/gtest.h>
#include <png.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gl_pixels.h"
#include "platform/gl_app.h"
#include "ui/View.h"
#include "ui/palette.h"
#include "viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

using test::kH;
using test::kW;
using test::near;
using test::Pixels;

class GlView : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = no_display_reason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(GlView, RingBandShowsUserThenKernelAroundTheTrap) {
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
  view.set_zoom(0, 500'000);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float ring_y = *view.ring_band_y(0, 0), vmx_y = *view.vmx_band_y(0, 0);
  // Before the trap at 300 µs the program runs in ring 3, after it the kernel.
  EXPECT_TRUE(near(p.at(view.timeline_x(250'000), ring_y + 6), palette::kRing3));
  EXPECT_TRUE(near(p.at(view.timeline_x(330'000), ring_y + 6), palette::kRing0));
  EXPECT_TRUE(near(p.at(view.timeline_x(450'000), ring_y + 6), palette::kRing3));
  // The VMX band: guest (non-root) mostly, the hypervisor during the 4 µs exit at 350.1 µs.
  EXPECT_TRUE(near(p.at(view.timeline_x(200'000), vmx_y), palette::kNonRoot));
  EXPECT_TRUE(near(p.at(view.timeline_x(352'000), vmx_y), palette::kRoot));
}

// Pixels of a small box around (x, y0..y1): how many are near `col`.
int count_near(const Pixels& p, float x, float y0, float y1, ImU32 col, float half_w = 4) {
  int n = 0;
  for (float y = y0; y < y1; y += 1)
    for (float xx = x - half_w; xx <= x + half_w; xx += 1)
      if (near(p.at(xx, y), col)) ++n;
  return n;
}

// On a host that does not single-step ring 3, a visit to ring 3 can have no
// length at all; it must still show at any zoom, as what it is: a hatched
// box (ring-3 lines over a dark fill) the height of the band, not a solid span.
TEST_F(GlView, ZeroLengthRing3VisitsShowAsHatchedBoxesAtAnyZoom) {
  for (const double span : {100'000.0, 1e9}) {
    SCOPED_TRACE("visible span " + std::to_string(span) + " ns");
    View view;
    view.settings().animate = false;
    view.add_trace(TraceModel::from_trace(test::pvm_trace(), "pvm.rtrace"), "pvm.rtrace");
    view.select(0, view.traces()[0].model->size() - 1, false);  // run_end, 0.5 s later
    view.set_zoom(0, span);
    auto px = render_offscreen(view, kW, kH);
    ASSERT_TRUE(px.ok()) << px.error().message;
    Pixels p{std::move(px).value()};
    const float top = *view.ring_band_y(0, 0) - 12;  // the band is 24 px high
    for (const double t : {40'000.0, 70'000.0}) {
      if (span > 1e6 && t == 70'000.0) continue;  // folded into the box at 40 µs at this zoom
      const float x = view.timeline_x(t);
      // Hatching over the whole band height: ring-3 lines and the dark fill between them.
      EXPECT_GE(count_near(p, x, top + 2, top + 22, palette::kRing3), 20) << "visit at " << t << " ns, x " << x;
      EXPECT_GE(count_near(p, x, top + 2, top + 22, IM_COL32(20, 20, 24, 255), 3), 6) << "visit at " << t << " ns";
      EXPECT_GE(count_near(p, x, top + 16, top + 22, palette::kRing3), 3) << "the box spans the band, not a tick";
    }
    // Between the visits the CPU is in ring 0.
    if (span < 1e6) {
      EXPECT_TRUE(near(p.at(view.timeline_x(55'000), top + 3), palette::kRing0));
    }
  }
}

// A column of pixels: how many of the rows y0..y1 are near `col`.
int column_count(const Pixels& p, float x, float y0, float y1, ImU32 col) {
  int n = 0;
  for (float y = y0; y < y1; y += 1) n += near(p.at(x, y), col) ? 1 : 0;
  return n;
}

// Zoomed out, a pixel holds many periods of 75 % ring 3 / 25 % ring 0 with
// the VMM busy 25 % (then 2 %) of the time: each band is stacked by those
// shares, never painted by "any event wins".
TEST_F(GlView, FoldedPixelsShowTheShareOfTimeInEachState) {
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::share_trace(), "shares.rtrace"), "shares.rtrace");
  view.set_zoom(0, 1e9);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float ring_y = *view.ring_band_y(0, 0), vmx_y = *view.vmx_band_y(0, 0);
  const float r0 = ring_y - 12, r1 = ring_y + 12, v0 = vmx_y - 7, v1 = vmx_y + 7;  // 24 and 14 px bands
  for (const double t : {50e6, 125e6, 200e6}) {
    SCOPED_TRACE("at " + std::to_string(t / 1e6) + " ms");
    const float x = view.timeline_x(t);
    EXPECT_EQ(column_count(p, x, r0, r1, palette::kRing3), 18);  // 75 % of 24 px
    EXPECT_EQ(column_count(p, x, r0, r1, palette::kRing0), 6);   // 25 %
    const int root = column_count(p, x, v0, v1, palette::kRoot), guest = column_count(p, x, v0, v1, palette::kNonRoot);
    EXPECT_GE(root, 3);  // 25 % of 14 px is 3.5
    EXPECT_LE(root, 4);
    EXPECT_EQ(root + guest, 14);
  }
  // 2 % in the VMM: one pixel (a state that happened stays visible), the rest the guest.
  const float x = view.timeline_x(375e6);
  EXPECT_EQ(column_count(p, x, v0, v1, palette::kRoot), 1);
  EXPECT_EQ(column_count(p, x, v0, v1, palette::kNonRoot), 13);
}

// A vCPU halted inside KVM (halt_wait_ns grew while nothing was recorded)
// is neither the guest running nor the VMM: its own colour in the VMX band.
TEST_F(GlView, AVcpuHaltedInsideKvmHasItsOwnState) {
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::share_trace(), "shares.rtrace"), "shares.rtrace");
  view.set_zoom(0, 1e9);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float vmx_y = *view.vmx_band_y(0, 0);
  for (const double t : {650e6, 750e6, 880e6})
    EXPECT_EQ(column_count(p, view.timeline_x(t), vmx_y - 7, vmx_y + 7, palette::kHaltedInKvm), 14) << t / 1e6 << " ms";
  EXPECT_EQ(column_count(p, view.timeline_x(550e6), vmx_y - 7, vmx_y + 7, palette::kNonRoot), 14);
}

// The selected range tints what lies inside it and nothing outside.
TEST_F(GlView, SelectedRangeIsShaded) {
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
  view.set_zoom(0, 500'000);
  view.set_range(200'000, 260'000);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float y = *view.ring_band_y(0, 0);
  // Ring 3 on both sides of the range's right edge: tinted inside only.
  EXPECT_FALSE(near(p.at(view.timeline_x(230'000), y + 6), palette::kRing3));
  EXPECT_TRUE(near(p.at(view.timeline_x(280'000), y + 6), palette::kRing3));
}

// The layout holds at a classroom projector's 1280x720 and at 1920x1080:
// the legend lies inside the timeline panel, above what follows, and its
// swatches are really drawn there.
TEST_F(GlView, LayoutHoldsAtProjectorAndFullHdSizes) {
  for (const auto& [w, h] : {std::pair{1280, 720}, std::pair{1920, 1080}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    View view;
    view.settings().animate = false;
    view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
    view.add_trace(TraceModel::from_trace(test::pvm_trace(), "a-long-trace-name.paravirt.rtrace"), "pvm.rtrace");
    view.set_zoom(0, 500'000);
    auto px = render_offscreen(view, w, h);
    ASSERT_TRUE(px.ok()) << px.error().message;
    const auto [tl0, tl1] = view.timeline_rect();
    const auto [lg0, lg1] = view.legend_rect();
    EXPECT_GE(lg0.y, tl0.y);
    EXPECT_LE(lg1.y, tl1.y) << "the legend is clipped by the panel's bottom";
    EXPECT_LE(lg1.x, static_cast<float>(w));
    // The lanes end above the legend.
    EXPECT_LT(*view.vmx_band_y(0, 0), lg0.y);
    // Swatches drawn in the legend's rectangle.
    const auto& rgba = px.value();
    int ring0 = 0, hatch = 0;
    for (int y = static_cast<int>(lg0.y); y < static_cast<int>(lg1.y); ++y)
      for (int x = static_cast<int>(lg0.x); x < static_cast<int>(lg1.x) && x < w; ++x) {
        const size_t i = (static_cast<size_t>(y) * w + x) * 4;
        const ImU32 c = IM_COL32(rgba[i], rgba[i + 1], rgba[i + 2], 255);
        ring0 += near(c, palette::kRing0) ? 1 : 0;
        hatch += near(c, palette::kRing3) ? 1 : 0;
      }
    EXPECT_GT(ring0, 20);
    EXPECT_GT(hatch, 20);
  }
}

// A bt trace: the VMX band's place shows direct execution, the translator
// and the monitor; the ring band follows the world switches.
TEST_F(GlView, BtBandShowsDirectTranslatedAndMonitor) {
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(test::bt_trace(), "syscalls.bt.rtrace"), "syscalls.bt.rtrace");
  view.set_zoom(0, 500'000);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float ring_y = *view.ring_band_y(0, 0), band_y = *view.vmx_band_y(0, 0);
  EXPECT_TRUE(near(p.at(view.timeline_x(200'000), band_y), palette::kBtDirect));
  EXPECT_TRUE(near(p.at(view.timeline_x(370'000), band_y), palette::kBtTranslated));
  EXPECT_TRUE(near(p.at(view.timeline_x(80'000), band_y), palette::kBtTranslated));
  EXPECT_TRUE(near(p.at(view.timeline_x(322'500), band_y), palette::kBtMonitor));  // the 5 µs out callout
  EXPECT_TRUE(near(p.at(view.timeline_x(450'000), band_y), palette::kBtDirect));
  // Ring 3 while direct, ring 0 while translated: the world switches say so.
  EXPECT_TRUE(near(p.at(view.timeline_x(200'000), ring_y + 6), palette::kRing3));
  EXPECT_TRUE(near(p.at(view.timeline_x(370'000), ring_y + 6), palette::kRing0));
}

// Before a bt trace's first world switch (the sampler's first counters, the
// monitor setting up) the guest is in neither world: the band says "not
// known", not direct execution.
TEST_F(GlView, BtBandBeforeTheFirstWorldSwitchIsNotKnown) {
  TraceHeader h;
  h.scenario = "io-burst";
  h.mode = "bt";
  h.level = "exits";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto emit = [&](Event e) { w->emit(e); };
  emit(events::counter({test::us(0), 0, Source::Vmm}, "host.rss_bytes", 1 << 20));
  emit(events::world_switch({test::us(100), 0, Source::Vmm}, BtWorld::None, BtWorld::Translated, TrapCause::None, 0, 0,
                            0x100000, 0, 0));
  Event c = events::bt_callout({test::us(150), 0, Source::Emulator}, BtInsn::Cli, 0x100010, 0, 1000);
  events::callout_value(c, 0);
  emit(c);
  emit(events::run_end({test::us(300), 0, Source::Vmm}, RunEndReason::GuestExit, 0, "", nullptr));
  (void)w->close();
  auto t = read_trace_bytes(w->memory_bytes());
  ASSERT_TRUE(t.ok());
  View view;
  view.settings().animate = false;
  view.add_trace(TraceModel::from_trace(std::move(t).value(), "io-burst.bt.rtrace"), "io-burst.bt.rtrace");
  view.set_zoom(0, 300'000);
  auto px = render_offscreen(view, kW, kH);
  ASSERT_TRUE(px.ok()) << px.error().message;
  Pixels p{std::move(px).value()};
  const float band_y = *view.vmx_band_y(0, 0);
  EXPECT_TRUE(near(p.at(view.timeline_x(50'000), band_y), palette::kNoData)) << "before the first world switch";
  EXPECT_FALSE(near(p.at(view.timeline_x(50'000), band_y), palette::kBtDirect));
  EXPECT_TRUE(near(p.at(view.timeline_x(250'000), band_y), palette::kBtTranslated)) << "after it";
}

// `ringscope view --screenshot` of a bt trace with a callout selected: the
// picture the docs use (set RINGSCOPE_KEEP_SCREENSHOT=DIR to keep it).
TEST_F(GlView, BtScreenshotWithACalloutSelected) {
  const auto dir = std::filesystem::temp_directory_path() / "ringscope_view_gl_bt_test";
  std::filesystem::create_directories(dir);
  const auto bytes = test::bt_trace_bytes();
  std::ofstream(dir / "syscalls.bt.rtrace", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  const std::string png = (dir / "bt.png").string();
  // Event 8 is the `out` callout at 320 µs.
  const std::string cmd = std::string(RINGSCOPE_BIN) + " view " + (dir / "syscalls.bt.rtrace").string() +
                          " --select 8 --size 1280x720 --screenshot " + png;
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&img, png.c_str()));
  EXPECT_EQ(img.width, 1280u);
  png_image_free(&img);
  if (const char* keep = std::getenv("RINGSCOPE_KEEP_SCREENSHOT"))
    for (const char* f : {"bt.png", "syscalls.bt.rtrace"})
      std::filesystem::copy_file(dir / f, std::filesystem::path(keep) / f,
                                 std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove_all(dir);
}

TEST_F(GlView, ScreenshotCommandWritesAPngAndReportsBadFiles) {
  const auto dir = std::filesystem::temp_directory_path() / "ringscope_view_gl_test";
  std::filesystem::create_directories(dir);
  const auto bytes = test::syscall_trace_bytes();
  std::ofstream(dir / "good.rtrace", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::ofstream(dir / "bad.rtrace", std::ios::binary) << "RTRACE? no";
  const std::string png = (dir / "shot.png").string(), err = (dir / "err.txt").string();
  const std::string cmd = std::string(RINGSCOPE_BIN) + " view " + (dir / "good.rtrace").string() + " " +
                          (dir / "bad.rtrace").string() + " --select 26 --size 1200x800 --screenshot " + png + " 2>" +
                          err;
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 65);  // the bad file is bad data, but the picture is still made
  std::ifstream e(err);
  const std::string stderr_text((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(stderr_text.find("bad.rtrace"), std::string::npos) << stderr_text;
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&img, png.c_str())) << stderr_text;
  EXPECT_EQ(img.width, 1200u);
  EXPECT_EQ(img.height, 800u);
  png_image_free(&img);
  // The projector and full-HD sizes the layout is made for.
  for (const char* size : {"1280x720", "1920x1080"}) {
    const std::string shot = (dir / (std::string("shot-") + size + ".png")).string();
    const std::string c = std::string(RINGSCOPE_BIN) + " view " + (dir / "good.rtrace").string() +
                          " --select 26 --size " + size + " --screenshot " + shot + " 2>" + err;
    EXPECT_EQ(WEXITSTATUS(std::system(c.c_str())), 0) << size;
    png_image im{};
    im.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_file(&im, shot.c_str())) << size;
    EXPECT_EQ(std::to_string(im.width) + "x" + std::to_string(im.height), size);
    png_image_free(&im);
  }
  std::filesystem::remove_all(dir);
}

// A followed trace on screen: the red LIVE badge at the ruler's right end
// while the writer is still going, a grey "run ended" one after its
// end-of-trace mark; and `ringscope view --follow FILE --screenshot` draws it.
TEST_F(GlView, FollowedTraceShowsLiveThenEnded) {
  const auto dir = std::filesystem::temp_directory_path() / "ringscope_view_gl_follow";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "live.rtrace").string();
  std::vector<size_t> ends;
  const auto bytes = test::rechunk(test::syscall_trace_bytes(), 40, ends);
  test::write_prefix(path, bytes, ends[ends.size() - 3]);
  View view;
  view.settings().animate = false;
  ASSERT_TRUE(view.follow_file(path));
  const ImU32 kLiveRed = palette::kLiveBadge | IM_COL32_A_MASK, kEndedGrey = palette::kEndedBadge | IM_COL32_A_MASK;
  auto badge_pixels = [&](ImU32 col) {
    auto px = render_offscreen(view, kW, kH);
    EXPECT_TRUE(px.ok()) << px.error().message;
    Pixels p{std::move(px).value()};
    const auto [a, b] = view.timeline_rect();
    int n = 0;
    for (float y = a.y; y < a.y + 70; y += 1)
      for (float x = b.x - 300; x < b.x - 1; x += 1)
        if (near(p.at(x, y), col)) ++n;
    return n;
  };
  EXPECT_GT(badge_pixels(kLiveRed), 200);
  test::write_prefix(path, bytes, bytes.size());
  EXPECT_EQ(badge_pixels(kLiveRed), 0);
  EXPECT_GT(badge_pixels(kEndedGrey), 200);

  // The command line: a trace without its end mark yet, followed.
  test::write_prefix(path, bytes, ends[ends.size() - 3]);
  const std::string png = (dir / "live.png").string(), err = (dir / "err.txt").string();
  const std::string cmd =
      std::string(RINGSCOPE_BIN) + " view --follow " + path + " --size 1200x800 --screenshot " + png + " 2>" + err;
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&img, png.c_str()));
  EXPECT_EQ(img.width, 1200u);
  png_image_free(&img);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringscope::viewer
