// i18n.h — ringscope's messages in the user's language, with GNU gettext.
//
// English is written in the source; po/ko.po holds the Korean. Three ways to
// mark a string, and po/CMakeLists.txt's xgettext knows all three:
//   tr("text")                  a plain message, translated where it is used;
//   trf("{} exits", n)          a fmt format string, translated and then
//                               formatted (placeholders must match, a test
//                               checks every entry of ko.po);
//   trprint(stderr, "{}\n", x)  trf(), printed (for fmt::print);
//   N_("text")                  a literal in a constexpr table, left as it
//                               is; whoever reads the table calls tr() on it.
// The CLI's help texts (add_option, add_flag, add_subcommand, footer) are
// extracted where they are written and translated when the command line is
// built (cli/main.cpp), so the verbs' files need no marks for them.
// Until init_i18n() chooses Korean, tr() returns its argument untouched, so
// tests and tools that never call it see English and pay nothing.
// docs/i18n.md: adding a string, regenerating the catalogue, the tests.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace ringscope {

enum class Language { English, Korean };

// Chooses the language and binds the catalogue. `requested` is "ko" or "en"
// (the --lang option); empty means the environment decides, as for every
// Linux program: LANGUAGE, then LC_ALL, LC_MESSAGES and LANG. A LANG such as
// ko_KR.UTF-8 works even where that locale was never generated. Returns
// false for a `requested` other than "ko" and "en" (nothing changes then).
bool init_i18n(std::string_view requested = {});

// The language init_i18n() chose (English before it is called).
Language current_language();
// "ko" or "en".
std::string_view language_code(Language l);
// "ko" / "ko_KR.UTF-8" / "korean" → Korean; "en", "C", ... → English;
// anything else → English as well (there is no other catalogue).
Language parse_language(std::string_view code);

// The translation of `msgid` (a NUL-terminated literal) in the current
// language; `msgid` itself in English or when the catalogue lacks it.
const char* tr(const char* msgid);
inline std::string_view tr(std::string_view msgid) { return tr(msgid.data()); }

// A translated fmt format string, formatted. A translation whose
// placeholders do not fit the arguments (the catalogue test stops that
// before a release) falls back to the English rather than throwing.
template <typename... Args>
std::string trf(const char* msgid, Args&&... args) {
  const char* t = tr(msgid);
  if (t != msgid) {
    try {
      return fmt::vformat(t, fmt::make_format_args(args...));
    } catch (const fmt::format_error&) {
    }
  }
  return fmt::vformat(msgid, fmt::make_format_args(args...));
}

// trf(), printed: trprint(stdout, "{} exits\n", n) for fmt::print(...).
template <typename... Args>
void trprint(std::FILE* out, const char* msgid, Args&&... args) {
  std::fputs(trf(msgid, std::forward<Args>(args)...).c_str(), out);
}

}  // namespace ringscope

// For constexpr tables: marks a literal for extraction, translates nothing.
#define N_(s) s
