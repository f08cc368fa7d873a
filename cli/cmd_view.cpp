// cmd_view.cpp — `ringscope view FILE...`: the trace viewer (visualizer/).
//
// Interactive by default; with --screenshot it renders one view headless
// into a PNG (under Xvfb on a machine without a display) and exits, which
// is how the UI tests and the README's pictures are made. Files that cannot
// be read are reported on stderr and in the window, and the rest still
// open; the exit code is then 65 (bad data) or 66 (no such file).
#include <fmt/format.h>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "platform/gl_app.h"
#include "ringscope/i18n.h"
#include "ui/View.h"

namespace ringscope::cli {

namespace {

struct ViewOptions {
  std::vector<std::string> files;
  std::string screenshot;
  int64_t select = -1;
  std::string zoom;
  std::string range;
  std::string panels;
  std::string align;
  std::string size = "1600x1000";
  bool machines = false;
  bool follow = false;
  std::vector<std::string> new_vms;
  int step_exits = 0;
};

// "FROM_NS:TO_NS", nanoseconds relative to the start of the run.
bool parse_zoom(const std::string& s, double& from, double& to) {
  const auto colon = s.find(':');
  if (colon == std::string::npos) return false;
  int64_t a = 0, b = 0;
  auto r1 = std::from_chars(s.data(), s.data() + colon, a);
  auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), b);
  if (r1.ec != std::errc{} || r1.ptr != s.data() + colon || r2.ec != std::errc{} || r2.ptr != s.data() + s.size() ||
      b <= a)
    return false;
  from = static_cast<double>(a);
  to = static_cast<double>(b);
  return true;
}

bool parse_size(const std::string& s, int& w, int& h) {
  return std::sscanf(s.c_str(), "%dx%d", &w, &h) == 2 && w >= 320 && h >= 240 && w <= 8192 && h <= 8192;
}

// --new-vm: define each VM and start it; --step-exits N: the first one
// starts paused and steps N exits before the window (or the screenshot)
// shows it, as a person would with Step exit.
bool prepare_machines(const ViewOptions& o, viewer::View& view, CliContext& ctx) {
  if (o.new_vms.empty()) {
    if (o.step_exits > 0) {
      std::fprintf(stderr, "ringscope view: --step-exits needs a --new-vm to step\n");
      ctx.exit_code = 64;
      return false;
    }
    return true;
  }
  machines::MachineManager& mm = *view.machines();
  std::vector<int> ids;
  for (size_t i = 0; i < o.new_vms.size(); ++i) {
    machines::VmSpec spec;
    std::string why;
    if (!machines::parse_vm_spec(o.new_vms[i], spec, why)) {
      std::fprintf(stderr, "ringscope view: %s\n", why.c_str());
      ctx.exit_code = 64;
      return false;
    }
    if (i == 0 && o.step_exits > 0) spec.start_paused = true;
    auto id = mm.create(spec);
    if (!id || !mm.run(*id)) {
      std::fprintf(stderr, "ringscope view: %s\n", id ? mm.find(*id)->problem.c_str() : id.error().message.c_str());
      ctx.exit_code = 70;
      return false;
    }
    ids.push_back(*id);
  }
  view.select_machine(ids.front());
  if (o.step_exits <= 0) return true;
  machines::Machine& m = *mm.find(ids.front());
  // Each wait is bounded: a VMM that never answers is reported, not waited for.
  auto wait_for = [&](auto done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && m.alive() && std::chrono::steady_clock::now() < until) {
      mm.poll();
      usleep(1000);
    }
    return done();
  };
  if (!wait_for([&] { return m.state == machines::VmState::Paused; })) {
    std::fprintf(stderr, "ringscope view: %s did not pause for --step-exits: %s\n%s", m.name.c_str(), m.problem.c_str(),
                 m.console.c_str());
    ctx.exit_code = 70;
    return false;
  }
  for (int i = 1; i <= o.step_exits; ++i) {
    if (!mm.step_exit(m.id) ||
        !wait_for([&] { return m.breaks == static_cast<uint64_t>(i) && m.state == machines::VmState::Paused; })) {
      std::fprintf(stderr, "ringscope view: step %d of %s: %s\n", i, m.name.c_str(),
                   m.problem.empty() ? "the VM ended first" : m.problem.c_str());
      break;
    }
  }
  return true;
}

void run_view(const ViewOptions& o, CliContext& ctx) {
  using namespace ringscope::viewer;
  const bool shot = !o.screenshot.empty();
  // Screenshots are reproducible: default settings, no animation.
  ViewSettings settings = shot ? ViewSettings{} : load_settings(settings_path());
  settings.animate = !shot;
  if (!o.panels.empty()) {
    std::string why;
    if (!apply_panels(o.panels, settings, why)) {
      std::fprintf(stderr, "ringscope view: %s\n", why.c_str());
      ctx.exit_code = 64;
      return;
    }
  }
  int w = 0, h = 0;
  if (!parse_size(o.size, w, h)) {
    trprint(stderr, "ringscope view: --size wants WIDTHxHEIGHT between 320x240 and 8192x8192, e.g. 1600x1000\n");
    ctx.exit_code = 64;
    return;
  }
  double from = 0, to = 0;
  if (!o.zoom.empty() && !parse_zoom(o.zoom, from, to)) {
    trprint(stderr,
            "ringscope view: --zoom wants FROM_NS:TO_NS (nanoseconds after the run's start, FROM < TO), "
            "e.g. --zoom 50000000:52000000 for 50 to 52 ms\n");
    ctx.exit_code = 64;
    return;
  }
  double range_from = 0, range_to = 0;
  if (!o.range.empty() && !parse_zoom(o.range, range_from, range_to)) {
    trprint(stderr,
            "ringscope view: --range wants FROM_NS:TO_NS (nanoseconds after the run's start, FROM < TO), "
            "e.g. --range 50000000:52000000 for 50 to 52 ms\n");
    ctx.exit_code = 64;
    return;
  }
  View view(settings);
  // No file: the viewer opens as a VM manager (issue 14), as virt-manager.
  if (o.machines || o.files.empty() || !o.new_vms.empty()) view.enable_machines();
  if (!prepare_machines(o, view, ctx)) return;
  int load_code = 0;
  for (const auto& f : o.files) {
    if (!(o.follow ? view.follow_file(f) : view.open_file(f))) {
      const bool missing = view.problems().back().message.find("No such file") != std::string::npos;
      load_code = missing ? 66 : 65;
    }
  }
  // Several traces are loaded to be compared: Compare is the open tab
  // unless --panels chose one.
  if (o.panels.empty() && view.traces().size() > 1) view.open_tab(BottomTab::Compare);
  if (o.select >= 0 && !view.select_seq(static_cast<uint64_t>(o.select))) {
    trprint(stderr, "ringscope view: --select {}: the first trace has no event with that seq{}\n", o.select,
            view.traces().empty() ? std::string() : trf(" (it has {})", view.traces()[0].model->size()));
    ctx.exit_code = 64;
    return;
  }
  if (!o.align.empty() && !view.align_on(o.align)) {
    std::fprintf(stderr,
                 "ringscope view: --align %s: not every trace has a phase (marker begin) with that label; "
                 "`ringscope stats FILE` lists each trace's phases\n",
                 o.align.c_str());
    ctx.exit_code = 64;
    return;
  }
  if (!o.align.empty()) view.zoom_to_fit();
  if (!o.range.empty()) view.set_range(range_from, range_to);
  if (!o.zoom.empty())
    view.set_zoom(from, to);
  else if (o.select >= 0) {
    // Zoom on the selected event: 1/50 of the run around it.
    const double span = (view.zoom_to() - view.zoom_from()) / 50;
    const double t = view.rel(0, view.selection().event);
    view.set_zoom(t - span / 2, t + span / 2);
  }
  if (shot) {
    view.settings().window_w = w;
    view.settings().window_h = h;
    auto st = screenshot(view, w, h, o.screenshot);
    if (!st) {
      ctx.exit_code = report_error("view", st.error());
      return;
    }
    std::fprintf(stderr, "ringscope view: wrote %s (%dx%d)\n", o.screenshot.c_str(), w, h);
    ctx.exit_code = load_code;
    return;
  }
  auto st = run_window(view);
  if (!st) {
    ctx.exit_code = report_error("view", st.error());
    return;
  }
  std::string why;
  if (!save_settings(view.settings(), settings_path(), why))
    std::fprintf(stderr, "ringscope view: warning: %s\n", why.c_str());
  ctx.exit_code = load_code;
}

}  // namespace

void add_view_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ViewOptions>();
  CLI::App* cmd = app.add_subcommand("view",
                                     "Replay traces in a window: timeline of rings and VM exits, event list, "
                                     "inspector, ring diagram, statistics, comparison");
  cmd->add_option("files", o->files, "one or more .rtrace files (none: start with the Machines panel)");
  cmd->add_flag("--machines", o->machines,
                "show the Machines panel: create, run, pause and step VMs, each a `ringscope run` child process");
  cmd->add_option(
      "--new-vm", o->new_vms,
      "with the Machines panel: define and run a VM, SCENARIO[,mode=M,level=L,irqchip=I,io=vcpu|offload,ram=MIB,"
      "disk=IMG,input=TEXT,param=K=V,paused] or program=PATH,... or image=PATH,...; repeatable");
  cmd->add_option("--step-exits", o->step_exits,
                  "with --new-vm: start the first VM paused and step this many VM exits (as Step exit does)");
  cmd->add_option("--screenshot", o->screenshot, "render one frame headless into this PNG and exit");
  cmd->add_option("--select", o->select, "select the event with this seq (in the first trace)");
  cmd->add_option("--zoom", o->zoom, "visible range FROM_NS:TO_NS, nanoseconds after the run's start");
  cmd->add_option("--range", o->range,
                  "selected time range FROM_NS:TO_NS (shaded on the timeline; the Statistics tab covers it)");
  cmd->add_option("--align", o->align,
                  "align the traces' timelines on the phase with this marker label (its begin at 0), as Compare does");
  cmd->add_option("--panels", o->panels,
                  "panels to show: timeline,events,inspector,ring,playback,stats,compare or all (default all)");
  cmd->add_option("--size", o->size, "window or screenshot size WIDTHxHEIGHT (default 1600x1000)");
  cmd->add_flag("--follow", o->follow,
                "follow traces a running `ringscope run` is still writing: new events appear as they are written "
                "and the timeline keeps the newest in view");
  cmd->footer(
      "Examples:\n"
      "  ringscope view                     # the Machines panel: New VM, Run, Pause, Step exit\n"
      "  ringscope view --new-vm syscalls,mode=emulation --step-exits 20   # paused at the 20th exit\n"
      "  ringscope view syscalls.rtrace\n"
      "  ringscope view hello.full-virt.rtrace hello.paravirt.rtrace       # compare tab\n"
      "  xvfb-run -a ringscope view pagefault.rtrace --select 8969 --screenshot pf.png\n"
      "  ringscope view syscalls.rtrace --panels timeline,stats --zoom 50000000:60000000 --screenshot s.png\n"
      "  ringscope view pf.rtrace --panels timeline,stats --range 1000000:2000000 --screenshot r.png\n"
      "Keys: Left/Right step, N next of kind, Space play, B bookmark, F fit, Esc clear range, H help.\n"
      "Settings are kept in $XDG_CONFIG_HOME/ringscope/viewer.ini (not used for screenshots).");
  cmd->callback([o, &ctx] { run_view(*o, ctx); });
}

}  // namespace ringscope::cli
