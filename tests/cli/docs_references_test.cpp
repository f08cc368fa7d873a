// docs_references_test.cpp — every docs/... path the code, comments, help
// texts, scenarios, labs and READMEs cite exists in the repository, and
// nothing cites DESIGN.md or PLATFORM.md, which are not in it (the host
// facts are docs/hosts.md). A user who follows a pointer finds a page.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;

const fs::path kSource = RINGSCOPE_SOURCE_DIR;

bool scanned(const fs::path& p) {
  static const std::set<std::string> exts = {".cpp", ".h", ".c", ".S", ".md", ".json", ".txt", ".in", ".ld", ".cmake"};
  return exts.count(p.extension().string()) > 0;
}

std::vector<fs::path> files() {
  std::vector<fs::path> out;
  for (const char* top : {"cli", "core", "sim-modes", "scenarios", "labs", "visualizer", "docs"}) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(kSource / top, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file() && scanned(it->path())) out.push_back(it->path());
  }
  for (const auto& e : fs::directory_iterator(kSource))
    if (e.is_regular_file() && e.path().filename().string().rfind("README", 0) == 0) out.push_back(e.path());
  return out;
}

TEST(DocsReferences, EveryCitedDocsPathExists) {
  const std::regex cite(R"(docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-])");
  size_t cited = 0;
  for (const auto& f : files()) {
    std::ifstream in(f);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      for (std::sregex_iterator it(line.begin(), line.end(), cite), end; it != end; ++it) {
        std::string path = it->str();
        // "docs/" inside a longer word is not a citation (e.g. a URL path).
        size_t at = static_cast<size_t>(it->position());
        if (at > 0 && (std::isalnum(static_cast<unsigned char>(line[at - 1])) || line[at - 1] == '/')) continue;
        ++cited;
        EXPECT_TRUE(fs::exists(kSource / path))
            << fs::relative(f, kSource).string() << ":" << n << " cites " << path << ", which does not exist";
      }
    }
  }
  EXPECT_GT(cited, 20u) << "the scan found the citations it guards";
}

TEST(DocsReferences, NothingCitesDocumentsOutsideTheRepository) {
  const std::regex outside(R"((^|[^A-Za-z0-9_/])(DESIGN|PLATFORM)\.md)");
  for (const auto& f : files()) {
    std::ifstream in(f);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      EXPECT_FALSE(std::regex_search(line, outside))
          << fs::relative(f, kSource).string() << ":" << n << " cites a file that is not in the repository: " << line;
  }
}

}  // namespace
