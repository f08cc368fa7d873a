// The handout a reader gets: handout.ko.md for a Korean reader, handout.md
// otherwise (labs/checker/handout.h); and every lab directory in the tree
// carries both, with the same code blocks, so a lab added later comes with
// its Korean handout.
#include "checker/handout.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/markdown.h"

namespace ringscope::labs {
namespace {

namespace fs = std::filesystem;

TEST(Handout, TheLanguagePicksTheFile) {
  for (const char* ko : {"ko", "ko_KR", "ko_KR.UTF-8", "ko_KR.utf8", "ko@euro", "ko-KR"})
    EXPECT_EQ(handout_name(ko), "handout.ko.md") << ko;
  for (const char* en : {"", "C", "C.UTF-8", "POSIX", "en", "en_US.UTF-8", "de_DE.UTF-8", "kok_IN", "k"})
    EXPECT_EQ(handout_name(en), "handout.md") << en;
}

// An instructor's lab without handout.ko.md still has a handout for a Korean reader.
TEST(Handout, ALabWithoutTheLanguageFallsBackToEnglish) {
  fs::path dir = fs::temp_directory_path() / ("ringscope-handout-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "handout.md") << "# mine\n";
  bool fell_back = false;
  EXPECT_EQ(handout_path(dir, "ko_KR.UTF-8", &fell_back), dir / "handout.md");
  EXPECT_TRUE(fell_back);
  std::ofstream(dir / "handout.ko.md") << "# 내 실습\n";
  EXPECT_EQ(handout_path(dir, "ko_KR.UTF-8", &fell_back), dir / "handout.ko.md");
  EXPECT_FALSE(fell_back);
  EXPECT_EQ(handout_path(dir, "en_US.UTF-8", &fell_back), dir / "handout.md");
  EXPECT_FALSE(fell_back);
  fs::remove_all(dir);
}

using test::code_blocks;
using test::slurp;

bool has_hangul(const std::string& s) {
  // U+AC00..U+D7A3 (Hangul syllables) in UTF-8 start with 0xEA..0xED.
  for (unsigned char c : s)
    if (c >= 0xea && c <= 0xed) return true;
  return false;
}

// Every NN-name directory under labs/ has handout.md and a Korean
// handout.ko.md beside it, whether or not its lab.json loads: a new lab
// without a Korean handout fails here, and so does a Korean handout whose
// code blocks (the commands a student types) no longer match the English.
TEST(Handout, EveryLabDirectoryHasAKoreanHandout) {
  const std::regex lab_dir(R"(\d\d-.+)");
  int labs = 0;
  for (const auto& entry : fs::directory_iterator(RINGSCOPE_LABS_SOURCE_DIR)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(name, lab_dir)) continue;
    ++labs;
    const fs::path ko = entry.path() / "handout.ko.md";
    EXPECT_TRUE(fs::exists(entry.path() / "handout.md")) << name;
    ASSERT_TRUE(fs::is_regular_file(ko)) << name << " has no handout.ko.md: write the Korean handout beside "
                                         << "handout.md, in the terms of docs/ko/glossary.md";
    const std::string text = slurp(ko);
    EXPECT_TRUE(has_hangul(text)) << ko << " is not in Korean";
    // The commands and code a student types are the English handout's, verbatim.
    EXPECT_EQ(code_blocks(text), code_blocks(slurp(entry.path() / "handout.md")))
        << name << ": handout.ko.md's code blocks differ from handout.md's; copy the changed block across and "
        << "translate the prose around it";
  }
  EXPECT_GE(labs, 9) << "the labs directory moved? " << RINGSCOPE_LABS_SOURCE_DIR;
}

}  // namespace
}  // namespace ringscope::labs
