// runtime_test.cpp — choosing the language: tr()/trf() in process, the
// environment's LANG (even for a locale this machine never generated), and
// the `ringscope` binary under --lang ko, --lang en and LANG=ko_KR.UTF-8.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ringscope/event.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"

namespace ringscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Hangul syllables are U+AC00..U+D7A3: in UTF-8, EA B0 80 .. ED 9E A3.
bool has_hangul(const std::string& s) {
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    auto b0 = static_cast<unsigned char>(s[i]), b1 = static_cast<unsigned char>(s[i + 1]);
    if ((b0 >= 0xEA && b0 <= 0xEC && b1 >= 0x80) || (b0 == 0xED && b1 <= 0x9E)) return true;
  }
  return false;
}

Event syscall_event() {
  Event e;
  e.kind = EventKind::Trap;
  e.cause = TrapCause::Syscall;
  e.rip = 0x401000;
  e.rip_to = 0x100200;
  e.from_cpl = 3;
  e.to_cpl = 0;
  return e;
}

// Each test leaves English behind, as the other tests of a binary expect.
class Language : public ::testing::Test {
 protected:
  void TearDown() override { init_i18n("en"); }
};

TEST_F(Language, KoreanChangesTheExplanationAndEnglishRestoresIt) {
  ASSERT_TRUE(init_i18n("en"));
  std::string en = explain_event(syscall_event());
  EXPECT_THAT(en, HasSubstr("syscall to ask the kernel"));
  ASSERT_TRUE(init_i18n("ko"));
  EXPECT_EQ(current_language(), ringscope::Language::Korean);
  std::string ko = explain_event(syscall_event());
  EXPECT_TRUE(has_hangul(ko)) << ko;
  EXPECT_THAT(ko, HasSubstr("0x401000"));      // the placeholders were filled
  EXPECT_THAT(ko, HasSubstr("링 3(사용자)"));  // and the ring words translated too
  ASSERT_TRUE(init_i18n("en"));
  EXPECT_EQ(explain_event(syscall_event()), en);
}

TEST_F(Language, UnknownLanguageIsRefused) {
  EXPECT_FALSE(init_i18n("fr"));
  EXPECT_EQ(current_language(), ringscope::Language::English);
}

// Debian containers generate no locale but C.UTF-8: LANG=ko_KR.UTF-8 must
// still give Korean (init_i18n falls back to C.UTF-8 and sets LANGUAGE).
TEST_F(Language, LangOfAnUngeneratedLocaleStillGivesKorean) {
  unsetenv("LANGUAGE");
  unsetenv("LC_ALL");
  unsetenv("LC_MESSAGES");
  setenv("LANG", "ko_KR.UTF-8", 1);
  ASSERT_TRUE(init_i18n());
  EXPECT_EQ(current_language(), ringscope::Language::Korean);
  EXPECT_TRUE(has_hangul(explain_event(syscall_event())));
  setenv("LANG", "C.UTF-8", 1);
  unsetenv("LANGUAGE");  // init_i18n set it; the environment decides again
  ASSERT_TRUE(init_i18n());
  EXPECT_EQ(current_language(), ringscope::Language::English);
}

TEST(Trf, ABrokenTranslationFallsBackToEnglish) {
  // Not in the catalogue: the English format is used as it is.
  EXPECT_EQ(trf("{} of {}", 1, 2), "1 of 2");
}

struct Outcome {
  int rc = -1;
  std::string out;
};

Outcome run(const std::string& cmd) {
  Outcome r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

const std::string kBin = std::string("env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 ") + RINGSCOPE_BIN;

TEST(Binary, LangKoChangesTheHelpAndDoctor) {
  Outcome en = run(kBin + " --lang en --help"), ko = run(kBin + " --lang ko --help");
  EXPECT_EQ(en.rc, 0);
  EXPECT_EQ(ko.rc, 0);
  EXPECT_FALSE(has_hangul(en.out)) << en.out;
  EXPECT_TRUE(has_hangul(ko.out)) << ko.out;
  // doctor, with --lang after the verb as well (a global option).
  Outcome den = run("RINGSCOPE_NO_KVM=1 " + kBin + " doctor --lang en");
  Outcome dko = run("RINGSCOPE_NO_KVM=1 " + kBin + " doctor --lang ko");
  EXPECT_EQ(den.rc, dko.rc);
  EXPECT_FALSE(has_hangul(den.out)) << den.out;
  EXPECT_TRUE(has_hangul(dko.out)) << dko.out;
}

TEST(Binary, LangFromTheEnvironment) {
  std::string bin = std::string("env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=ko_KR.UTF-8 ") + RINGSCOPE_BIN;
  EXPECT_TRUE(has_hangul(run(bin + " --help").out));
  // --lang wins over the environment.
  EXPECT_FALSE(has_hangul(run(bin + " --lang en --help").out));
}

TEST(Binary, AnUnknownLangIsAUsageError) {
  Outcome r = run(kBin + " --lang fr --help");
  EXPECT_EQ(r.rc, 64);
  EXPECT_THAT(r.out, HasSubstr("--lang ko"));
}

}  // namespace
}  // namespace ringscope
