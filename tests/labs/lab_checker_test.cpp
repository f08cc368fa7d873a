// The lab checker on made-up events: which events a query matches, marker
// phases, measures, division, answers.txt (line by line), lab.json
// validation (schema, labels that can never match), `lab validate`, the
// streaming grader, and that a wrong answer is not told the right one.
#include "checker/lab.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/stat.h>

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

Query q(EventKind kind, std::string between = {}) {
  Query query;
  query.run = "r";
  query.filter.add_kind(kind);
  query.between = std::move(between);
  return query;
}
constexpr auto kTrap = EventKind::Trap, kExit = EventKind::VmExit;

TEST(LabChecker, QueriesCountMatchingEventsInsideAPhase) {
  auto ev = sample();
  auto measure = [](const Query& query, const std::vector<Event>& events) {
    return labs::measure(query, events).value.value_or(-1);
  };
  EXPECT_EQ(measure(q(kTrap), ev), 5);
  EXPECT_EQ(measure(q(kTrap, "work"), ev), 3);
  Query pf = q(kTrap, "work");
  pf.filter.vector = 14;
  EXPECT_EQ(measure(pf, ev), 1);
  Query out = q(kExit, "work");
  out.filter.direction = Direction::Out;
  out.filter.port = 0x3f8;
  EXPECT_EQ(measure(out, ev), 1);
  Query both = q(kTrap, "work");
  both.filter.add_kind(kExit);
  EXPECT_EQ(measure(both, ev), 5);
  Query last = q(kExit, "work");
  last.filter.direction = Direction::In;
  last.measure = "last_port";
  EXPECT_EQ(measure(last, ev), 0x3fd);
  Measured missing = labs::measure(q(kTrap, "no such phase"), ev);
  EXPECT_FALSE(missing.value) << "a phase that is not in the trace is not a silent 0";
  EXPECT_NE(missing.problem.find("\"no such phase\" is not in run r's trace"), std::string::npos) << missing.problem;
  Query none = q(kExit, "work");
  none.filter.port = 0x60;
  none.measure = "last_value";
  Measured nothing = labs::measure(none, ev);
  EXPECT_FALSE(nothing.value) << "the last value of no event is not 0";
  EXPECT_NE(nothing.problem.find("no event of run r matched in the phase \"work\""), std::string::npos)
      << nothing.problem;
  none.measure = "count";
  EXPECT_EQ(measure(none, ev), 0) << "a count of nothing is 0";
  Query unclosed = q(kTrap, "open");
  auto open = ev;
  open.insert(open.begin(), marker("open", MarkerPhase::Begin));
  EXPECT_EQ(measure(unclosed, open), 5) << "a phase never closed runs to the end";
}

// The lab filter is the one EventFilter: a key matches only the events that
// carry it. `reason` used to compare every event's reason field, so
// {"reason": 0} counted the traps and markers too (their reason is 0).
TEST(LabChecker, AKeyMatchesOnlyEventsThatCarryIt) {
  auto ev = sample();
  Query reason0;
  reason0.run = "r";
  reason0.filter.reason = 0;
  EXPECT_EQ(labs::measure(reason0, ev).value.value_or(-1), 0) << "no exit here has reason 0";
  Event pf_exit;
  pf_exit.kind = EventKind::VmExit;
  pf_exit.reason = 0;
  pf_exit.vector = 14;
  ev.push_back(pf_exit);
  EXPECT_EQ(labs::measure(reason0, ev).value.value_or(-1), 1);
  // cpl: a trap 3 -> 0 was at CPL 3 and at CPL 0, as `show --cpl` says.
  Query at3;
  at3.run = "r";
  at3.filter.cpl = 3;
  at3.filter.add_kind(kTrap);
  EXPECT_EQ(labs::measure(at3, ev).value.value_or(-1), 5);
  at3.filter.cpl = 0;
  EXPECT_EQ(labs::measure(at3, ev).value.value_or(-1), 5);
  // port: not a trap's (whose port field is 0).
  Query port0;
  port0.run = "r";
  port0.filter.port = 0;
  EXPECT_EQ(labs::measure(port0, ev).value.value_or(-1), 0);
}

// Lab 1 asks for the vector of the student's system calls. A program that
// crashed inside the phase (a #PF from ring 3) still made its system calls
// first: the right answer passes, graded on the calls, not on the crash
// (the crash itself is reported by `lab check` as the run's problem).
TEST(LabChecker, LabOnesVectorIsTheSystemCallsEvenWhenTheProgramCrashed) {
  auto lab = load_lab(fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "01-rings");
  ASSERT_TRUE(lab.ok()) << lab.error().message;
  const Check* vector = nullptr;
  for (const auto& c : lab.value().checks)
    if (c.id == "vector") vector = &c;
  ASSERT_NE(vector, nullptr);
  Event pf = trap(14, 3, 0);
  pf.cause = TrapCause::Exception;
  std::vector<Event> crashed = {marker("lab1: getpid", MarkerPhase::Begin), trap(64, 3, 0), trap(64, 3, 0), pf};
  RunEvents runs{{"mine", &crashed}};
  CheckResult r = evaluate(*vector, runs, {{"vector", 64}});
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_FALSE(evaluate(*vector, runs, {{"vector", 14}}).passed) << "the #PF is not the system call's vector";
}

TEST(LabChecker, SpanOfAPhaseOrOfTheMatchingEvents) {
  auto measure = [](const Query& query, const std::vector<Event>& events) {
    return labs::measure(query, events).value.value_or(-1);
  };
  auto ev = sample();
  for (size_t i = 0; i < ev.size(); ++i) ev[i].time_ns = 1000 + 100 * i;  // markers at 1200 and 1800
  Query phase;
  phase.run = "r";
  phase.measure = "span_ns";
  phase.between = "work";
  EXPECT_EQ(measure(phase, ev), 600) << "a whole phase: begin marker to end marker";
  Query traps = q(kTrap, "work");
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
  c.query = q(kTrap, "work");
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
  const Check check = answer_check("n");  // a CheckResult points at its Check: keep it alive
  CheckResult norun = evaluate(check, RunEvents{}, {{"n", 3}});
  EXPECT_EQ(norun.check->id, "n");
  EXPECT_FALSE(norun.passed);
  EXPECT_NE(norun.detail.find("did not happen"), std::string::npos);
}

// Feedback reads the way the student writes: ports in hex, times with units.
TEST(LabChecker, FeedbackShowsPortsInHexAndTimesWithUnits) {
  auto ev = sample();
  for (size_t i = 0; i < ev.size(); ++i) ev[i].time_ns = 1000 + 100 * i;
  RunEvents runs{{"r", &ev}};
  Check port;
  port.query = q(kExit, "work");
  port.query.filter.direction = Direction::In;
  port.query.measure = "last_port";
  port.expect.answer = "status_port";
  CheckResult wrong = evaluate(port, runs, {{"status_port", 1016}});
  EXPECT_FALSE(wrong.passed);
  EXPECT_NE(wrong.detail.find("your answer status_port: 0x3f8 is not"), std::string::npos) << wrong.detail;
  EXPECT_EQ(wrong.detail.find("0x3fd"), std::string::npos) << "the right port is not given away: " << wrong.detail;
  EXPECT_TRUE(evaluate(port, runs, {{"status_port", 0x3fd}}).passed);
  Check span;
  span.query.run = "r";
  span.query.between = "work";
  span.query.measure = "span_ns";
  span.expect.at_least = 50e6;
  CheckResult slow = evaluate(span, runs, {});
  EXPECT_NE(slow.detail.find("measured 600 ns; expected at least 50.00 ms"), std::string::npos) << slow.detail;
}

TEST(LabChecker, DivisionByAQueryOrANumber) {
  auto ev = sample();
  RunEvents runs{{"r", &ev}};
  Check c;
  c.query = q(kExit, "work");      // 2
  c.divide_by = q(kTrap, "work");  // 3
  c.divide_by_number = 2;
  c.expect.equals = 2.0 / 3 / 2;
  CheckResult r = evaluate(c, runs, {});
  EXPECT_TRUE(r.passed) << r.detail;
  c.divide_by = q(kTrap, "nowhere");
  EXPECT_FALSE(evaluate(c, runs, {}).passed) << "dividing by nothing fails, it does not crash";
  Check bounds;
  bounds.query = q(kTrap);
  bounds.expect.at_least = 5;
  bounds.expect.at_most = 5;
  EXPECT_TRUE(evaluate(bounds, runs, {}).passed);
  bounds.expect.at_least = 6;
  EXPECT_FALSE(evaluate(bounds, runs, {}).passed);
}

TEST(LabChecker, AnswersFileFormat) {
  Answers a = parse_answers("# comment\nvector: 0x40\n\n  ratio :  2.5  # why\n");
  EXPECT_TRUE(a.problems.empty()) << a.problems.front();
  EXPECT_EQ(a.values.at("vector"), 64);
  EXPECT_EQ(a.values.at("ratio"), 2.5);
}

// One bad line is named and the others still count.
TEST(LabChecker, EveryAnswersLineIsJudgedOnItsOwn) {
  Answers a = parse_answers(
      "vector: 64\n"  // 1 good
      "ratio 2\n"     // 2 no colon
      "n: many\n"     // 3 not a number
      "k: 3\n"        // 4 good, then given again
      ": 5\n"         // 5 no key
      "k: 3\n"        // 6 duplicate: neither counts
      "empty:\n"      // 7 no value
      "big: 1e999\n"  // 8 out of range
      "hex: 0x\n"     // 9 hex without digits
      "stray: 1\n",   // 10 not a question of this lab
      {"vector", "ratio", "n", "k", "empty", "big", "hex"});
  EXPECT_EQ(a.values.size(), 1u);
  EXPECT_EQ(a.values.at("vector"), 64) << "the good line still counts";
  EXPECT_FALSE(a.values.count("k")) << "a key given twice counts neither time";
  EXPECT_EQ(a.rejected, (std::set<std::string>{"n", "k", "empty", "big", "hex"}));
  const char* expected[] = {"line 2: \"ratio 2\" has no colon",
                            "line 3: \"many\" is not a number",
                            "line 5: no key",
                            "line 6: \"k\" was already answered on line 4",
                            "line 7: no answer after \"empty:\"",
                            "line 8: \"1e999\" is not a number",
                            "line 9: \"0x\" is not a number",
                            "line 10: this lab asks no question \"stray\""};
  ASSERT_EQ(a.problems.size(), std::size(expected));
  for (size_t i = 0; i < a.problems.size(); ++i)
    EXPECT_NE(a.problems[i].find(expected[i]), std::string::npos) << a.problems[i];
}

// The grader measures every query in one pass over each run's events, with
// a meter per query, and gives what evaluate() gives.
TEST(LabChecker, GraderStreamsEachRunOnce) {
  Lab lab;
  lab.answers = {"n"};
  Check calls;
  calls.id = "calls";
  calls.query = q(kTrap, "work");
  calls.expect.equals = 3;
  Check per;
  per.id = "per";
  per.query = q(kExit, "work");
  per.query.run = "other";
  per.divide_by = q(kTrap, "work");
  per.expect.answer = "n";
  Check missing;
  missing.id = "missing";
  missing.query = q(kTrap, "gone");
  missing.expect.equals = 0;
  lab.checks = {calls, per, missing};
  Grader g(lab);
  auto ev = sample();
  for (const auto& e : ev) g.feed("r", e);
  for (const auto& e : ev) g.feed("other", e);
  g.run_done("r");
  g.run_done("other");
  auto res = g.results({{"n", 2.0 / 3}});
  ASSERT_EQ(res.size(), 3u);
  EXPECT_TRUE(res[0].passed) << res[0].detail;
  EXPECT_TRUE(res[1].passed) << res[1].detail;
  EXPECT_FALSE(res[2].passed) << "a phase missing from the trace fails even `equals: 0`";
  EXPECT_NE(res[2].detail.find("\"gone\" is not in"), std::string::npos) << res[2].detail;
  Grader only_r(lab);
  only_r.run_done("r");
  auto partial = only_r.results({});
  EXPECT_NE(partial[1].detail.find("run \"other\" did not happen"), std::string::npos) << partial[1].detail;
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
  EXPECT_EQ(ok.value().runs[0].mode, Mode::Emulation);

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
      // Values no event can have, and labels no run emits: refused at load.
      {run, R"({"say": "s", "query": {"run": "r", "reason": 99}, "expect": {"equals": 0}})", "",
       "not a VT-x basic exit reason"},
      {run, R"({"say": "s", "query": {"run": "r", "port": 70000}, "expect": {"equals": 0}})", "", "above 0xffff"},
      {run, R"({"say": "s", "query": {"run": "r", "vector": 256}, "expect": {"equals": 0}})", "", "above 255"},
      {run, R"({"say": "s", "query": {"run": "r", "to_cpl": 4}, "expect": {"equals": 0}})", "",
       "a CPL is 0, 1, 2 or 3"},
      {run, R"({"say": "s", "query": {"run": "r", "kind": "trap", "between": "helo"}, "expect": {"equals": 0}})", "",
       "run \"r\" never has a phase \"helo\"; its phases are \"boot\", \"hello\""},
      {R"({"id": "r", "program": ["a.c"], "program_name": "a", "markers": ["a: work"]})",
       R"({"say": "s", "query": {"run": "r", "kind": "trap", "between": "a: wrok"}, "expect": {"equals": 0}})", "",
       "never has a phase \"a: wrok\"; its phases are \"boot\", \"run a\", \"a: work\""},
      // A port or register on events that never carry one, names that do not exist.
      {run, R"({"say": "s", "query": {"run": "r", "kind": "trap", "port": 1016}, "expect": {"equals": 0}})", "",
       "only vm_exit (I/O instructions), device (unclaimed accesses) and bt_callout (in, out) events carry "
       "a port"},
      {run,
       R"({"say": "s", "query": {"run": "r", "kind": "vm_exit", "reason": 12, "port": 1016}, "expect": {"equals": 0}})",
       "", "an exit with reason 12 carries no port"},
      {run,
       R"({"say": "s", "query": {"run": "r", "kind": ["marker", "trap"], "register": "THR"}, "expect": {"equals": 0}})",
       "", "only device, vm_exit and bt_callout events carry a register"},
      {run, R"({"say": "s", "query": {"run": "r", "kind": "vm_exit", "register": "CR3"}, "expect": {"equals": 0}})", "",
       "a vm_exit never names the register \"CR3\""},
      {run, R"({"say": "s", "query": {"run": "r", "kind": "vm_exit", "direction": "OUT"}, "expect": {"equals": 0}})",
       "", "no direction \"OUT\""},
      {run, R"({"say": "s", "query": {"run": "r", "kind": "trap", "cause": "sysenter"}, "expect": {"equals": 0}})", "",
       "no trap cause \"sysenter\""},
      {R"({"id": "r", "scenario": "hello", "markers": ["x"]})", check, "", "only a program run declares markers"},
      {R"({"id": "r", "scenario": "tick", "params": {"tiks": "5"}})", check, "", "scenario tick has no param \"tiks\""},
      {R"({"id": "r", "scenario": "no-such-scenario"})", check, "", "no-such-scenario"},
  };
  for (const auto& b : bad) {
    auto r = lab(b.runs, b.checks, b.extra);
    ASSERT_FALSE(r.ok()) << b.says;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("lab.json"), std::string::npos) << "names the file: " << r.error().message;
  }
  // A scenario's labels follow its params: tick with ticks=5 has "tick: 5 timer interrupts".
  auto tick = lab(
      R"({"id": "r", "scenario": "tick", "params": {"ticks": "5"}})",
      R"({"say": "s", "query": {"run": "r", "kind": "trap", "between": "tick: 5 timer interrupts"}, "expect": {"equals": 5}})");
  EXPECT_TRUE(tick.ok()) << tick.error().message;
  auto program =
      lab(R"({"id": "r", "program": ["a.c"], "program_name": "a", "markers": ["a: work"]})",
          R"({"say": "s", "query": {"run": "r", "kind": "trap", "between": "a: work"}, "expect": {"equals": 5}})");
  EXPECT_TRUE(program.ok()) << program.error().message;
  // What can match is kept: a port on any exit or device event (an
  // unclaimed port too), a device's own register name, an exit's register.
  for (const char* q : {R"({"run": "r", "port": 128})", R"({"run": "r", "kind": "device", "port": 128})",
                        R"({"run": "r", "kind": "vm_exit", "reason": 30, "port": 1016, "direction": "out"})",
                        R"({"run": "r", "kind": "device", "device": "uart", "register": "THR"})",
                        R"({"run": "r", "kind": ["vm_exit", "device"], "register": "QueueNotify"})",
                        R"({"run": "r", "kind": "vm_exit", "reason": 0, "register": "pte"})"}) {
    auto good = lab(run, std::string(R"({"say": "s", "query": )") + q + R"(, "expect": {"at_least": 0}})");
    EXPECT_TRUE(good.ok()) << q << ": " << good.error().message;
  }
  auto garbage = load_lab(write_lab("{ not json"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("not valid JSON"), std::string::npos);
}

// lab.json, the handout and answers are read as capped regular files: a
// FIFO or a device in their place is an error, not a hang or bad_alloc.
TEST(LabChecker, InputsAreRegularFilesOnly) {
  fs::path dir = write_lab("{}");
  fs::remove(dir / "lab.json");
  ASSERT_EQ(mkfifo((dir / "lab.json").c_str(), 0600), 0);
  auto fifo = load_lab(dir);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("lab.json"), std::string::npos) << fifo.error().message;
  fs::remove(dir / "lab.json");
  fs::copy_file(fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "01-rings" / "lab.json", dir / "lab.json");
  fs::create_symlink("/dev/zero", dir / "handout.md");
  auto problems = validate_lab(dir, fs::path("/dev/zero"));
  ASSERT_EQ(problems.size(), 2u) << "the handout and the answers, each named";
  EXPECT_NE(problems[0].find("handout"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("answers.txt"), std::string::npos) << problems[1];
  fs::remove_all(dir);
}

// `lab validate`: schema, labels, handouts (the Korean one if there is one),
// and a reference answers file's shape.
TEST(LabChecker, ValidateALabWithoutRunningIt) {
  const fs::path src = fs::path(RINGSCOPE_LABS_SOURCE_DIR) / "01-rings";
  fs::path dir = write_lab("{}");
  fs::copy_file(src / "lab.json", dir / "lab.json", fs::copy_options::overwrite_existing);
  auto problems = validate_lab(dir);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("handout.md"), std::string::npos) << problems[0];
  fs::copy_file(src / "handout.md", dir / "handout.md");
  EXPECT_TRUE(validate_lab(dir).empty()) << "a Korean handout is optional for an instructor's lab";
  std::ofstream(dir / "handout.ko.md") << "  \n";
  problems = validate_lab(dir);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("handout.ko.md: the handout is empty"), std::string::npos) << problems[0];
  fs::remove(dir / "handout.ko.md");
  fs::create_symlink("/dev/zero", dir / "handout.ko.md");
  problems = validate_lab(dir);
  ASSERT_EQ(problems.size(), 1u) << "a device in its place is refused, not read";
  EXPECT_NE(problems[0].find("Korean handout"), std::string::npos) << problems[0];
  fs::remove(dir / "handout.ko.md");
  fs::copy_file(src / "handout.ko.md", dir / "handout.ko.md");
  EXPECT_TRUE(validate_lab(dir).empty());
  std::ofstream(dir / "answers.txt") << "vector: 0x40\nvector: 64\nexits_in_phase: one\n";
  problems = validate_lab(dir, dir / "answers.txt");
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("line 2: \"vector\" was already answered"), std::string::npos) << all;
  EXPECT_NE(all.find("line 3: \"one\" is not a number"), std::string::npos) << all;
  EXPECT_NE(all.find("no answer \"transitions_per_call\""), std::string::npos) << all;
  EXPECT_EQ(problems.size(), 3u) << all;
  fs::remove_all(dir);
}

TEST(LabChecker, EveryLabInTheTreeLoads) {
  auto labs = load_labs(RINGSCOPE_LABS_SOURCE_DIR);
  ASSERT_TRUE(labs.ok()) << labs.error().message;
  ASSERT_GE(labs.value().size(), 3u);
  for (size_t i = 0; i < labs.value().size(); ++i) {
    const Lab& l = labs.value()[i];
    EXPECT_EQ(l.number, static_cast<int>(i) + 1) << "labs are numbered 1, 2, 3, ...";
    EXPECT_TRUE(fs::exists(l.dir / "handout.md")) << l.dir;
    // Valid as a whole, with its reference answers (tests/labs/solutions/NN).
    const fs::path answers = fs::path(RINGSCOPE_LAB_SOLUTIONS) / fmt::format("{:02}", l.number) / "answers.txt";
    std::optional<fs::path> given;
    if (!l.answers.empty()) given = answers;
    for (const auto& p : validate_lab(l.dir, given)) ADD_FAILURE() << p;
  }
}

}  // namespace
}  // namespace ringscope::labs
