// viewer_font_test.cpp — the viewer under --lang ko: the Hangul glyphs its
// labels use are in the font atlas, rasterised (ink, and not the '?' the
// atlas falls back to), while code, hex and arrows keep the Latin font's
// glyphs; in English no Hangul is loaded at all. Headless: the atlas is
// built on the CPU by ImGui, no display or GL is needed.
#include <gtest/gtest.h>
#include <imgui.h>

#include <string>

#include "platform/imgui_setup.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "visualizer/viewer_test_traces.h"

namespace ringscope::viewer {
namespace {

// The alpha of one glyph's rectangle in the atlas, row by row.
std::string glyph_pixels(const ImFontGlyph& g) {
  ImGuiIO& io = ImGui::GetIO();
  unsigned char* px = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsAlpha8(&px, &w, &h);
  std::string out;
  const int x0 = static_cast<int>(g.U0 * w), x1 = static_cast<int>(g.U1 * w);
  const int y0 = static_cast<int>(g.V0 * h), y1 = static_cast<int>(g.V1 * h);
  for (int y = y0; y < y1; ++y) out.append(reinterpret_cast<const char*>(px) + y * w + x0, x1 - x0);
  return out;
}

int ink(const std::string& pixels) {
  int n = 0;
  for (unsigned char c : pixels) n += c > 128;
  return n;
}

class ViewerFont : public ::testing::Test {
 protected:
  void TearDown() override { init_i18n("en"); }
};

TEST_F(ViewerFont, KoreanLabelsResolveToRealHangulGlyphs) {
  ASSERT_TRUE(init_i18n("ko"));
  const std::string label = tr("Timeline");  // the timeline window's title
  ASSERT_NE(label, "Timeline") << "the catalogue is not loaded";
  HeadlessContext ctx(800, 600);
  ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
  const ImFontGlyph* fallback = font->FindGlyphNoFallback('?');
  ASSERT_NE(fallback, nullptr);
  const std::string question = glyph_pixels(*fallback);
  int hangul = 0;
  for (size_t i = 0; i + 2 < label.size(); ++i) {
    // A three-byte UTF-8 sequence: 1110xxxx 10xxxxxx 10xxxxxx.
    auto b = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(label[i + k])); };
    if ((b(0) & 0xF0) != 0xE0) continue;
    const unsigned c = (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    i += 2;
    if (c < 0xAC00 || c > 0xD7A3) continue;
    ++hangul;
    const ImFontGlyph* g = font->FindGlyphNoFallback(static_cast<ImWchar>(c));
    ASSERT_NE(g, nullptr) << "U+" << std::hex << c << " is not in the atlas: is fonts-nanum installed?";
    const std::string px = glyph_pixels(*g);
    EXPECT_GT(ink(px), 10) << "U+" << std::hex << c << " has no ink";
    EXPECT_NE(px, question) << "U+" << std::hex << c << " renders as '?'";
  }
  EXPECT_EQ(hangul, 4);  // 타임라인
  // Code, hex and arrows still come from the Latin font, whatever the
  // Hangul font would have drawn for them.
  for (ImWchar c : {ImWchar('x'), ImWchar('0'), ImWchar(0x2192) /* → */, ImWchar(0x00B5) /* µ */})
    EXPECT_NE(font->FindGlyphNoFallback(c), nullptr) << "U+" << std::hex << c;
  // A frame of the real view draws with it.
  View view;
  view.add_trace(TraceModel::from_trace(test::syscall_trace(), "syscalls.rtrace"), "syscalls.rtrace");
  EXPECT_NE(ctx.frame(view), nullptr);
}

TEST_F(ViewerFont, OnlyTheCataloguesCharactersAreLoaded) {
  ASSERT_TRUE(init_i18n("ko"));
  HeadlessContext ctx(800, 600);
  ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
  int hangul = 0;
  for (const ImFontGlyph& g : font->Glyphs) hangul += g.Codepoint >= 0xAC00 && g.Codepoint <= 0xD7A3;
  EXPECT_GT(hangul, 100);
  EXPECT_LT(hangul, 2000) << "far more than the catalogue uses: the atlas is loading whole ranges";
  // 뷁 is a valid syllable no sentence of ours uses.
  EXPECT_EQ(font->FindGlyphNoFallback(static_cast<ImWchar>(0xBDC1)), nullptr);
}

TEST_F(ViewerFont, EnglishLoadsNoHangul) {
  ASSERT_TRUE(init_i18n("en"));
  HeadlessContext ctx(800, 600);
  EXPECT_EQ(ImGui::GetIO().Fonts->Fonts[0]->FindGlyphNoFallback(static_cast<ImWchar>(0xD0C0)), nullptr);  // 타
}

}  // namespace
}  // namespace ringscope::viewer
