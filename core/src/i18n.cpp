// i18n.cpp — choosing the language and binding the gettext catalogue
// (i18n.h). The catalogue is <locale>/ko/LC_MESSAGES/ringscope.mo, where
// <locale> is the build tree's locale/ or the installed share/locale
// (resources.h decides which, po/CMakeLists.txt puts it there).
#include "ringscope/i18n.h"

#include <libintl.h>

#include <clocale>
#include <cstdlib>
#include <string>

#include "ringscope/resources.h"

// glibc's counter of loaded catalogues: bumping it drops gettext's cache of
// earlier answers, which is what a change of LANGUAGE at run time needs (the
// GNU gettext manual, "Being a gettext grok").
extern "C" int _nl_msg_cat_cntr;  // NOLINT(bugprone-reserved-identifier)

namespace ringscope {

namespace {

constexpr const char* kDomain = "ringscope";
Language g_language = Language::English;

// What the environment asks for, in POSIX's order of precedence for
// messages. LANGUAGE is a colon-separated list; its first entry decides,
// since there is only one catalogue to pick.
std::string environment_language() {
  for (const char* var : {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::string(v).substr(0, std::string_view(v).find(':'));
  }
  return "C";
}

}  // namespace

Language parse_language(std::string_view code) {
  if (code.starts_with("ko") || code.starts_with("korean")) return Language::Korean;
  return Language::English;
}

std::string_view language_code(Language l) { return l == Language::Korean ? "ko" : "en"; }

Language current_language() { return g_language; }

bool init_i18n(std::string_view requested) {
  if (!requested.empty() && requested != "ko" && requested != "en") return false;
  Language want = parse_language(requested.empty() ? environment_language() : requested);
  // gettext looks at LC_MESSAGES. Debian containers often generate no
  // locale but C.UTF-8, so setlocale(ko_KR.UTF-8) fails there; C.UTF-8
  // still lets gettext honour LANGUAGE (glibc ignores LANGUAGE only in the
  // plain "C" locale) and keeps the output UTF-8. Only LC_MESSAGES changes:
  // numbers and sorting stay as they were.
  if (!std::setlocale(LC_MESSAGES, "")) std::setlocale(LC_MESSAGES, "C.UTF-8");
  const char* now = std::setlocale(LC_MESSAGES, nullptr);
  if (want == Language::Korean && now && (std::string_view(now) == "C" || std::string_view(now) == "POSIX"))
    std::setlocale(LC_MESSAGES, "C.UTF-8");
  // LANGUAGE then names the catalogue whatever the locale is called; the
  // child processes ringscope starts (gcc for `build`) see the same choice.
  setenv("LANGUAGE", want == Language::Korean ? "ko" : "en", 1);
  bindtextdomain(kDomain, resource_dirs().locale.c_str());
  bind_textdomain_codeset(kDomain, "UTF-8");
  ++_nl_msg_cat_cntr;
  g_language = want;
  return true;
}

const char* tr(const char* msgid) {
  if (g_language == Language::English || !msgid || !*msgid) return msgid;
  return dgettext(kDomain, msgid);
}

}  // namespace ringscope
