// cli_verbs_test.cpp — run the built `ringscope` binary on a trace written
// with TraceWriter: show's filters and JSON keys, stats, export, scenarios,
// --help, and the exit codes scripts rely on (README.md "The command").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ringscope/trace.h"
#include "test_events.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int rc = -1;
  std::string out, err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class CliVerbs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringscope-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    trace_ = (dir_ / "hello.rtrace").string();
    write_trace(trace_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);  // keep the evidence of a failure
  }

  // 12 events: a phase with UART output exits, a syscall round trip, a page
  // fault, stats counters, console output and the run's end. Flushed after
  // each event so every event sits in its own chunk, and a cut file keeps
  // all but the last.
  static void write_trace(const std::string& path) {
    TraceHeader h;
    h.scenario = "hello";
    h.mode = "full-virt";
    h.level = "exits";
    h.kvm_flavour = "PVM";
    h.start_mono_ns = 1'000'000;
    auto w = TraceWriter::create(path, h);
    ASSERT_TRUE(w.ok()) << w.error().message;
    test::TraceBuilder b;
    b.marker(MarkerPhase::Begin, "say hi");
    b.io_exit(0x3f8, Direction::Out, 'h', 4200);
    b.io_exit(0x3fd, Direction::In, 0x60, 3000);
    b.io_exit(0x3f8, Direction::Out, 'i', 4100);
    b.marker(MarkerPhase::End, "say hi");
    b.trap(TrapCause::Syscall, 0, 3, 0);
    b.trap_return(TrapCause::Sysret, 0, 3);
    b.trap(TrapCause::Exception, 14, 3, 0);
    b.exit(exit_reason::kHlt, 9000);
    b.counter("insn_emulation", 1234);
    b.output("hi\n");
    Event end;
    end.kind = EventKind::RunEnd;
    end.end_reason = RunEndReason::GuestExit;
    b.add(end);
    for (Event e : b.trace().events) {
      (*w)->emit(e);
      ASSERT_TRUE((*w)->flush().ok());
    }
    ASSERT_TRUE((*w)->close().ok());
  }

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

TEST_F(CliVerbs, ShowPrintsOneLinePerEventAndASummaryOnStderr) {
  Outcome r = ringscope("show " + trace_);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 12u) << r.out;
  EXPECT_THAT(lines[1], HasSubstr("#1"));
  EXPECT_THAT(lines[1], HasSubstr("vcpu0"));
  EXPECT_THAT(lines[1], HasSubstr("io_instruction  out 0x3f8 size 1 value 0x68 'h'"));
  EXPECT_THAT(lines[1], HasSubstr("4.2 µs (vmm)"));
  EXPECT_THAT(r.err, HasSubstr("12 of 12 events"));
  EXPECT_THAT(r.out, Not(HasSubstr("events shown")));
}

TEST_F(CliVerbs, ShowFiltersByKindAndReason) {
  Outcome traps = ringscope("show " + trace_ + " --kind trap");
  ASSERT_EQ(traps.rc, 0) << traps.err;
  EXPECT_EQ(traps.lines().size(), 2u);
  Outcome both = ringscope("show " + trace_ + " --kind trap,trap_return --kind marker");
  EXPECT_EQ(both.lines().size(), 5u) << both.err;
  Outcome by_name = ringscope("show " + trace_ + " --reason io_instruction");
  Outcome by_number = ringscope("show " + trace_ + " --reason 30");
  EXPECT_EQ(by_name.lines().size(), 3u) << by_name.err;
  EXPECT_EQ(by_name.out, by_number.out);
  Outcome ring3 = ringscope("show " + trace_ + " --cpl 3");
  EXPECT_EQ(ring3.lines().size(), 3u);  // the two traps and the sysret
}

TEST_F(CliVerbs, ShowRangeLimitAndGrep) {
  EXPECT_EQ(ringscope("show " + trace_ + " --from 2 --to 4").lines().size(), 3u);
  Outcome limited = ringscope("show " + trace_ + " --limit 2");
  EXPECT_EQ(limited.lines().size(), 2u);
  EXPECT_THAT(limited.err, HasSubstr("--limit 2"));
  Outcome grep = ringscope("show " + trace_ + " --grep 'PAGE FAULT'");
  ASSERT_EQ(grep.lines().size(), 1u);
  EXPECT_THAT(grep.out, HasSubstr("#PF"));
}

TEST_F(CliVerbs, ShowJsonUsesTheDesignKeyNames) {
  Outcome r = ringscope("show " + trace_ + " --json --kind vm_exit --explain");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 4u);
  auto j = nlohmann::json::parse(lines[0]);
  for (const char* key : {"seq", "time_ns", "vcpu", "kind", "source", "reason", "reason_name", "port", "value",
                          "duration_ns", "explanation"})
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << lines[0];
  EXPECT_EQ(j["kind"], "vm_exit");
  EXPECT_EQ(j["reason"], 30);
  EXPECT_EQ(j["reason_name"], "io_instruction");
  EXPECT_EQ(j["port"], 0x3f8);
  EXPECT_THAT(j["explanation"].get<std::string>(), HasSubstr("UART THR"));
}

TEST_F(CliVerbs, ShowExplainAddsASentencePerEvent) {
  Outcome r = ringscope("show " + trace_ + " --kind trap --explain");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("LSTAR"));
  EXPECT_THAT(r.out, HasSubstr("ring 3 (user)"));
}

TEST_F(CliVerbs, ShowUsageErrorsExit64) {
  Outcome kind = ringscope("show " + trace_ + " --kind nonsense");
  EXPECT_EQ(kind.rc, 64);
  EXPECT_THAT(kind.err, HasSubstr("ringscope show: unknown event kind 'nonsense'"));
  EXPECT_THAT(kind.err, HasSubstr("vm_exit"));
  EXPECT_EQ(ringscope("show " + trace_ + " --reason no_such_reason").rc, 64);
  EXPECT_EQ(ringscope("show " + trace_ + " --no-such-flag").rc, 64);
  EXPECT_EQ(ringscope("show").rc, 64);
  EXPECT_EQ(ringscope("show " + trace_ + " --cpl 7").rc, 64);
}

TEST_F(CliVerbs, MissingFileExits66AndSaysWhatToDo) {
  for (const char* verb : {"show", "stats"}) {
    Outcome r = ringscope(std::string(verb) + " " + (dir_ / "nope.rtrace").string());
    EXPECT_EQ(r.rc, 66) << verb;
    EXPECT_THAT(r.err, HasSubstr(std::string("ringscope ") + verb + ":"));
    EXPECT_THAT(r.err, HasSubstr("ringscope run"));
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(ringscope("export " + (dir_ / "nope.rtrace").string() + " -o " + (dir_ / "x.json").string()).rc, 66);
}

TEST_F(CliVerbs, GarbageFileExits65) {
  fs::path bad = dir_ / "bad.rtrace";
  std::ofstream(bad) << "this is not a trace, just some text that is long enough to look like a header\n";
  Outcome r = ringscope("show " + bad.string());
  EXPECT_EQ(r.rc, 65) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ringscope show:"));
}

TEST_F(CliVerbs, CutFileWarnsAndShowsWhatIsReadable) {
  // Cut the file at two thirds: the chunks before the cut must survive.
  auto size = fs::file_size(trace_);
  fs::resize_file(trace_, size * 2 / 3);
  Outcome r = ringscope("show " + trace_);
  if (r.rc == 65) GTEST_SKIP() << "reader rejected the cut file: " << r.err;
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ringscope show: warning:"));
  EXPECT_GE(r.lines().size(), 1u);
  EXPECT_LT(r.lines().size(), 12u);
  EXPECT_THAT(r.err, HasSubstr("the trace is incomplete"));
  Outcome s = ringscope("stats " + trace_);
  EXPECT_EQ(s.rc, 0);
  EXPECT_THAT(s.err, HasSubstr("ringscope stats: warning:"));
  EXPECT_THAT(s.out, HasSubstr("incomplete"));
}

TEST_F(CliVerbs, StatsPrintsReasonsTrapsAndPhases) {
  Outcome r = ringscope("stats " + trace_);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("scenario    hello  mode full-virt  level exits"));
  EXPECT_THAT(r.out, HasSubstr("io_instruction (30)"));
  EXPECT_THAT(r.out, HasSubstr("hlt (12)"));
  EXPECT_THAT(r.out, HasSubstr("#PF page fault"));
  EXPECT_THAT(r.out, HasSubstr("ring transitions: 3"));
  EXPECT_THAT(r.out, HasSubstr("say hi"));
  EXPECT_THAT(r.out, HasSubstr("insn_emulation"));
}

TEST_F(CliVerbs, StatsJsonIsOneObject) {
  Outcome r = ringscope("stats --json " + trace_);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["events"], 12);
  EXPECT_EQ(j["vm_exits"], 4);
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["header"]["mode"], "full-virt");
  ASSERT_EQ(j["phases"].size(), 1u);
  EXPECT_EQ(j["phases"][0]["label"], "say hi");
  EXPECT_EQ(j["phases"][0]["vm_exits"], 3);
  EXPECT_EQ(j["ring_transitions"]["total"], 3);
}

TEST_F(CliVerbs, ExportChromeWritesValidJson) {
  fs::path out = dir_ / "hello.json";
  Outcome r = ringscope("export " + trace_ + " --format chrome -o " + out.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(slurp(out));  // throws (and fails the test) if invalid
  EXPECT_TRUE(j.is_array() || j.contains("traceEvents"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CliVerbs, ExportUsageErrors) {
  EXPECT_EQ(ringscope("export " + trace_ + " --format svg -o x").rc, 64);
  EXPECT_EQ(ringscope("export " + trace_ + " --format chrome").rc, 64);  // no -o
}

TEST_F(CliVerbs, EveryVerbHasHelpWithAnExample) {
  for (const char* verb :
       {"run", "compare", "show", "stats", "export", "doctor", "scenarios", "demo", "view", "build"}) {
    Outcome r = ringscope(std::string(verb) + " --help");
    EXPECT_EQ(r.rc, 0) << verb;
    EXPECT_THAT(r.out, HasSubstr("Example")) << verb;
    EXPECT_THAT(r.out, HasSubstr(std::string("ringscope ") + verb)) << verb;
  }
}

TEST_F(CliVerbs, ScenariosListsOrSaysWhyNot) {
  Outcome r = ringscope("scenarios --json");
  if (r.rc == 66) {
    EXPECT_THAT(r.err, HasSubstr("RINGSCOPE_SCENARIOS_DIR"));
    return;
  }
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  for (const auto& s : j) {
    EXPECT_TRUE(s.contains("name"));
    EXPECT_TRUE(s["kvm"].is_boolean());
    EXPECT_EQ(s["kvm"].get<bool>(), s["kvm_refusal"].get<std::string>().empty());
  }
}

// Under emulation no VM exit happens: the run summary must not count "VM
// exits that reached the VMM" nor call executed instructions single-stepped.
TEST_F(CliVerbs, EmulationSummaryCallsItsExitsTheModels) {
  const std::string trace = (dir_ / "emu.rtrace").string();
  Outcome r = ringscope("run hello --mode emulation --level full --trace '" + trace + "'");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string all = r.out + r.err;
  EXPECT_THAT(all, HasSubstr("no VM exits (emulation: the exits below are the VT-x model's)"));
  EXPECT_THAT(all, HasSubstr("instructions executed"));
  EXPECT_THAT(all, Not(HasSubstr("reached the VMM")));
  EXPECT_THAT(all, Not(HasSubstr("single-stepped")));
}

// `run --vcpus`: what cannot be given is refused with a sentence that says
// what to use instead, before anything runs (no /dev/kvm needed).
TEST_F(CliVerbs, RunRefusesVcpusItCannotGive) {
  Outcome vmm = ringscope("run smp-hello --irqchip vmm --quiet --trace " + (dir_ / "v.rtrace").string());
  EXPECT_EQ(vmm.rc, 64) << vmm.err;
  EXPECT_THAT(vmm.err, HasSubstr("use --irqchip kernel"));
  Outcome range = ringscope("run hello --vcpus 9");
  EXPECT_EQ(range.rc, 64) << range.err;
  EXPECT_THAT(range.err, HasSubstr("--vcpus"));
}

// Emulation gives several vCPUs too, and says how it runs them; `stats`
// then has a row per vCPU, with the IPIs each sent and took.
TEST_F(CliVerbs, EmulationRunsSeveralVcpusInRoundRobinAndStatsShowsEach) {
  const std::string trace = (dir_ / "smp.rtrace").string();
  Outcome run = ringscope("run ipi --mode emulation --vcpus 2 --trace '" + trace + "'");
  ASSERT_EQ(run.rc, 0) << run.err;
  EXPECT_THAT(run.out + run.err, HasSubstr("deterministic round-robin"));
  EXPECT_THAT(run.out, HasSubstr("ipi: cpu0 woke on cpu1's reply"));
  Outcome st = ringscope("stats '" + trace + "'");
  ASSERT_EQ(st.rc, 0) << st.err;
  EXPECT_THAT(st.out, HasSubstr("per vCPU"));
  EXPECT_THAT(st.out, HasSubstr("vcpu1"));
  Outcome js = ringscope("stats --json '" + trace + "'");
  ASSERT_EQ(js.rc, 0) << js.err;
  auto j = nlohmann::json::parse(js.out);
  ASSERT_EQ(j["vcpus"].size(), 2u);
  uint64_t taken = 0;
  for (const auto& v : j["vcpus"]) taken += v["ipis_taken"].get<uint64_t>();
  EXPECT_GE(taken, 3u) << "a STARTUP and two fixed IPIs at least";
}

}  // namespace
}  // namespace ringscope
