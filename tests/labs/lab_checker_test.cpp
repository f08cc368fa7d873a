// The lab checker on made-up events: which events a query matches, marker
// phases, measures, division, answers.txt, lab.json validation, and that a
// wrong answer is not told the right one.
#include "checker/lab.h"

#include <gtest/gtest.h>

#include <fstream>

namespace ringscope::labs {
namespace {

namespace fs = std::filesystem;

Event marker(std::string_view label, MarkerPhase phase) {
  Event e;
  e.kind = EventKind::Marker;
  e.source = Source::Guest;
  e.name = label;
  e.phase = phase;
  return e;
}
Event trap(uint8_t vector, uint8_t from, uint8_t to) {
  Event e;
  e.kind = EventKind::Trap;
  e.cause = TrapCause::SoftInt;
  e.vector = vector;
  e.from_cpl = from;
  e.to_cpl = to;
  return e;
}
Event io_exit(uint16_t port, Direction d) {
  Event e;
  e.kind = EventKind::VmExit;
  e.reason = 30;
  e.port = port;
  e.direction = d;
  return e;
}

// Two traps and an exit outside the phase, three traps and two exits inside.
std::vector<Event> sample() {
  return {trap(64, 3, 0),
          io_exit(0x3f8, Direction::Out),
          marker("work", MarkerPhase::Begin),
          trap(64, 3, 0),
          io_exit(0x3fd, Direction::In),
          io_exit(0x3f8, Direction::Out),
          trap(64, 3, 0),
          trap(14, 3, 0),
          marker("work", MarkerPhase::End),
          trap(64, 3, 0)};
}

Query q(const std::string& json_like_kind, std::string between = {}) {
  Query query;
  query.run = "r";
  query.filter.kinds = {json_like_kind};
  query.filter.between = std::move(between);
  return query;
}

TEST(LabChecker, QueriesCountMatchingEventsInsideAPhase) {
  auto ev = sample();
  EXPECT_EQ(measure(q("trap"), ev), 5);
  EXPECT_EQ(measure(q("trap", "work"), ev), 3);
  Query pf = q("trap", "work");
  pf.filter.vector = 14;
  EXPECT_EQ(measure(pf, ev), 1);
  Query out = q("vm_exit", "work");
  out.filter.direction = "out";
  out.filter.port = 0x3f8;
  EXPECT_EQ(measure(out, ev), 1);
  Query both = q("trap", "work");
  both.filter.kinds = {"trap", "vm_exit"};
  EXPECT_EQ(measure(both, ev), 5);
  Query last = q("vm_exit", "work");
  last.filter.direction = "in";
  last.measure = "last_port";
  EXPECT_EQ(measure(last, ev), 0x3fd);
  EXPECT_EQ(measure(q("trap", "no such phase"), ev), 0) << "a missing phase matches nothing";
  Query unclosed = q("trap", "open");
  auto open = ev;
  open.insert(open.begin(), marker("open", MarkerPhase::Begin));
  EXPECT_EQ(measure(unclosed, open), 5) << "a phase never closed runs to the end";
}

TEST(LabChecker, SpanOfAPhaseOrOfTheMatchingEvents) {
  auto ev = sample();
  for (size_t i = 0; i < ev.size(); ++i) ev[i].time_ns = 1000 + 100 * i;  // markers at 1200 and 1800
  Query phase;
  phase.run = "r";
  phase.measure = "span_ns";
  phase.filter.between = "work";
  EXPECT_EQ(measure(phase, ev), 600) << "a whole phase: begin marker to end marker";
  Query traps = q("trap", "work");
  traps.measure = "span_ns";
  EXPECT_EQ(measure(traps, ev), 400) << "first to last matching event (1300 .. 1700)";
  Query all;
  all.measure = "span_ns";
  EXPECT_EQ(measure(all, ev), 900) << "the whole run";
}

Check answer_check(const std::string& key, double tolerance = 0) {
  Check c;
  c.id = key;
  c.say = "question";
  c.query = q("trap", "work");
  c.expect.answer = key;
  c.expect.tolerance = tolerance;
  return c;
}

TEST(LabChecker, AnswersAreComparedWithoutGivingTheRightOneAway) {
  auto ev = sample();
  RunEvents runs{{"r", &ev}};
  CheckResult good = evaluate(answer_check("n"), runs, {{"n", 3}});
  EXPECT_TRUE(good.passed) << good.detail;
  CheckResult bad = evaluate(answer_check("n"), runs, {{"n", 4}});
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.detail.find('3'), std::string::npos) << "must not reveal the measured 3: " << bad.detail;
  CheckResult missing = evaluate(answer_check("n"), runs, {});
  EXPECT_FALSE(missing.passed);
  EXPECT_NE(missing.detail.find("no answer"), std::string::npos) << missing.detail;
  EXPECT_TRUE(evaluate(answer_check("n", 0.5), runs, {{"n", 4}}).passed) << "within 50 %";
  CheckResult norun = evaluate(answer_check("n"), RunEvents{}, {{"n", 3}});
  EXPECT_FALSE(norun.passed);
  EXPECT_NE(norun.detail.find("did not happen"), std::string::npos);
}

TEST(LabChecker, DivisionByAQueryOrANumber) {
  auto ev = sample();
  RunEvents runs{{"r", &ev}};
  Check c;
  c.query = q("vm_exit", "work");   // 2
  c.divide_by = q("trap", "work");  // 3
  c.divide_by_number = 2;
  c.expect.equals = 2.0 / 3 / 2;
  CheckResult r = evaluate(c, runs, {});
  EXPECT_TRUE(r.passed) << r.detail;
  c.divide_by = q("trap", "nowhere");
  EXPECT_FALSE(evaluate(c, runs, {}).passed) << "dividing by nothing fails, it does not crash";
  Check bounds;
  bounds.query = q("trap");
  bounds.expect.at_least = 5;
  bounds.expect.at_most = 5;
  EXPECT_TRUE(evaluate(bounds, runs, {}).passed);
  bounds.expect.at_least = 6;
  EXPECT_FALSE(evaluate(bounds, runs, {}).passed);
}

TEST(LabChecker, AnswersFileFormat) {
  auto a = parse_answers("# comment\nvector: 0x40\n\n  ratio :  2.5  # why\n");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().at("vector"), 64);
  EXPECT_EQ(a.value().at("ratio"), 2.5);
  auto bad = parse_answers("vector 64\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_answers("n: many\n").ok());
}

fs::path write_lab(const std::string& json) {
  static int n = 0;
  fs::path dir =
      fs::temp_directory_path() / ("ringscope-labtest-" + std::to_string(getpid()) + "-" + std::to_string(n++));
  fs::create_directories(dir);
  std::ofstream(dir / "lab.json") << json;
  return dir;
}

TEST(LabChecker, LabJsonIsValidatedWithTheFieldThatIsWrong) {
  const std::string run = R"({"id": "r", "scenario": "hello"})";
  const std::string check = R"({"say": "s", "query": {"run": "r", "kind": "trap"}, "expect": {"equals": 1}})";
  auto lab = [&](const std::string& runs, const std::string& checks, const std::string& extra = "") {
    return load_lab(write_lab(R"({"number": 9, "title": "t", "runs": [)" + runs + R"(], "checks": [)" + checks + "]" +
                              extra + "}"));
  };
  auto ok = lab(run, check);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value().runs[0].mode, "emulation");

  struct Bad {
    std::string runs, checks, extra, says;
  };
  const Bad bad[] = {
      {run, R"({"say": "s", "query": {"run": "r", "kind": "trapp"}, "expect": {"equals": 1}})", "", "no event kind"},
      {run, R"({"say": "s", "query": {"run": "x", "kind": "trap"}, "expect": {"equals": 1}})", "", "no run \"x\""},
      {run, R"({"say": "s", "query": {"run": "r", "kidn": "trap"}, "expect": {"equals": 1}})", "", "unknown key"},
      {run, R"({"say": "s", "query": {"run": "r"}, "expect": {"answer": "q9"}})", "", "not in \"answers\""},
      {run, R"({"say": "s", "query": {"run": "r"}, "expect": {}})", "", "give equals"},
      {run + "," + run, check, "", "used twice"},
      {R"({"id": "r", "scenario": "hello", "program": ["a.c"]})", check, "", "give \"program\""},
      {R"({"id": "r", "scenario": "hello", "mode": "fast"})", check, "", "must be full-virt"},
      {run, check, R"(, "extra": 1)", "unknown key"},
  };
  for (const auto& b : bad) {
    auto r = lab(b.runs, b.checks, b.extra);
    ASSERT_FALSE(r.ok()) << b.says;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("lab.json"), std::string::npos) << "names the file: " << r.error().message;
  }
  auto garbage = load_lab(write_lab("{ not json"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("not valid JSON"), std::string::npos);
}

TEST(LabChecker, EveryLabInTheTreeLoads) {
  auto labs = load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  ASSERT_TRUE(labs.ok()) << labs.error().message;
  ASSERT_GE(labs.value().size(), 3u);
  for (size_t i = 0; i < labs.value().size(); ++i) {
    const Lab& l = labs.value()[i];
    EXPECT_EQ(l.number, static_cast<int>(i) + 1) << "labs are numbered 1, 2, 3, ...";
    EXPECT_TRUE(fs::exists(l.dir / "handout.md")) << l.dir;
  }
}

}  // namespace
}  // namespace ringscope::labs
