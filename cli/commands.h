// commands.h — one function per verb; each file cli/cmd_<verb>.cpp adds its
// subcommand to the app. Conventions for every verb:
//   - data on stdout, messages on stderr ("ringscope <verb>: <sentence>");
//   - the exit code comes from the verb's callback through CliContext
//     (sysexits.h set: 0 ok, 1 the guest or check failed, 64 usage, 65 bad
//     data, 66 no input, 69 unavailable, 70 internal, 74 I/O error).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "ringscope/result.h"

namespace ringscope::cli {

struct CliContext {
  int exit_code = 0;
};

// Prints "ringscope <verb>: <message>" on stderr and returns the exit code
// for the error's kind.
int report_error(std::string_view verb, const Error& error);

void add_run_command(CLI::App& app, CliContext& ctx);
void add_show_command(CLI::App& app, CliContext& ctx);
void add_stats_command(CLI::App& app, CliContext& ctx);
void add_export_command(CLI::App& app, CliContext& ctx);
void add_doctor_command(CLI::App& app, CliContext& ctx);
void add_scenarios_command(CLI::App& app, CliContext& ctx);
void add_demo_command(CLI::App& app, CliContext& ctx);
void add_view_command(CLI::App& app, CliContext& ctx);
void add_compare_command(CLI::App& app, CliContext& ctx);
void add_build_command(CLI::App& app, CliContext& ctx);
void add_lab_command(CLI::App& app, CliContext& ctx);
void add_experiment_command(CLI::App& app, CliContext& ctx);
void add_qmp_command(CLI::App& app, CliContext& ctx);

}  // namespace ringscope::cli
