// palette_test.cpp — the colour table: one meaning per colour, and marks
// that stay apart for a deuteranope (the commonest colour blindness).
//
// Deuteranopia is simulated with the matrix of Machado, Oliveira and
// Fernandes (2009, severity 1.0) in linear RGB; distances are CIELAB ΔE*76.
// Two marks that can meet in one timeline row must be at least kMinDelta
// apart after the simulation, and the cursor apart from every mark.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <set>

#include "ui/palette.h"

namespace ringscope::viewer::palette {
namespace {

// ΔE*76 of 15 and more reads as clearly different colours side by side.
constexpr double kMinDelta = 15.0;

using Lab = std::array<double, 3>;

double linear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }

Lab to_lab(ImU32 c, bool deuteranope) {
  std::array<double, 3> rgb = {linear(((c >> IM_COL32_R_SHIFT) & 0xff) / 255.0),
                               linear(((c >> IM_COL32_G_SHIFT) & 0xff) / 255.0),
                               linear(((c >> IM_COL32_B_SHIFT) & 0xff) / 255.0)};
  if (deuteranope) {
    static constexpr double m[3][3] = {
        {0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}};
    std::array<double, 3> s{};
    for (int i = 0; i < 3; ++i) s[i] = std::clamp(m[i][0] * rgb[0] + m[i][1] * rgb[1] + m[i][2] * rgb[2], 0.0, 1.0);
    rgb = s;
  }
  const double x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047;
  const double y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  const double z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883;
  auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116; };
  return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

double delta(ImU32 a, ImU32 b, bool deuteranope) {
  const Lab p = to_lab(a, deuteranope), q = to_lab(b, deuteranope);
  return std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
}

TEST(Palette, TableIsIndexedByColourAndEveryEntrySaysWhatItMeans) {
  ASSERT_EQ(colours().size(), static_cast<size_t>(kColourCount));
  for (size_t i = 0; i < colours().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(colours()[i].id), i);
    EXPECT_NE(std::string(colours()[i].legend), "");
  }
}

// One meaning per colour: no two entries share an RGB value (the hatched
// "ring 3, length unknown" reuses ring 3's blue only as the lines of its hatch).
TEST(Palette, NoTwoMeaningsShareAColour) {
  for (size_t i = 0; i < colours().size(); ++i)
    for (size_t j = i + 1; j < colours().size(); ++j) {
      if (colours()[j].id == Colour::Ring3Unobserved) continue;
      EXPECT_GT(delta(colours()[i].rgba, colours()[j].rgba, false), 8.0)
          << colours()[i].legend << " and " << colours()[j].legend;
    }
}

TEST(Palette, MarksInOneRowStayApartUnderDeuteranopia) {
  for (const auto row : mark_rows())
    for (size_t i = 0; i < row.size(); ++i)
      for (size_t j = i + 1; j < row.size(); ++j)
        EXPECT_GE(delta(rgba(row[i]), rgba(row[j]), true), kMinDelta) << legend(row[i]) << " and " << legend(row[j]);
}

TEST(Palette, BandStatesAndTheCursorStayApartUnderDeuteranopia) {
  const Colour ring[] = {Colour::Ring0, Colour::Ring3, Colour::Unknown};
  const Colour vmx[] = {Colour::NonRoot, Colour::Root, Colour::HaltedInKvm};
  const Colour bt[] = {Colour::BtDirect, Colour::BtTranslated, Colour::BtMonitor, Colour::HaltedInKvm};
  // The host rows: a column stacks on-CPU and run delay; the memory row's three lines share it.
  const Colour host_cpu[] = {Colour::HostOnCpu, Colour::HostRunDelay};
  const Colour host_mem[] = {Colour::HostRss, Colour::HostRamAllocated, Colour::HostDiskCached};
  for (const auto& band : {std::span<const Colour>(ring), std::span<const Colour>(vmx), std::span<const Colour>(bt),
                           std::span<const Colour>(host_cpu), std::span<const Colour>(host_mem)})
    for (size_t i = 0; i < band.size(); ++i)
      for (size_t j = i + 1; j < band.size(); ++j)
        EXPECT_GE(delta(rgba(band[i]), rgba(band[j]), true), kMinDelta)
            << legend(band[i]) << " and " << legend(band[j]);
  for (const ColourInfo& c : colours())
    if (c.use == Use::Mark) {
      EXPECT_GE(delta(c.rgba, kSelection, true), kMinDelta) << "cursor and " << c.legend;
    }
}

// Every event that gets a mark gets a colour of the table meant for marks.
TEST(Palette, EveryMarkColourIsAMarkEntry) {
  for (uint16_t reason = 0; reason < 80; ++reason)
    EXPECT_EQ(colours()[static_cast<size_t>(for_exit(reason))].use, Use::Mark);
  EXPECT_EQ(for_event(EventKind::Trap, 14), Colour::PageFault);
  EXPECT_EQ(for_event(EventKind::Trap, 0x40, TrapCause::SoftInt), Colour::SystemCall);
  EXPECT_EQ(for_event(EventKind::Trap, 32, TrapCause::Interrupt), Colour::Interrupt);
  EXPECT_EQ(for_exit(48), Colour::Mmio);  // virtio MMIO: not "other trap"
  EXPECT_EQ(for_event(EventKind::WorldSwitch, 0), Colour::WorldSwitch);
  EXPECT_EQ(for_event(EventKind::BtCallout, 0), Colour::BtCallout);
  EXPECT_EQ(for_event(EventKind::BtTranslate, 0), Colour::BtTranslate);
  for (EventKind k : {EventKind::WorldSwitch, EventKind::BtCallout, EventKind::BtTranslate})
    EXPECT_EQ(colours()[static_cast<size_t>(for_event(k, 0))].use, Use::Mark);
}

}  // namespace
}  // namespace ringscope::viewer::palette
