// lab_language_test.cpp — lab feedback in the student's language: the
// checker's sentences follow the catalogue, lab.json's Korean fields and its
// declared "language" are read, and a language the catalogue lacks is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "checker/lab.h"
#include "ringscope/i18n.h"

namespace ringscope::labs {
namespace {

namespace fs = std::filesystem;

class LabLanguage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-lab-lang-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "handout.md") << "# Lab 1\n";
  }
  void TearDown() override {
    init_i18n("en");
    fs::remove_all(dir_);
  }
  void write_lab(const std::string& language) {
    std::ofstream(dir_ / "lab.json") << R"({"number": 1, "title": "Rings", "title_ko": "링",)" << language
                                     << R"( "runs": [{"id": "r", "scenario": "hello", "mode": "emulation"}],
  "checks": [{"id": "c", "say": "one exit", "say_ko": "exit 한 번", "hint": "look", "hint_ko": "보라",
              "query": {"run": "r", "kind": "vm_exit"}, "expect": {"equals": 1}}]})";
  }
  fs::path dir_;
};

TEST_F(LabLanguage, KoreanFieldsAndTheDeclaredLanguageAreRead) {
  write_lab(R"( "language": "ko",)");
  auto lab = load_lab(dir_);
  ASSERT_TRUE(lab.ok()) << lab.error().message;
  EXPECT_EQ(lab.value().language, "ko");
  EXPECT_EQ(lab.value().title_ko, "링");
  EXPECT_EQ(lab.value().checks.at(0).say_ko, "exit 한 번");
  EXPECT_EQ(lab.value().checks.at(0).hint_ko, "보라");
}

TEST_F(LabLanguage, AnUnknownLanguageIsRefusedByName) {
  write_lab(R"( "language": "fr",)");
  auto lab = load_lab(dir_);
  ASSERT_FALSE(lab.ok());
  EXPECT_NE(lab.error().message.find("language"), std::string::npos) << lab.error().message;
}

TEST_F(LabLanguage, TheCheckersDetailFollowsTheLanguage) {
  write_lab("");
  auto lab = load_lab(dir_);
  ASSERT_TRUE(lab.ok()) << lab.error().message;
  std::vector<Event> events(2);
  for (auto& e : events) e.kind = EventKind::VmExit;
  const RunEvents runs = {{"r", &events}};
  ASSERT_TRUE(init_i18n("en"));
  const std::string en = evaluate(lab.value().checks.at(0), runs, {}).detail;
  ASSERT_TRUE(init_i18n("ko"));
  const std::string ko = evaluate(lab.value().checks.at(0), runs, {}).detail;
  EXPECT_NE(en, ko);
  EXPECT_NE(ko.find("기대한 값 1"), std::string::npos) << ko;  // "expected 1", translated
  EXPECT_NE(ko.find('2'), std::string::npos) << ko;            // and the measure still there
}

}  // namespace
}  // namespace ringscope::labs
