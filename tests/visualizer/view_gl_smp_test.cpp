// view_gl_smp_test.cpp — a multi-vCPU trace on screen: the IPI arrows
// between the vCPU lanes (View_IpiArrows.cpp) and the host rows under them
// (View_HostTracks.cpp), rendered by OpenGL and read back as pixels, each
// checked against its colour in the one colour table (ui/palette.h).
//
// In the viewer_gl_tests binary: CTest runs it under `xvfb-run -a`; without
// a display (and without xvfb-run) it skips, saying why.
#include <gtest/gtest.h>

#include "gl_pixels.h"
#include "platform/gl_app.h"
#include "ringscope/events.h"
#include "ringscope/host_counters.h"
#include "ringscope/trace.h"
#include "ui/View.h"
#include "ui/palette.h"
#include "viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

using test::kH;
using test::kW;
using test::near;
using test::Pixels;

// Pixels near `col` in the box [x0, x1) x [y0, y1).
int count_near(const Pixels& p, float x0, float x1, float y0, float y1, ImU32 col) {
  int n = 0;
  for (float y = std::max(0.0f, y0); y < std::min(y1, float{kH}); y += 1)
    for (float x = std::max(0.0f, x0); x < std::min(x1, float{kW}); x += 1) n += near(p.at(x, y), col) ? 1 : 0;
  return n;
}

// Two vCPUs, as `ringscope run ipi --mode emulation --vcpus 2` records them:
// from time 0, a ring-0 trap on each lane, vCPU 0 writes its local APIC's ICR at 100 µs
// and vCPU 1 takes the IPI (vector 49) at 300 µs; with the host's counters
// every 50 µs: vCPU 0's thread on a CPU 60 % of the time and waiting for
// one 30 %, vCPU 1's 20 % and 10 %; RSS 40 MiB, guest RAM allocated growing
// from 10 to 20 MiB.
Trace smp_trace() {
  TraceHeader h;
  h.scenario = "ipi";
  h.mode = "emulation";
  h.start_mono_ns = test::kOrigin;
  auto w = TraceWriter::create_in_memory(h);
  auto emit = [&](Event e) { w->emit(e); };
  for (uint64_t i = 0; i <= 10; ++i) {
    const uint64_t t = test::us(i * 50), ns = i * 50'000;
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::VcpuCpuNs), ns * 6 / 10));
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::VcpuRunDelayNs), ns * 3 / 10));
    emit(events::counter({t, 1, Source::Vmm}, host_counter_name(HostCounter::VcpuCpuNs), ns * 2 / 10));
    emit(events::counter({t, 1, Source::Vmm}, host_counter_name(HostCounter::VcpuRunDelayNs), ns / 10));
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::RssBytes), uint64_t{40} << 20));
    emit(events::counter({t, 0, Source::Vmm}, host_counter_name(HostCounter::RamResidentBytes), (10 + i) << 20));
    if (i == 0) {
      for (uint32_t v : {0u, 1u})
        emit(events::trap({test::us(1 + v), v, Source::Emulator}, TrapCause::Interrupt, 48, 0, 0, 0x1000, 0x2000));
    }
    if (i == 2)
      emit(events::device({test::us(100), 0, Source::Emulator}, "lapic", "ICR", Direction::Write, 0x0000000100000031,
                          4));
    if (i == 6) emit(events::ipi_inject({test::us(300), 1, Source::Emulator}, 49, 0, "fixed", 200'000));
  }
  emit(events::run_end({test::us(520), 0, Source::Vmm}, RunEndReason::GuestExit, 0, "", nullptr));
  (void)w->close();
  return std::move(read_trace_bytes(w->memory_bytes())).value();
}

class GlSmpView : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = no_display_reason(); !why.empty()) GTEST_SKIP() << why;
    view.settings().animate = false;
    // Only the timeline (`--panels timeline`): room for both lanes and their host rows.
    std::string error;
    ASSERT_TRUE(apply_panels("timeline", view.settings(), error)) << error;
    view.add_trace(TraceModel::from_trace(smp_trace(), "ipi.emulation.rtrace"), "ipi.emulation.rtrace");
    view.set_zoom(0, 500'000);
    auto px = render_offscreen(view, kW, kH);
    ASSERT_TRUE(px.ok()) << px.error().message;
    p.rgba = std::move(px).value();
  }
  View view;
  Pixels p;
};

// The arrow runs from vCPU 0's lane at 100 µs down to vCPU 1's at 300 µs:
// half way, between the two lanes, its pixels have the IPI colour; before
// the ICR write and after the IPI was taken no pixel has it.
TEST_F(GlSmpView, IpiArrowIsDrawnBetweenTheLanesInItsColour) {
  ASSERT_EQ(view.ipi_arrows_drawn(), 1u);
  const float lane0 = *view.ring_band_y(0, 0), lane1 = *view.ring_band_y(0, 1);
  ASSERT_LT(lane0, lane1);
  const float mid = view.timeline_x(200'000);
  EXPECT_GE(count_near(p, mid - 2, mid + 3, lane0, lane1, palette::kIpi), 3) << "the arrow's middle";
  // Its head at the target, near the IPI's time on vCPU 1's lane.
  const float head = view.timeline_x(300'000);
  EXPECT_GE(count_near(p, head - 8, head + 2, lane0, lane1 + 80, palette::kIpi), 10) << "the arrow head";
  for (const double t : {50'000.0, 400'000.0}) {
    const float x = view.timeline_x(t);
    EXPECT_EQ(count_near(p, x - 2, x + 3, lane0 - 20, lane1 + 80, palette::kIpi), 0) << "no arrow at " << t << " ns";
  }
}

// The host CPU rows: from the bottom, the on-CPU share (60 % on vCPU 0,
// 20 % on vCPU 1) in its colour, the run delay stacked on it (30 %, 10 %)
// in its own, the rest of the row empty. The host memory row: RSS, the
// largest level, along its top line, whose scale reads 40 MiB; guest RAM
// allocated below it.
TEST_F(GlSmpView, HostRowsAreDrawnInTheirTableColours) {
  const float x = view.timeline_x(250'000);
  const float h = View::kHostCpuRowH;
  struct Want {
    uint32_t vcpu;
    double cpu, delay;
  };
  for (const Want w : {Want{0, 0.6, 0.3}, Want{1, 0.2, 0.1}}) {
    SCOPED_TRACE("vcpu" + std::to_string(w.vcpu));
    const auto top = view.host_cpu_row_y(0, w.vcpu);
    ASSERT_TRUE(top.has_value()) << "the lane has a host CPU row";
    const float bottom = *top + h;
    const float cpu_top = bottom - static_cast<float>(w.cpu) * h;
    const float delay_top = cpu_top - static_cast<float>(w.delay) * h;
    EXPECT_GE(count_near(p, x - 2, x + 3, cpu_top + 1, bottom - 1, palette::kHostOnCpu),
              static_cast<int>((bottom - cpu_top - 3) * 5))
        << "on a host CPU";
    EXPECT_GE(count_near(p, x - 2, x + 3, delay_top + 1, cpu_top - 1, palette::kHostRunDelay),
              static_cast<int>((cpu_top - delay_top - 3) * 5))
        << "run delay";
    EXPECT_EQ(count_near(p, x - 2, x + 3, *top, delay_top - 1, palette::kHostOnCpu) +
                  count_near(p, x - 2, x + 3, *top, delay_top - 1, palette::kHostRunDelay),
              0)
        << "above the run delay the thread slept";
  }
  const auto mem = view.host_mem_row_y(0);
  ASSERT_TRUE(mem.has_value()) << "vCPU 0's lane has the host memory row";
  ASSERT_FALSE(view.host_mem_row_y(1).has_value() && *view.host_mem_row_y(1) != *mem);
  EXPECT_EQ(view.host_mem_scale_bytes(), uint64_t{40} << 20) << "the scale is the largest level plotted";
  const float mh = View::kHostMemRowH;
  EXPECT_GE(count_near(p, x - 2, x + 3, *mem, *mem + 4, palette::kHostRss), 5) << "RSS along the top line";
  // Guest RAM allocated, 15 MiB at 250 µs: 15/40 of the way up.
  const float ram_y = *mem + mh - 1 - 15.0f / 40 * (mh - 2);
  EXPECT_GE(count_near(p, x - 2, x + 3, ram_y - 4, ram_y + 4, palette::kHostRamAllocated), 2) << "guest RAM";
  // The scale's label sits in the label column beside the row's top, not over the plot.
  const float x0 = view.timeline_x(0);
  EXPECT_GE(count_near(p, x0 - 60, x0 - 4, *mem - 2, *mem + 10, palette::kRuler), 5) << "the scale's text";
}

}  // namespace
}  // namespace ringscope::viewer
