// handout.cpp — which handout a reader gets (handout.h).
#include "checker/handout.h"

#include <system_error>

namespace ringscope::labs {

namespace fs = std::filesystem;

std::string_view handout_name(std::string_view lang) {
  // "ko" alone or followed by a territory, codeset or modifier; not "kok" (Konkani).
  const bool korean =
      lang.starts_with("ko") && (lang.size() == 2 || std::string_view("_.@-").find(lang[2]) != std::string_view::npos);
  return korean ? kKoreanHandoutFile : kHandoutFile;
}

fs::path handout_path(const fs::path& dir, std::string_view lang, bool* fell_back) {
  const fs::path wanted = dir / std::string(handout_name(lang));
  std::error_code ec;
  const bool missing = wanted.filename() != kHandoutFile && !fs::exists(wanted, ec);
  if (fell_back) *fell_back = missing;
  return missing ? dir / kHandoutFile : wanted;
}

}  // namespace ringscope::labs
