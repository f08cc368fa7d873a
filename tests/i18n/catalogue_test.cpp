// catalogue_test.cpp — po/ko.po against the sources: every string xgettext
// extracts has a Korean entry (so a new English message without one fails
// here), every entry keeps its source's fmt placeholders, msgfmt accepts the
// file, and po/ringscope.pot is what `cmake --build build --target pot`
// would write now.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "po_file.h"

namespace ringscope::testing {
namespace {

namespace fs = std::filesystem;

const std::string kSource = RINGSCOPE_SOURCE_DIR;
const std::string kKoPo = kSource + "/po/ko.po";

// xgettext over the sources now, with po/CMakeLists.txt's options.
std::vector<PoEntry> extract_now() {
  fs::path out = fs::temp_directory_path() / ("ringscope-xgettext-" + std::to_string(getpid()) + ".pot");
  std::string cmd = "cd '" + kSource + "' && " + RINGSCOPE_XGETTEXT + " --output='" + out.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto entries = read_po(out.string());
  fs::remove(out);
  return entries;
}

std::map<std::string, PoEntry> by_msgid(const std::vector<PoEntry>& v) {
  std::map<std::string, PoEntry> m;
  for (const auto& e : v) m[e.msgid] = e;
  return m;
}

TEST(Catalogue, EveryExtractedStringHasAKoreanEntry) {
  auto extracted = extract_now();
  ASSERT_GT(extracted.size(), 100u) << "xgettext found almost nothing: are tr()/trf()/N_ still the keywords?";
  auto ko = by_msgid(read_po(kKoPo));
  std::vector<std::string> missing;
  for (const auto& e : extracted) {
    auto it = ko.find(e.msgid);
    if (it == ko.end() || it->second.msgstr.empty() || it->second.fuzzy) missing.push_back(e.msgid);
  }
  EXPECT_THAT(missing, ::testing::IsEmpty())
      << missing.size() << " of " << extracted.size() << " messages have no Korean translation. Run "
      << "`cmake --build build --target pot`, translate the new entries of po/ko.po (docs/i18n.md), rebuild.";
}

TEST(Catalogue, PotIsCurrent) {
  std::set<std::string> now, committed;
  for (const auto& e : extract_now()) now.insert(e.msgid);
  for (const auto& e : read_po(kSource + "/po/ringscope.pot")) committed.insert(e.msgid);
  EXPECT_EQ(now, committed) << "po/ringscope.pot is stale: run `cmake --build build --target pot` and commit it";
}

TEST(Catalogue, TranslationsKeepTheirPlaceholders) {
  int checked = 0;
  for (const auto& e : read_po(kKoPo)) {
    if (e.msgstr.empty()) continue;
    ++checked;
    EXPECT_EQ(placeholders(e.msgstr), placeholders(e.msgid)) << "msgid:  " << e.msgid << "\nmsgstr: " << e.msgstr;
  }
  EXPECT_GT(checked, 100);
}

TEST(Catalogue, MsgfmtAcceptsIt) {
  std::string cmd = std::string(RINGSCOPE_MSGFMT) + " --check --output-file=/dev/null '" + kKoPo + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The checker itself: a test that cannot fail guards nothing.
TEST(Placeholders, ReorderedIndexesMatchAutomaticOnes) {
  EXPECT_EQ(placeholders("{} at 0x{:x}"), placeholders("0x{1:x}: {0}"));
  EXPECT_EQ(placeholders("{{literal}} {}"), placeholders("{0} {{다른 글}}"));
}

TEST(Placeholders, DifferencesAreSeen) {
  EXPECT_NE(placeholders("{} at 0x{:x}"), placeholders("{} at 0x{}"));  // spec lost
  EXPECT_NE(placeholders("{} and {}"), placeholders("{}"));             // argument dropped
  EXPECT_NE(placeholders("{} and {}"), placeholders("{0} and {0}"));    // wrong index
  EXPECT_EQ(placeholders("{")[0].first, -1);                            // malformed
  EXPECT_EQ(placeholders("{} {1}")[0].first, -1);                       // mixed numbering
}

}  // namespace
}  // namespace ringscope::testing
