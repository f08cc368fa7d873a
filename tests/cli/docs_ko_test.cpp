// docs_ko_test.cpp — the Korean documents (docs/ko/) stay beside the English
// ones: the pages students read first exist, every scenario README has its
// Korean version, and each Korean page keeps its English source's code
// blocks (the commands a student types) verbatim and in order, so a changed
// command cannot be forgotten in one language. The lab handouts are checked
// the same way in tests/labs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/markdown.h"

namespace {

namespace fs = std::filesystem;

const fs::path kSource = RINGSCOPE_SOURCE_DIR;

using ringscope::test::code_blocks;
using ringscope::test::slurp;

// (English source, Korean version): every docs/ko/X.md beside its docs/X.md,
// and every scenario README beside docs/ko/scenarios/NAME.md. README.ko.md is
// a shorter page of its own, and glossary.md and labs.md have no docs/ twin.
std::vector<std::pair<fs::path, fs::path>> pairs() {
  std::vector<std::pair<fs::path, fs::path>> out;
  for (const auto& e : fs::directory_iterator(kSource / "docs" / "ko"))
    if (e.path().extension() == ".md" && fs::exists(kSource / "docs" / e.path().filename()))
      out.emplace_back(kSource / "docs" / e.path().filename(), e.path());
  for (const auto& e : fs::directory_iterator(kSource / "scenarios"))
    if (fs::exists(e.path() / "README.md"))
      out.emplace_back(e.path() / "README.md",
                       kSource / "docs" / "ko" / "scenarios" / (e.path().filename().string() + ".md"));
  return out;
}

// The pages students read first must be there in Korean (issue 16).
TEST(KoreanDocs, TheStudentsPagesAreTranslated) {
  for (const char* doc : {"boot-protocol.md", "modes.md", "scenarios.md", "glossary.md", "labs.md"})
    EXPECT_TRUE(fs::exists(kSource / "docs" / "ko" / doc)) << "docs/ko/" << doc;
  EXPECT_TRUE(fs::exists(kSource / "README.ko.md"));
}

TEST(KoreanDocs, EveryTranslatedPageExistsAndKeepsTheEnglishCode) {
  size_t pages = 0;
  for (const auto& [en, ko] : pairs()) {
    ++pages;
    ASSERT_TRUE(fs::exists(ko)) << fs::relative(en, kSource).string() << " has no Korean version "
                                << fs::relative(ko, kSource).string()
                                << ": write it in the terms of docs/ko/glossary.md";
    EXPECT_EQ(code_blocks(slurp(ko)), code_blocks(slurp(en)))
        << fs::relative(ko, kSource).string() << "'s code blocks differ from " << fs::relative(en, kSource).string()
        << "'s; copy the changed block across and translate the prose around it";
  }
  EXPECT_GE(pages, 20u) << "the scan found the translated pages and the scenario READMEs";
}

TEST(KoreanDocs, TheReadmesLinkEachOther) {
  EXPECT_NE(slurp(kSource / "README.md").find("README.ko.md"), std::string::npos);
  const std::string ko = slurp(kSource / "README.ko.md");
  EXPECT_NE(ko.find("(README.md)"), std::string::npos);
  // The two commands, as the English README gives them.
  EXPECT_NE(ko.find("./scripts/demo.sh"), std::string::npos);
  EXPECT_NE(ko.find("./scripts/test.sh"), std::string::npos);
}

}  // namespace
