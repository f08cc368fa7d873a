// cmd_build.cpp — `ringscope build`: a user program from C files, with the
// user-side SDK (scenarios/user: start-up code, system-call stubs, ulib, the
// linker script that puts it at 0x8000000000) and exactly the flags the
// project's own build uses (program_build.cpp).
//
//   ringscope build hello.c                    # -> hello.elf
//   ringscope run --program hello.elf          # the teaching kernel runs it
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "program_build.h"
#include "ringscope/i18n.h"

namespace ringscope::cli {

namespace {

struct BuildArgs {
  std::vector<std::string> sources;
  std::string output;
  std::string name;
  std::string cc;
  bool verbose = false;
};

int do_build(const BuildArgs& a) {
  BuildRequest req;
  for (const auto& s : a.sources) req.sources.emplace_back(s);
  req.output = a.output;
  req.name = a.name;
  req.cc = a.cc;
  req.verbose = a.verbose;
  auto built = build_program(req);
  if (!built.ok()) return report_error("build", built.error());
  trprint(stderr, "ringscope build: wrote {} ({} bytes, program '{}'); run it: ringscope run --program {}\n",
          built.value().path.string(), built.value().bytes, built.value().name, built.value().path.string());
  return 0;
}

}  // namespace

void add_build_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<BuildArgs>();
  auto* cmd = app.add_subcommand("build", "Build a user program from C files with the ringscope SDK");
  cmd->footer(
      "Examples:\n"
      "  ringscope build hello.c                 # writes hello.elf\n"
      "  ringscope build a.c b.c -o prog.elf --name prog\n"
      "  ringscope run --program hello.elf       # the teaching kernel runs it in ring 3\n"
      "The program includes <ringscope/user.h> (system calls: docs/syscalls.md) and has no C library.\n"
      "Exit status: 0 built; 64 usage; 65 the compiler refused it; 66 a source is missing; 69 no compiler or SDK.");
  cmd->add_option("sources", a->sources, "C (or assembly) source files")->required();
  cmd->add_option("-o,--output", a->output, "The program to write (default: the first source's name, .elf)");
  cmd->add_option("--name", a->name, "The program's name in markers and messages (default: the output's name)");
  cmd->add_option("--cc", a->cc, "The C compiler (default: $CC, else gcc)");
  cmd->add_flag("-v,--verbose", a->verbose, "Print the compiler command line");
  cmd->callback([a, &ctx] { ctx.exit_code = do_build(*a); });
}

}  // namespace ringscope::cli
