// machines_gl_test.cpp — the Machines panel driven as a person drives it:
// clicks on "New VM...", the dialog's "Create and run", the VM's buttons,
// frame by frame on a headless ImGui context, with real `ringscope run`
// children; then screenshots rendered by OpenGL under Xvfb that show the
// console text and the VM's marks on the timeline. And a child killed from
// outside: the viewer says how it ended and goes on drawing.
//
// CTest runs this binary under `xvfb-run -a`; without a display the
// screenshots skip, saying why (the clicks need none).
#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "platform/gl_app.h"
#include "platform/imgui_setup.h"
#include "ringscope/event.h"
#include "ringscope/host.h"
#include "ui/View.h"

namespace ringscope::viewer {
namespace {

namespace fs = std::filesystem;

struct MachinesUi : ::testing::Test {
  fs::path dir;
  HeadlessContext ctx{1600, 1000};
  View view;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rs-machines-ui-" + std::to_string(getpid()));
    fs::create_directories(dir);
    view.settings().animate = false;
    auto mm = std::make_unique<machines::MachineManager>(RINGSCOPE_BIN, dir.string());
    mm->sample_period = std::chrono::milliseconds(0);
    view.enable_machines(std::move(mm));
    frames(2);
  }
  void TearDown() override {
    // The view (and its VMs) go before the directory.
    fs::remove_all(dir);
  }
  void frames(int n) {
    for (int i = 0; i < n; ++i) ctx.frame(view);
  }
  // A left click in the middle of a widget the panel drew last frame.
  void click(const std::string& key) {
    frames(2);  // the layout after whatever the test changed
    const auto [a, b] = view.widget_rect(key);
    ASSERT_GT(b.x, a.x) << "no widget '" << key << "' was drawn";
    ImGuiIO& io = ctx.io();
    io.MousePos = {(a.x + b.x) / 2, (a.y + b.y) / 2};
    frames(1);
    io.MouseDown[0] = true;
    frames(1);
    io.MouseDown[0] = false;
    frames(2);
  }
  machines::Machine& vm() { return *view.machines()->find(view.selected_machine()); }
  // Frames until `done` or a bounded count of frames.
  template <typename F>
  void frames_until(F done) {
    for (int i = 0; i < 100'000 && !done(); ++i) {
      frames(1);
      usleep(1000);
    }
  }
  void screenshot(const std::string& name, int w, int h) {
    if (const std::string why = no_display_reason(); !why.empty()) {
      std::printf("no screenshot %s: %s\n", name.c_str(), why.c_str());
      return;
    }
    view.settings().window_w = w;
    view.settings().window_h = h;
    const fs::path png = fs::path(RINGSCOPE_TEST_OUT) / name;
    // The GL session makes its own ImGui context only when none is current.
    ImGui::SetCurrentContext(nullptr);
    auto st = viewer::screenshot(view, w, h, png.string());
    frames(1);  // the headless context is current again (the GL one is gone)
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_GT(fs::file_size(png), 10'000u);
  }
};

// The mode a VM gets on this host: the dialog's default (emulation without KVM).
TEST_F(MachinesUi, ANewVmMadeInTheDialogRunsAndItsConsoleAndTraceShow) {
  click("new-vm");
  machines::VmSpec& spec = view.new_vm_form().spec;
  if (!probe_host().kvm_openable) {
    EXPECT_EQ(spec.mode, "emulation") << "without KVM the dialog proposes emulation";
  }
  spec.scenario = "hello";
  click("create");
  ASSERT_EQ(view.machines()->machines().size(), 1u) << view.new_vm_form().error;
  EXPECT_NE(vm().state, machines::VmState::ShutOff) << vm().problem;
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  ASSERT_EQ(vm().state, machines::VmState::ShutOff);
  frames_until([&] { return !view.traces().empty() && view.traces()[0].model->complete(); });
  frames(2);
  const std::string& text = view.machines_text();
  EXPECT_NE(text.find("Hello from the ringscope teaching kernel!"), std::string::npos) << text;
  EXPECT_NE(text.find("exited with status 0"), std::string::npos) << text;
  ASSERT_EQ(view.traces().size(), 1u);
  EXPECT_GT(view.traces()[0].model->stats().vm_exits, 10u);
  EXPECT_EQ(view.machine_trace(vm().id), 0);
  EXPECT_GT(vm().exits_total, 10u);
  screenshot("machines-console.png", 1600, 1000);
  screenshot("machines-console-1080p.png", 1920, 1080);
  // Delete trace: the file and its timeline go; the VM stays, shut off.
  click("delete");
  EXPECT_FALSE(fs::exists(vm().trace_path));
  frames(2);
  EXPECT_TRUE(view.traces().empty());
}

TEST_F(MachinesUi, BadDialogAnswersAreShownInTheDialog) {
  click("new-vm");
  view.new_vm_form().spec.source = machines::VmSource::Program;
  click("create");
  EXPECT_TRUE(view.machines()->machines().empty());
  EXPECT_NE(view.new_vm_form().error.find("user program's path"), std::string::npos) << view.new_vm_form().error;
}

TEST_F(MachinesUi, AKilledVmIsReportedAndTheViewerStaysUp) {
  click("new-vm");
  view.new_vm_form().spec.scenario = "syscalls";
  click("create");
  ASSERT_EQ(view.machines()->machines().size(), 1u);
  ASSERT_TRUE(vm().alive());
  ASSERT_EQ(::kill(vm().proc->pid(), SIGKILL), 0);  // as `kill -9` from a shell would
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  frames(2);
  EXPECT_NE(view.machines_text().find("killed by signal 9"), std::string::npos) << view.machines_text();
  // The viewer goes on: the VM can run again.
  click("run");
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  ASSERT_TRUE(vm().exit.has_value());
  EXPECT_FALSE(vm().exit->signalled) << vm().exit->describe();
  screenshot("machines-killed.png", 1600, 1000);
}

// Start paused, step three exits one by one: each time the guest pauses at
// the next exit, the timeline has it and the inspector shows it; then Run
// lets it finish.
TEST_F(MachinesUi, StartPausedThenStepExitByExitThenRun) {
  click("new-vm");
  view.new_vm_form().spec.scenario = "syscalls";
  view.new_vm_form().spec.start_paused = true;
  click("create");
  ASSERT_EQ(view.machines()->machines().size(), 1u);
  frames_until([&] { return vm().state == machines::VmState::Paused || !vm().alive(); });
  ASSERT_EQ(vm().state, machines::VmState::Paused) << vm().problem << vm().console;
  int64_t last_seq = -1;
  for (uint64_t step = 1; step <= 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    click("step");
    frames_until([&] { return vm().breaks == step && vm().state == machines::VmState::Paused; });
    ASSERT_EQ(vm().breaks, step) << vm().problem;
    EXPECT_GT(vm().break_seq, last_seq);
    last_seq = vm().break_seq;
    // The trace flushed at the pause: the timeline gets the exit, selected.
    const int t = view.machine_trace(vm().id);
    frames_until([&] {
      return view.machine_trace(vm().id) >= 0 && view.selection().trace == view.machine_trace(vm().id) &&
             view.selection().event == static_cast<size_t>(last_seq);
    });
    ASSERT_GE(view.machine_trace(vm().id), 0);
    (void)t;
    EXPECT_EQ(view.selection().event, static_cast<size_t>(last_seq));
    EXPECT_EQ(view.traces()[view.machine_trace(vm().id)].model->kind(view.selection().event), EventKind::VmExit);
    frames(1);
    EXPECT_NE(view.inspector_text().find("vm_exit"), std::string::npos) << view.inspector_text();
    EXPECT_NE(view.machines_text().find("at event #" + std::to_string(last_seq)), std::string::npos)
        << view.machines_text();
  }
  screenshot("machines-step.png", 1600, 1000);
  screenshot("machines-step-1080p.png", 1920, 1080);
  click("run");
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  ASSERT_TRUE(vm().exit.has_value());
  EXPECT_EQ(vm().exit->describe(), "exited with status 0") << vm().console;
}

// Console input typed in the pane reaches the guest's console: `echo`
// reads a line and prints it in capitals.
TEST_F(MachinesUi, TypedConsoleInputReachesTheGuest) {
  click("new-vm");
  view.new_vm_form().spec.scenario = "echo";
  view.new_vm_form().spec.start_paused = true;
  click("create");
  frames_until([&] { return vm().state == machines::VmState::Paused || !vm().alive(); });
  ASSERT_EQ(vm().state, machines::VmState::Paused) << vm().problem << vm().console;
  click("console-input");
  ctx.io().AddInputCharactersUTF8("hello from the pane");
  frames(2);
  click("send");
  EXPECT_EQ(vm().problem, "");
  click("run");
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  frames(2);
  EXPECT_NE(view.machines_text().find("echo: HELLO FROM THE PANE"), std::string::npos) << view.machines_text();
  screenshot("machines-console-input.png", 1600, 1000);
}

// A breakpoint made in the Breakpoints tab pauses the guest and the tab
// says which one hit (BREAK); then Remove VM, answered in its dialog, stops
// the VM and forgets it, keeping its trace unless asked.
TEST_F(MachinesUi, ABreakpointFromTheTabHitsThenRemoveVm) {
  click("new-vm");
  view.new_vm_form().spec.scenario = "syscalls";
  view.new_vm_form().spec.start_paused = true;
  click("create");
  frames_until([&] { return (vm().state == machines::VmState::Paused && vm().qmp) || !vm().alive(); });
  ASSERT_EQ(vm().state, machines::VmState::Paused) << vm().problem << vm().console;
  click("tab-breakpoints");
  click("bp-port");
  ctx.io().AddInputCharactersUTF8("0xf0");
  frames(2);
  click("bp-add");
  ASSERT_EQ(vm().breakpoints.size(), 1u) << vm().problem;
  frames(2);
  EXPECT_NE(view.machines_text().find("port 0xf0"), std::string::npos) << view.machines_text();
  click("run");
  frames_until([&] { return vm().breaks == 1 || !vm().alive(); });
  ASSERT_EQ(vm().breaks, 1u) << vm().problem;
  frames(2);
  EXPECT_NE(view.machines_text().find("BREAK: breakpoint #"), std::string::npos) << view.machines_text();
  screenshot("machines-breakpoint.png", 1600, 1000);
  const std::string trace = vm().trace_path;
  click("remove");
  frames(2);
  EXPECT_NE(view.machines_text().find("from the list?"), std::string::npos) << view.machines_text();
  click("remove-yes");
  frames(2);
  EXPECT_TRUE(view.machines()->machines().empty());
  EXPECT_TRUE(fs::exists(trace)) << "the trace stays unless the box is ticked";
  EXPECT_EQ(view.machine_trace(1), -1);
}

// Pause a running guest, see it paused, and stop it with QMP's quit.
TEST_F(MachinesUi, PauseARunningVmThenStopIt) {
  click("new-vm");
  view.new_vm_form().spec.scenario = "compute";
  std::snprintf(view.new_vm_form().params, sizeof view.new_vm_form().params, "n=1000000000");
  click("create");
  frames_until([&] { return vm().state == machines::VmState::Running || !vm().alive(); });
  ASSERT_EQ(vm().state, machines::VmState::Running) << vm().problem << vm().console;
  click("pause");
  frames_until([&] { return vm().state == machines::VmState::Paused || !vm().alive(); });
  EXPECT_EQ(vm().state, machines::VmState::Paused) << vm().problem;
  frames(2);
  EXPECT_NE(view.machines_text().find("paused"), std::string::npos) << view.machines_text();
  click("stop");
  frames_until([&] { return vm().state == machines::VmState::ShutOff; });
  ASSERT_TRUE(vm().exit.has_value());
  EXPECT_FALSE(vm().exit->signalled) << vm().exit->describe();
}

}  // namespace
}  // namespace ringscope::viewer
