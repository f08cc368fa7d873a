// discovery.cpp — the built-in labs plus RINGSCOPE_LABS_DIR's (discovery.h).
#include "checker/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "ringscope/resources.h"

namespace ringscope::labs {

namespace fs = std::filesystem;

std::vector<fs::path> lab_dirs() {
  std::vector<fs::path> dirs = {resource_dirs().labs};
  const char* env = std::getenv(kLabsDirVariable);
  std::string list = env ? env : "";
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    fs::path p = fs::path(list.substr(start, end - start)).lexically_normal();
    if (!p.empty() && std::find(dirs.begin(), dirs.end(), p) == dirs.end()) dirs.push_back(p);
    start = end + 1;
  }
  return dirs;
}

Result<std::vector<Lab>> discover_labs() {
  std::vector<Lab> all;
  std::error_code ec;
  auto dirs = lab_dirs();
  for (size_t i = 0; i < dirs.size(); ++i) {
    // A missing built-in directory (a half-installed copy) is reported by
    // load_labs; the instructor's own are checked by name first.
    if (i > 0 && !fs::is_directory(dirs[i], ec))
      return make_error(ErrorKind::NoInput, fmt::format("{} names {}, which is not a directory; list directories "
                                                        "holding NN-name/lab.json, separated by ':'",
                                                        kLabsDirVariable, dirs[i].string()));
    TRY_ASSIGN(auto labs, load_labs(dirs[i]));
    for (auto& l : labs) all.push_back(std::move(l));
  }
  std::stable_sort(all.begin(), all.end(), [](const Lab& a, const Lab& b) { return a.number < b.number; });
  for (size_t i = 1; i < all.size(); ++i)
    if (all[i].number == all[i - 1].number)
      return make_error(ErrorKind::BadData,
                        fmt::format("labs {} and {} both have number {}; give one of them another number in its "
                                    "lab.json",
                                    all[i - 1].dir.string(), all[i].dir.string(), all[i].number));
  return all;
}

}  // namespace ringscope::labs
