// cmd_demo.cpp — `ringscope demo`: the front door. Runs `hello` and
// `syscalls` under KVM, then shows their exits side by side. On a machine
// without a usable /dev/kvm (none, no permission, or RINGSCOPE_NO_KVM set)
// the same two runs go through the emulation mode, and the demo says so
// once: a student's laptop gets the demo too, with the VT-x model's
// exits in place of real ones (docs/hosts.md).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "commands.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "session.h"
#include "summary.h"

namespace ringscope::cli {

namespace {

// The one sentence that says the demo is not running under KVM, and why.
std::string emulation_sentence(const HostInfo& host) {
  return trf(
      "No usable /dev/kvm here ({}), so the demo runs under emulation: Unicorn executes every guest "
      "instruction in software and the VM exits below are the ones the VT-x model says a VT-x host "
      "would take (`ringscope doctor` explains).",
      host.kvm_open_error);
}

int do_demo(const std::string& dir) {
  const HostInfo host = probe_host();
  const std::string mode = host.kvm_openable ? "full-virt" : "emulation";
  if (!host.kvm_openable) {
    fmt::print("{}\n", emulation_sentence(host));
    std::fflush(stdout);
  }
  std::vector<SessionOutcome> runs;
  std::filesystem::create_directories(dir);
  auto trace = [&](const char* name) { return fmt::format("{}/{}.{}.rtrace", dir, name, mode); };
  for (const char* name : {"hello", "syscalls"}) {
    trprint(stderr, "\n=== ringscope run {} --mode {} ===\n", name, mode);
    SessionRequest req;
    req.target = name;
    req.mode = mode;
    req.trace_path = trace(name);
    req.options.progress = isatty(STDERR_FILENO);
    // Level full single-steps the guest, so the demo can count ring
    // transitions too; both scenarios are small enough for that.
    req.options.level = TraceLevel::Full;
    auto o = run_session(req);
    if (!o.ok()) return report_error("demo", o.error());
    print_run_summary(stderr, o.value());
    runs.push_back(std::move(o).value());
  }
  fmt::print("\n");
  print_side_by_side(stdout, runs, mode == "emulation");
  trprint(stdout, "\nTraces: {}, {}\n", trace("hello"), trace("syscalls"));
  // Commands padded to one column, so the comments line up whatever the
  // directory and mode make the trace names.
  std::vector<std::pair<std::string, std::string>> next = {
      {trf("ringscope show {} --kind vm_exit --explain | head", trace("syscalls")), ""},
      {trf("ringscope stats {}", trace("syscalls")), tr("exits per marker-delimited phase")},
      {trf("ringscope show {} --kind trap,trap_return --explain | head", trace("syscalls")), ""},
      {trf("ringscope run pagefault --level full{}", host.kvm_openable ? "" : " --mode emulation"),
       tr("every #PF and ring transition")},
      {trf("ringscope export {} --format perfetto -o hello.pftrace", trace("hello")), ""},
      {trf("ringscope view {}", trace("syscalls")), tr("the viewer (needs a display)")},
      {"ringscope compare console-write", tr("every mode this host runs, side by side")},
      {"ringscope lab list", tr("classroom labs with checkers")},
      {"ringscope scenarios", tr("what else there is")},
  };
  size_t width = 0;
  for (const auto& [cmd, why] : next)
    if (!why.empty()) width = std::max(width, cmd.size());
  trprint(stdout, "Try next:\n");
  for (const auto& [cmd, why] : next)
    fmt::print("  {}\n", why.empty() ? cmd : fmt::format("{:<{}}  # {}", cmd, width, why));
  for (const auto& r : runs)
    if (!r.status_as_expected) return 1;
  return 0;
}
}  // namespace

void add_demo_command(CLI::App& app, CliContext& ctx) {
  auto dir = std::make_shared<std::string>("ringscope-demo");
  auto* cmd = app.add_subcommand(
      "demo", "Run hello and syscalls under KVM (under emulation where KVM is not usable) and compare their VM exits");
  cmd->add_option("--dir", *dir, "Where to write the traces")->capture_default_str();
  cmd->footer(
      "Example:\n  ringscope demo\n"
      "Without a usable /dev/kvm (or with RINGSCOPE_NO_KVM=1) both runs use --mode emulation and the demo "
      "says so; docs/hosts.md tells what differs.");
  cmd->callback([dir, &ctx] { ctx.exit_code = do_demo(*dir); });
}

}  // namespace ringscope::cli
