// markdown.h — reading the project's Markdown in tests: a file's text and
// its fenced code blocks (the parts a translation must keep byte for byte).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace ringscope::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The fenced code blocks of a Markdown text, fences included, in order.
inline std::vector<std::string> code_blocks(const std::string& text) {
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

}  // namespace ringscope::test
