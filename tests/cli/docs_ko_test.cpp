// docs_ko_test.cpp — the Korean documents (docs/ko/) stay beside the English
// ones: every scenario README has its Korean version, and each Korean page
// keeps its English source's code blocks (the commands a student types)
// verbatim and in order, so a changed command cannot be forgotten in one
// language. The lab handouts are checked the same way in tests/labs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kSource = RINGSCOPE_SOURCE_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The fenced code blocks of a Markdown text, fences included, in order.
std::vector<std::string> code_blocks(const std::string& text) {
  std::vector<std::string> blocks;
  std::istringstream in(text);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    const bool fence = line.starts_with("```");
    if (inside || fence) block += line + "\n";
    if (fence && inside) blocks.push_back(std::move(block)), block.clear();
    if (fence) inside = !inside;
  }
  return blocks;
}

// (English source, Korean version) for every translated page but README.ko.md,
// which is a shorter page of its own.
std::vector<std::pair<fs::path, fs::path>> pairs() {
  std::vector<std::pair<fs::path, fs::path>> out;
  for (const char* doc : {"boot-protocol.md", "compare.md", "hosts.md", "hypercalls.md", "interrupts.md", "modes.md",
                          "probe-port.md", "scenarios.md", "syscalls.md", "viewer.md", "virtio.md", "vmx-model.md"})
    out.emplace_back(kSource / "docs" / doc, kSource / "docs" / "ko" / doc);
  for (const auto& e : fs::directory_iterator(kSource / "scenarios"))
    if (fs::exists(e.path() / "README.md"))
      out.emplace_back(e.path() / "README.md",
                       kSource / "docs" / "ko" / "scenarios" / (e.path().filename().string() + ".md"));
  return out;
}

TEST(KoreanDocs, EveryTranslatedPageExistsAndKeepsTheEnglishCode) {
  size_t pages = 0;
  for (const auto& [en, ko] : pairs()) {
    ++pages;
    ASSERT_TRUE(fs::exists(ko)) << fs::relative(en, kSource).string() << " has no Korean version "
                                << fs::relative(ko, kSource).string()
                                << ": write it in the terms of docs/ko/glossary.md";
    EXPECT_EQ(code_blocks(slurp(ko)), code_blocks(slurp(en)))
        << fs::relative(ko, kSource).string() << "'s code blocks differ from "
        << fs::relative(en, kSource).string() << "'s; copy the changed block across and translate the prose around it";
  }
  EXPECT_GE(pages, 15u) << "the scan found the scenario READMEs";
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
