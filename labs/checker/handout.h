// handout.h — which handout a reader gets. Every lab directory holds
// handout.md (English) and handout.ko.md (Korean, docs/ko/glossary.md's
// terms); a reader whose language starts with "ko" gets the Korean one.
//
// The language is a plain string: "ko", "ko_KR.UTF-8", "ko_KR" pick Korean;
// "en", "C", "" and anything else pick English. `ringscope lab` passes the
// language init_i18n() chose (--lang, else the environment).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ringscope::labs {

inline constexpr const char* kHandoutFile = "handout.md";
inline constexpr const char* kKoreanHandoutFile = "handout.ko.md";

// The handout's file name for `lang`.
std::string_view handout_name(std::string_view lang);

// The handout of the lab in `dir` for `lang`. A lab without a handout in
// that language (an instructor's own, under RINGSCOPE_LABS_DIR) gives
// handout.md, and sets *fell_back.
std::filesystem::path handout_path(const std::filesystem::path& dir, std::string_view lang, bool* fell_back = nullptr);

}  // namespace ringscope::labs
