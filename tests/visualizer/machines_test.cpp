// machines_test.cpp — the viewer's process manager without a window: child
// processes and their pipes and statuses, the New VM dialog's command line,
// the 120-sample histories, and whole VMs started from the real ringscope
// binary (in emulation, so the test runs with and without KVM).
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cerrno>
#include <csignal>
#include <filesystem>

#include "machines/child_process.h"
#include "machines/machine_manager.h"
#include "machines/sample_history.h"
#include "machines/vm_spec.h"

namespace ringscope::machines {
namespace {

// Polls until the child has ended, reading its output; bounded by a count.
void wait_ended(ChildProcess& c, std::string& out) {
  for (int i = 0; i < 2'000'000 && c.running(); ++i) {
    c.read_output(out);
    c.poll();
    if (c.running()) usleep(200);
  }
  c.read_output(out);
}

TEST(ChildProcess, ReadsStdoutAndStderrAndReportsTheExitStatus) {
  ChildProcess c;
  ASSERT_TRUE(c.start({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}).ok());
  EXPECT_TRUE(c.running());
  std::string out;
  wait_ended(c, out);
  ASSERT_TRUE(c.status().has_value());
  EXPECT_FALSE(c.status()->signalled);
  EXPECT_EQ(c.status()->code, 3);
  EXPECT_EQ(c.status()->describe(), "exited with status 3");
  EXPECT_NE(out.find("out\n"), std::string::npos) << out;
  EXPECT_NE(out.find("err\n"), std::string::npos) << out;
  // Reaped: no zombie is left behind.
  EXPECT_EQ(waitpid(c.pid(), nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcess, ACrashIsReportedAsTheSignalThatKilledIt) {
  ChildProcess c;
  ASSERT_TRUE(c.start({"/bin/sh", "-c", "kill -SEGV $$"}).ok());
  std::string out;
  wait_ended(c, out);
  ASSERT_TRUE(c.status().has_value());
  EXPECT_TRUE(c.status()->signalled);
  EXPECT_EQ(c.status()->code, SIGSEGV);
  EXPECT_NE(c.status()->describe().find("killed by signal 11"), std::string::npos) << c.status()->describe();
}

TEST(ChildProcess, ReadingNeverBlocksAndKillReaps) {
  ChildProcess c;
  ASSERT_TRUE(c.start({"/bin/sh", "-c", "echo ready; exec sleep 1000"}).ok());
  std::string out;
  for (int i = 0; i < 2'000'000 && out.empty(); ++i) c.read_output(out);
  EXPECT_EQ(out, "ready\n");
  EXPECT_EQ(c.read_output(out), 0u);  // nothing more: returns at once
  EXPECT_TRUE(c.signal(SIGKILL));
  wait_ended(c, out);
  ASSERT_TRUE(c.status().has_value());
  EXPECT_EQ(c.status()->describe().rfind("killed by signal 9", 0), 0u) << c.status()->describe();
  EXPECT_FALSE(c.signal(SIGKILL));  // not running any more
}

TEST(ChildProcess, TheEnvironmentIsInheritedWithOverrides) {
  ChildProcess c;
  ASSERT_TRUE(c.start({"/bin/sh", "-c", "echo \"$RS_TEST_A:$HOME\""}, {"RS_TEST_A=yes", "HOME=/nowhere"}).ok());
  std::string out;
  wait_ended(c, out);
  EXPECT_EQ(out, "yes:/nowhere\n");
}

TEST(ChildProcess, AMissingProgramIsAnErrorNotACrash) {
  ChildProcess c;
  auto st = c.start({"/nonexistent/ringscope", "run"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot start /nonexistent/ringscope"), std::string::npos) << st.error().message;
  EXPECT_FALSE(c.started());
}

TEST(ChildProcess, TheDestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    ChildProcess c;
    ASSERT_TRUE(c.start({"/bin/sleep", "1000"}).ok());
    pid = c.pid();
  }
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(SelfExe, IsThisTestBinary) {
  EXPECT_NE(self_exe().find("viewer_machines_tests"), std::string::npos) << self_exe();
}

TEST(VmSpec, BecomesTheRunCommandLine) {
  VmSpec s;
  s.scenario = "syscalls";
  s.mode = "emulation";
  s.level = "full";
  s.irqchip = "vmm";
  s.ram_mib = 64;
  s.console_input = "hi there";
  s.params = "n=5  m=2";
  EXPECT_EQ(shell_line(run_argv(s, "/bin/ringscope", "/t/a.rtrace", "/t/a.qmp")),
            "/bin/ringscope run syscalls --mode emulation --level full --irqchip vmm --ram 64 --input-text "
            "'hi there' --param n=5 --param m=2 --trace /t/a.rtrace --qmp unix:/t/a.qmp --qmp-wait");
  s = VmSpec{};
  s.source = VmSource::Program;
  s.path = "/src/hello.c";
  EXPECT_TRUE(needs_build(s));
  EXPECT_EQ(shell_line(build_argv(s, "rs", "/t/hello.elf")), "rs build /src/hello.c -o /t/hello.elf");
  EXPECT_EQ(shell_line(run_argv(s, "rs", "t.rtrace", "", "/t/hello.elf")),
            "rs run --program /t/hello.elf --trace t.rtrace");
  EXPECT_EQ(display_name(s), "hello.c");
  s.source = VmSource::Image;
  s.path = "k.elf";
  EXPECT_EQ(shell_line(run_argv(s, "rs", "t.rtrace", "")), "rs run --image k.elf --trace t.rtrace");
  EXPECT_EQ(shell_line({"a", "it's"}), "a 'it'\\''s'");
}

TEST(VmSpec, BadAnswersGetASentence) {
  VmSpec s;
  s.scenario = "";
  EXPECT_EQ(validate(s), "Choose a scenario.");
  s = VmSpec{};
  s.source = VmSource::Program;
  EXPECT_NE(validate(s).find("user program's path"), std::string::npos);
  s.path = "/etc/hostname.txt";
  EXPECT_NE(validate(s).find("a .c source or a .elf"), std::string::npos);
  s.path = "/nonexistent/x.elf";
  EXPECT_NE(validate(s).find("no such file"), std::string::npos);
  s = VmSpec{};
  s.ram_mib = 1;
  EXPECT_NE(validate(s).find("RAM"), std::string::npos);
  EXPECT_EQ(validate(VmSpec{}), "");
}

TEST(VmSpec, ParsesTheNewVmOption) {
  VmSpec s;
  std::string err;
  ASSERT_TRUE(parse_vm_spec("syscalls,mode=emulation,level=full,param=n=5,param=m=1,paused,ram=64", s, err)) << err;
  EXPECT_EQ(s.scenario, "syscalls");
  EXPECT_EQ(s.mode, "emulation");
  EXPECT_EQ(s.level, "full");
  EXPECT_EQ(s.params, "n=5 m=1");
  EXPECT_TRUE(s.start_paused);
  EXPECT_EQ(s.ram_mib, 64);
  EXPECT_FALSE(parse_vm_spec("syscalls,colour=blue", s, err));
  EXPECT_NE(err.find("'colour=blue' is not SCENARIO"), std::string::npos) << err;
  EXPECT_FALSE(parse_vm_spec("program=/nonexistent/p.elf", s, err));
  EXPECT_NE(err.find("no such file"), std::string::npos) << err;
  EXPECT_EQ(s.scenario, "syscalls");  // unchanged by a refused spec
}

TEST(SampleHistory, KeepsTheNewest120OldestFirst) {
  SampleHistory h;
  EXPECT_EQ(h.size(), 0u);
  for (int i = 0; i < 130; ++i) h.push(static_cast<float>(i));
  ASSERT_EQ(h.size(), kHistorySamples);
  EXPECT_EQ(kHistorySamples, 120u);
  EXPECT_EQ(h[0], 10.0f);
  EXPECT_EQ(h.last(), 129.0f);
  EXPECT_EQ(h.max(), 129.0f);
}

// ---- whole VMs, started from the ringscope binary -------------------------------

struct Manager : ::testing::Test {
  std::filesystem::path dir;
  std::unique_ptr<MachineManager> mm;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("rs-machines-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    mm = std::make_unique<MachineManager>(RINGSCOPE_BIN, dir.string());
    mm->sample_period = std::chrono::milliseconds(0);  // a sample every poll
  }
  void TearDown() override {
    mm.reset();
    std::filesystem::remove_all(dir);
  }
  void poll_until_shut_off(int id) {
    for (int i = 0; i < 400'000 && mm->find(id)->state != VmState::ShutOff; ++i) {
      mm->poll();
      usleep(500);
    }
  }
};

TEST_F(Manager, RunsAVmAsAChildProcessToItsEnd) {
  VmSpec s;
  s.scenario = "hello";
  s.mode = "emulation";
  auto id = mm->create(s);
  ASSERT_TRUE(id.ok()) << id.error().message;
  Machine& m = *mm->find(*id);
  EXPECT_EQ(m.state, VmState::ShutOff);
  EXPECT_EQ(m.name, "hello");
  ASSERT_TRUE(mm->run(*id)) << m.problem;
  EXPECT_TRUE(m.state == VmState::Running || m.state == VmState::Starting) << state_label(m.state);
  EXPECT_TRUE(m.alive());
  EXPECT_FALSE(mm->run(*id));  // already running
  EXPECT_NE(m.problem.find("Run starts a VM that is shut off"), std::string::npos) << m.problem;
  poll_until_shut_off(*id);
  ASSERT_EQ(m.state, VmState::ShutOff);
  ASSERT_TRUE(m.exit.has_value());
  EXPECT_EQ(m.exit->describe(), "exited with status 0") << m.console;
  EXPECT_NE(m.console.find("Hello"), std::string::npos) << m.console;  // the guest's console, through the pipe
  EXPECT_NE(m.console.find("[exited with status 0]"), std::string::npos) << m.console;
  EXPECT_TRUE(std::filesystem::exists(m.trace_path));
  // A second VM of the same scenario gets its own name, trace and socket.
  auto id2 = mm->create(s);
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(mm->find(*id2)->name, "hello #2");
  EXPECT_NE(mm->find(*id2)->trace_path, m.trace_path);
  // Delete trace.
  EXPECT_TRUE(mm->delete_trace(*id));
  EXPECT_FALSE(std::filesystem::exists(m.trace_path));
}

TEST_F(Manager, AKilledVmIsReportedAndReaped) {
  VmSpec s;
  s.scenario = "syscalls";
  s.mode = "emulation";
  auto id = mm->create(s);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(mm->run(*id));
  const pid_t pid = mm->find(*id)->proc->pid();
  EXPECT_FALSE(mm->delete_trace(*id));  // not while it runs
  EXPECT_TRUE(mm->kill(*id));
  poll_until_shut_off(*id);
  Machine& m = *mm->find(*id);
  ASSERT_TRUE(m.exit.has_value());
  EXPECT_EQ(m.exit->describe().rfind("killed by signal 9", 0), 0u) << m.exit->describe();
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);  // no zombie
  EXPECT_FALSE(mm->kill(*id));
  EXPECT_NE(m.problem.find("is not running"), std::string::npos);
}

TEST_F(Manager, ACProgramIsBuiltThenRun) {
  const auto src = dir / "hi.c";
  {
    std::FILE* f = std::fopen(src.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("#include \"ringscope/user.h\"\nint main(void) { printf(\"hi from c\\n\"); return 0; }\n", f);
    std::fclose(f);
  }
  VmSpec s;
  s.source = VmSource::Program;
  s.path = src.string();
  s.mode = "emulation";
  auto id = mm->create(s);
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(mm->run(*id));
  EXPECT_EQ(mm->find(*id)->state, VmState::Building);
  poll_until_shut_off(*id);
  Machine& m = *mm->find(*id);
  EXPECT_NE(m.console.find(" build "), std::string::npos) << m.console;
  EXPECT_NE(m.console.find(" run --program "), std::string::npos) << m.console;
  EXPECT_NE(m.console.find("hi from c"), std::string::npos) << m.console;
  ASSERT_TRUE(m.exit.has_value());
  EXPECT_EQ(m.exit->code, 0) << m.console;
}

// The Breakpoints form's text becomes break-add's arguments, or a sentence.
TEST(BreakFilter, FromTheFormsTextOrASentence) {
  std::string why;
  auto f = break_filter("vm_exit", "", "0x3f8", "", &why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(*f, (nlohmann::json{{"kind", "vm_exit"}, {"port", 0x3f8}}));
  f = break_filter("", "io_instruction", "", "", &why);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["reason"], "io_instruction");
  f = break_filter("", "30", "", "14", &why);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["reason"], 30);
  EXPECT_EQ((*f)["vector"], 14);
  EXPECT_FALSE(break_filter("", "", "", "", &why));
  EXPECT_NE(why.find("needs a kind"), std::string::npos) << why;
  EXPECT_FALSE(break_filter("vmexit", "", "", "", &why));
  EXPECT_NE(why.find("not an event kind"), std::string::npos) << why;
  EXPECT_FALSE(break_filter("", "", "0x10000", "", &why));
  EXPECT_FALSE(break_filter("", "", "", "256", &why));
  EXPECT_FALSE(break_filter("", "no_such_reason", "", "", &why));
  EXPECT_EQ(describe_breakpoint({{"id", 2}, {"kind", "vm_exit"}, {"port", 0x3f8}}), "#2 vm_exit port 0x3f8");
}

// Breakpoints through the manager's QMP connection: add one on the probe
// port (every marker is an exit there), see the guest pause at it with a
// BREAK naming it, remove it; then Remove VM forgets a running VM (its
// trace stays) and a shut-off one with its trace.
TEST_F(Manager, BreakpointsPauseTheGuestAndRemoveVmForgetsIt) {
  VmSpec s;
  s.scenario = "syscalls";
  s.mode = "emulation";
  s.start_paused = true;
  auto id = mm->create(s);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(mm->run(*id));
  Machine* m = mm->find(*id);
  for (int i = 0; i < 100'000 && !(m->qmp && m->state == VmState::Paused) && m->alive(); ++i) {
    mm->poll();
    usleep(500);
  }
  ASSERT_TRUE(m->qmp) << m->problem << m->console;
  EXPECT_FALSE(mm->break_add(*id, nlohmann::json::object()));
  EXPECT_NE(m->problem.find("needs a kind"), std::string::npos) << m->problem;
  ASSERT_TRUE(mm->break_add(*id, {{"kind", "vm_exit"}, {"port", 0xf0}})) << m->problem;
  ASSERT_EQ(m->breakpoints.size(), 1u) << m->breakpoints.dump();
  EXPECT_EQ(m->breakpoints[0]["port"], 0xf0);
  const int64_t bp = m->breakpoints[0]["id"].get<int64_t>();
  ASSERT_TRUE(mm->run(*id)) << m->problem;  // cont
  for (int i = 0; i < 100'000 && m->breaks == 0 && m->alive(); ++i) {
    mm->poll();
    usleep(500);
  }
  ASSERT_EQ(m->breaks, 1u) << m->problem << m->console;
  EXPECT_EQ(m->last_break["reason"], "breakpoint");
  EXPECT_EQ(m->last_break["id"], bp);
  EXPECT_EQ(m->last_break["event"]["port"], 0xf0);
  EXPECT_EQ(m->state, VmState::Paused);
  ASSERT_TRUE(mm->break_remove(*id, bp)) << m->problem;
  EXPECT_TRUE(m->breakpoints.empty()) << m->breakpoints.dump();
  EXPECT_FALSE(mm->break_remove(*id, bp)) << "already gone";
  // Remove VM while it is paused: the process ends, the VM leaves the
  // list, the trace stays.
  const pid_t pid = m->proc->pid();
  const std::string trace = m->trace_path;
  ASSERT_TRUE(mm->remove(*id, false));
  EXPECT_EQ(mm->find(*id), nullptr);
  EXPECT_TRUE(mm->machines().empty());
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1) << "reaped";
  EXPECT_TRUE(std::filesystem::exists(trace));
  // A VM that is shut off, removed with its trace.
  VmSpec h;
  h.scenario = "hello";
  h.mode = "emulation";
  auto id2 = mm->create(h);
  ASSERT_TRUE(id2.ok());
  ASSERT_TRUE(mm->run(*id2));
  poll_until_shut_off(*id2);
  const std::string trace2 = mm->find(*id2)->trace_path;
  ASSERT_TRUE(std::filesystem::exists(trace2));
  ASSERT_TRUE(mm->remove(*id2, true));
  EXPECT_FALSE(std::filesystem::exists(trace2));
  EXPECT_FALSE(mm->remove(*id2, true)) << "no such VM any more";
}

TEST_F(Manager, BadSpecsAreRefusedWithTheirSentence) {
  VmSpec s;
  s.scenario = "";
  auto id = mm->create(s);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().message, "Choose a scenario.");
  EXPECT_TRUE(mm->machines().empty());
}

}  // namespace
}  // namespace ringscope::machines
