// main.cpp — the `ringscope` command: git-style verbs, one file each.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "commands.h"
#include "ringscope/i18n.h"
#include "ringscope/version.h"

namespace {

// --lang must be known before any help text is made, so it is read here,
// wherever it stands on the command line; CLI11 then accepts it as a global
// option. Returns the value, or "" when there is none.
std::string lang_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "--lang" && i + 1 < argc) return argv[i + 1];
    if (a.starts_with("--lang=")) return std::string(a.substr(7));
  }
  return {};
}

// Every verb's help in the chosen language, once all are built: the
// descriptions and footers the verbs wrote (po/CMakeLists.txt extracts them
// from add_option, add_flag, add_subcommand and footer calls) and CLI11's
// group headings ("Options" is each option's default group, "Subcommands"
// each verb's).
void translate_help(CLI::App* app) {
  using ringscope::tr;
  for (CLI::Option* o : app->get_options()) {
    if (o->get_group() == "Options") o->group(tr("Options"));
    if (!o->get_description().empty()) o->description(tr(o->get_description().c_str()));
  }
  for (CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_group() == "Subcommands") sub->group(tr("Subcommands"));
    if (!sub->get_description().empty()) sub->description(tr(sub->get_description().c_str()));
    if (!sub->get_footer().empty()) sub->footer(tr(sub->get_footer().c_str()));
    translate_help(sub);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringscope::cli;
  using ringscope::tr;
  std::string lang = lang_argument(argc, argv);
  if (!ringscope::init_i18n(lang)) {
    ringscope::init_i18n();
    fmt::print(
        stderr, "{}\n",
        ringscope::trf("ringscope: --lang {} is not a language ringscope speaks: use --lang ko or --lang en", lang));
    return 64;
  }
  CLI::App app{tr("ringscope — see rings, traps and VM exits of a real guest under KVM")};
  app.set_help_flag("-h,--help", tr("Print this help message and exit"));
  // CLI11's own headings; its subcommands copy the formatter when added.
  for (const char* label : {N_("OPTIONS"), N_("SUBCOMMANDS"), N_("Positionals"), N_("REQUIRED"), N_("Usage")})
    app.get_formatter()->label(label, tr(label));
  app.set_version_flag("--version", std::string("ringscope ") + ringscope::kVersion,
                       tr("Display program version information and exit"));
  app.require_subcommand(1);
  app.add_option("--lang", lang,
                 tr("Language of messages, explanations and the viewer: ko or en (default: from LANG, LC_MESSAGES "
                    "or LANGUAGE)"))
      ->check(CLI::IsMember({"ko", "en"}));
  app.fallthrough();  // --lang also after the verb: ringscope show --lang ko TRACE
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
  add_qmp_command(app, ctx);
  translate_help(&app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; any other parse error is a usage error.
    return rc == 0 ? 0 : 64;
  }
  return ctx.exit_code;
}
