// main.cpp — the `ringscope` command: git-style verbs, one file each.
#include <cstdio>

#include "commands.h"
#include "ringscope/version.h"

int main(int argc, char** argv) {
  using namespace ringscope::cli;
  CLI::App app{"ringscope — see rings, traps and VM exits of a real guest under KVM"};
  app.set_version_flag("--version", std::string("ringscope ") + ringscope::kVersion);
  app.require_subcommand(1);
  CliContext ctx;
  add_run_command(app, ctx);
  add_compare_command(app, ctx);
  add_show_command(app, ctx);
  add_stats_command(app, ctx);
  add_export_command(app, ctx);
  add_doctor_command(app, ctx);
  add_scenarios_command(app, ctx);
  add_demo_command(app, ctx);
  add_view_command(app, ctx);
  add_build_command(app, ctx);
  add_lab_command(app, ctx);
  add_experiment_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; any other parse error is a usage error.
    return rc == 0 ? 0 : 64;
  }
  return ctx.exit_code;
}
