// handout.h — which handout a reader gets. Every lab directory holds
// handout.md (English) and handout.ko.md (Korean, docs/ko/glossary.md's
// terms); a reader whose language starts with "ko" gets the Korean one.
//
// The language is a plain string so that the command line's --lang and
// the environment choose through the same function: "ko", "ko_KR.UTF-8",
// "ko_KR" pick Korean; "en", "C", "" and anything else pick English.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ringscope::labs {

inline constexpr const char* kHandoutFile = "handout.md";
inline constexpr const char* kKoreanHandoutFile = "handout.ko.md";

// The handout's file name for `lang`.
std::string_view handout_name(std::string_view lang);

// The language messages are read in, from the environment as gettext reads
// it: the first entry of LANGUAGE, else LC_ALL, else LC_MESSAGES, else
// LANG (the first one set and non-empty); "" if none is.
std::string language_from_environment();

// The handout of the lab in `dir` for `lang`. A lab without a handout in
// that language (an instructor's own, under RINGSCOPE_LABS_DIR) gives
// handout.md, and sets *fell_back.
std::filesystem::path handout_path(const std::filesystem::path& dir, std::string_view lang, bool* fell_back = nullptr);

}  // namespace ringscope::labs
