// terminal_safety_test.cpp — a guest (or a crafted trace file) chooses marker
// labels, console output and device names; none of it may reach the user's
// terminal as an escape sequence. The `ringscope` binary is run on a trace
// whose strings carry CSI (ESC [), OSC (ESC ] ... BEL) and an 8-bit CSI
// (U+009B), and every verb's output is checked for raw control bytes.
// Output files are created without following a planted symlink.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ringscope/terminal_text.h"
#include "ringscope/trace.h"
#include "test_events.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// CSI that turns text red, an OSC 52 that writes the clipboard, an OSC 8
// hyperlink, an 8-bit CSI in UTF-8, and a BEL.
const std::string kHostile =
    "evil\x1b[31mred\x1b]52;c;aGVsbG8=\x07\x1b]8;;http://x\x1b\\link\xc2\x9b"
    "2J\x07";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The first raw control byte (other than newline and tab) or C1 control in
// `s`, as "offset N: 0xNN", or "" when there is none.
std::string first_control(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool c0 = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
    const bool c1 = c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(s[i + 1]) < 0xa0;
    if (c0 || c1) return "offset " + std::to_string(i) + ": byte " + std::to_string(c);
  }
  return "";
}

TEST(TerminalText, EscapesControlsAndKeepsText) {
  EXPECT_EQ(escape_terminal("plain text"), "plain text");
  EXPECT_EQ(escape_terminal("a\x1b[31mb"), "a\\e[31mb");
  EXPECT_EQ(escape_terminal("bell\x07"), "bell\\x07");
  EXPECT_EQ(escape_terminal("x\xc2\x9by"), "x\\u009by");
  EXPECT_EQ(escape_terminal("bad \xff byte"), "bad \\xff byte");
  EXPECT_EQ(escape_terminal("line\nnext\t."), "line\\nnext\\t.");
  EXPECT_EQ(escape_terminal("line\nnext\t.", TerminalText::Lines), "line\nnext\t.");
  EXPECT_EQ(escape_terminal("\xed\x95\x9c\xea\xb8\x80"), "\xed\x95\x9c\xea\xb8\x80");  // Korean passes
  EXPECT_EQ(first_control(escape_terminal(kHostile)), "");
  EXPECT_EQ(json_terminal_safe("{\"a\":\"x\xc2\x9by\"}"), "{\"a\":\"x\\u009by\"}");
}

TEST(TerminalText, StreamHoldsSplitUtf8AndEscapesControls) {
  TerminalStream t;
  std::string out;
  for (char c : kHostile + "\n\xed\x95\x9c") out += t.put(c);
  out += t.finish();
  EXPECT_EQ(first_control(out), "") << out;
  EXPECT_THAT(out, HasSubstr("\n\xed\x95\x9c"));
  EXPECT_THAT(out, HasSubstr("\\e[31m"));
  // A sequence cut short is shown as its bytes.
  TerminalStream cut;
  std::string o2(cut.put('\xe2'));
  o2 += cut.put('A');
  o2 += cut.finish();
  EXPECT_EQ(o2, "\\xe2A");
}

class TerminalSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-tsafe-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    trace_ = (dir_ / "hostile.rtrace").string();
    TraceHeader h;
    h.scenario = "hostile" + kHostile;
    h.mode = "full-virt";
    h.level = "exits";
    h.params = "label=" + kHostile;
    auto w = TraceWriter::create(trace_, h);
    ASSERT_TRUE(w.ok()) << w.error().message;
    test::TraceBuilder b;
    b.marker(MarkerPhase::Begin, kHostile);
    b.io_exit(0x3f8, Direction::Out, 0x1b, 4200);
    b.marker(MarkerPhase::End, kHostile);
    b.marker(MarkerPhase::Point, kHostile);
    b.counter(kHostile, 7);
    b.output(kHostile + "\n");
    Event dev;
    dev.kind = EventKind::Device;
    dev.device = b.keep(kHostile);
    dev.reg = b.keep(kHostile);
    b.add(dev);
    Event end;
    end.kind = EventKind::RunEnd;
    end.end_reason = RunEndReason::VmmError;
    end.text = b.keep(kHostile);
    b.add(end);
    for (Event e : b.trace().events) (*w)->emit(e);
    ASSERT_TRUE((*w)->close().ok());
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  struct Outcome {
    int rc = -1;
    std::string out, err;
  };
  Outcome ringscope(const std::string& args) {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    std::string cmd =
        std::string("'") + RINGSCOPE_BIN + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
    int status = std::system(cmd.c_str());
    Outcome r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path dir_;
  std::string trace_;
};

TEST_F(TerminalSafety, NoVerbPrintsRawControlBytes) {
  for (const std::string& args :
       {"show " + trace_, "show --explain " + trace_, "show --json --explain " + trace_, "stats " + trace_,
        "stats --json " + trace_, "export --format jsonl -o - " + trace_, "export --format chrome -o - " + trace_}) {
    Outcome r = ringscope(args);
    ASSERT_EQ(r.rc, 0) << args << "\n" << r.err;
    EXPECT_FALSE(r.out.empty()) << args;
    EXPECT_EQ(first_control(r.out), "") << args << " stdout";
    EXPECT_EQ(first_control(r.err), "") << args << " stderr";
  }
}

TEST_F(TerminalSafety, EscapedTextIsStillThereToRead) {
  Outcome stats = ringscope("stats " + trace_);
  ASSERT_EQ(stats.rc, 0) << stats.err;
  EXPECT_THAT(stats.out, HasSubstr("evil\\e[31mred\\e]52;c;aGVsbG8=\\x07"));
  Outcome show = ringscope("show --kind marker " + trace_);
  EXPECT_THAT(show.out, HasSubstr("evil"));
  // JSON keeps the exact bytes, \u-escaped, for scripts.
  Outcome json = ringscope("show --json --kind marker " + trace_);
  auto line = json.out.substr(0, json.out.find('\n'));
  EXPECT_EQ(nlohmann::json::parse(line)["name"].get<std::string>(), kHostile);
}

TEST_F(TerminalSafety, ExportRefusesAPlantedSymlink) {
  fs::path victim = dir_ / "victim.txt";
  std::ofstream(victim) << "precious";
  fs::path link = dir_ / "out.json";
  fs::create_symlink(victim, link);
  for (const char* format : {"chrome", "perfetto", "jsonl"}) {
    Outcome r = ringscope("export --format " + std::string(format) + " -o " + link.string() + " " + trace_);
    EXPECT_EQ(r.rc, 74) << format << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("symbolic link")) << format;
  }
  EXPECT_EQ(slurp(victim), "precious");
}

TEST_F(TerminalSafety, TraceWriterRefusesAPlantedSymlink) {
  fs::path victim = dir_ / "victim.txt";
  std::ofstream(victim) << "precious";
  fs::path link = dir_ / "run.rtrace";
  fs::create_symlink(victim, link);
  auto w = TraceWriter::create(link.string(), TraceHeader{});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::IoError);
  EXPECT_THAT(w.error().message, HasSubstr("symbolic link"));
  EXPECT_EQ(slurp(victim), "precious");
}

}  // namespace
}  // namespace ringscope
