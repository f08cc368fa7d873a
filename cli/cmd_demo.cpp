// cmd_demo.cpp — `ringscope demo`: the front door. Runs `hello` and
// `syscalls` under KVM, then shows their exits side by side.
#include <fmt/format.h>
#include <unistd.h>

#include "commands.h"
#include "ringscope/host.h"
#include "session.h"
#include "summary.h"

namespace ringscope::cli {

namespace {
int do_demo(const std::string& dir) {
  std::vector<SessionOutcome> runs;
  std::filesystem::create_directories(dir);
  for (const char* name : {"hello", "syscalls"}) {
    fmt::print(stderr, "\n=== ringscope run {} ===\n", name);
    SessionRequest req;
    req.target = name;
    req.trace_path = std::filesystem::path(dir) / fmt::format("{}.full-virt.rtrace", name);
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
  print_side_by_side(stdout, runs);
  fmt::print("\nTraces: {}/hello.full-virt.rtrace, {}/syscalls.full-virt.rtrace\n", dir, dir);
  fmt::print("Try next:\n"
             "  ringscope show {0}/syscalls.full-virt.rtrace --kind vm_exit --explain | head\n"
             "  ringscope stats {0}/syscalls.full-virt.rtrace      # exits per marker-delimited phase\n"
             "  ringscope show {0}/syscalls.full-virt.rtrace --kind trap,trap_return --explain | head\n"
             "  ringscope run pagefault --level full               # every #PF and ring transition\n"
             "  ringscope export {0}/hello.full-virt.rtrace --format perfetto -o hello.pftrace\n"
             "  ringscope view {0}/syscalls.full-virt.rtrace       # the viewer (needs a display)\n"
             "  ringscope compare console-write                    # full-virt vs paravirt vs emulation\n"
             "  ringscope lab list                                 # classroom labs with checkers\n"
             "  ringscope scenarios                                # what else there is\n",
             dir);
  for (const auto& r : runs)
    if (!r.status_as_expected) return 1;
  return 0;
}
}  // namespace

void add_demo_command(CLI::App& app, CliContext& ctx) {
  auto dir = std::make_shared<std::string>("ringscope-demo");
  auto* cmd = app.add_subcommand("demo", "Run hello and syscalls under KVM and compare their VM exits");
  cmd->add_option("--dir", *dir, "Where to write the traces")->capture_default_str();
  cmd->footer("Example:\n  ringscope demo");
  cmd->callback([dir, &ctx] { ctx.exit_code = do_demo(*dir); });
}

}  // namespace ringscope::cli
