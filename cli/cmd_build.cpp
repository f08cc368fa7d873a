// cmd_build.cpp — `ringscope build`: a user program from C files, with the
// user-side SDK (scenarios/user: start-up code, system-call stubs, ulib, the
// linker script that puts it at 0x8000000000) and exactly the flags the
// project's own build uses (sdk_config.h, generated from sdk_flags.cmake).
// The host gcc does it: the programs are freestanding, no cross compiler.
//
//   ringscope build hello.c                    # -> hello.elf
//   ringscope run --program hello.elf          # the teaching kernel runs it
#include <elf.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ringscope/machine.h"
#include "sdk_config.h"

namespace ringscope::cli {

namespace {

namespace fs = std::filesystem;

struct BuildArgs {
  std::vector<std::string> sources;
  std::string output;
  std::string name;
  std::string cc;
  bool verbose = false;
};

fs::path sdk_dir() {
  const char* env = std::getenv("RINGSCOPE_SDK_DIR");
  return env && *env ? fs::path(env) : fs::path(sdk::kDefaultDir);
}

// `name` found in PATH (or as given, if it has a slash), or empty.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

// The program's name goes into its ELF note (note.c), which the kernel
// shows in markers ("run NAME") and kill messages.
Status check_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 31;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  if (!ok)
    return make_error(ErrorKind::Usage, fmt::format("program name '{}': use 1 to 31 letters, digits, '-' or '_' "
                                                    "(--name NAME)",
                                                    name));
  return ok_status();
}

// Runs argv, the compiler's own messages going to our stderr; its status.
Result<int> run_compiler(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return make_error(ErrorKind::Internal, fmt::format("fork failed: {}", strerror(errno)));
  if (pid == 0) {
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return make_error(ErrorKind::Internal, fmt::format("waitpid failed: {}", strerror(errno)));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int do_build(const BuildArgs& a) {
  for (const auto& s : a.sources) {
    std::error_code ec;
    if (!fs::is_regular_file(s, ec))
      return report_error("build", make_error(ErrorKind::NoInput, fmt::format("{}: no such file", s)));
  }
  const fs::path sdk = sdk_dir();
  if (!fs::exists(sdk / "include" / "ringscope" / "user.h") || !fs::exists(sdk / sdk::kLinkerScript))
    return report_error("build", make_error(ErrorKind::Unavailable,
                                            fmt::format("the user-side SDK is not at {} (it is scenarios/user in the "
                                                        "source tree); set RINGSCOPE_SDK_DIR to where it is",
                                                        sdk.string())));
  std::string cc_name = !a.cc.empty() ? a.cc : std::getenv("CC") && *std::getenv("CC") ? std::getenv("CC") : "gcc";
  std::string cc = find_program(cc_name);
  if (cc.empty())
    return report_error("build", make_error(ErrorKind::Unavailable,
                                            fmt::format("no C compiler '{}' in PATH; install gcc (apt-get install gcc) "
                                                        "or name one with --cc",
                                                        cc_name)));
  fs::path out = a.output.empty() ? fs::path(fs::path(a.sources.front()).stem().string() + ".elf") : fs::path(a.output);
  std::string name = a.name.empty() ? out.stem().string() : a.name;
  if (auto st = check_name(name); !st.ok()) return report_error("build", st.error());

  std::vector<std::string> argv = {cc};
  for (const char* f : sdk::kCflags) argv.emplace_back(f);
  argv.push_back("-I" + (sdk / "include").string());
  argv.push_back(fmt::format("-DRS_PROG_NAME=\"{}\"", name));
  for (const char* f : sdk::kLdflags) argv.emplace_back(f);
  argv.push_back("-T");
  argv.push_back((sdk / sdk::kLinkerScript).string());
  for (const auto& s : a.sources) argv.push_back(s);
  for (const char* f : sdk::kSources) argv.push_back((sdk / f).string());
  argv.push_back("-lgcc");  // what gcc itself may call (64-bit division helpers and the like)
  argv.push_back("-o");
  argv.push_back(out.string());
  if (a.verbose) {
    std::string line;
    for (const auto& s : argv) line += (line.empty() ? "" : " ") + s;
    fmt::print(stderr, "{}\n", line);
  }
  auto rc = run_compiler(argv);
  if (!rc.ok()) return report_error("build", rc.error());
  if (rc.value() != 0)
    return report_error("build", make_error(ErrorKind::BadData,
                                            fmt::format("{} could not build {} (its messages are above; exit status "
                                                        "{}); the program sees only the SDK's header "
                                                        "<ringscope/user.h>, no C library (docs/syscalls.md)",
                                                        cc_name, out.string(), rc.value())));
  // The result must be what the kernel's exec loads: a 64-bit x86 ELF
  // executable (scenarios/kernel/exec.c checks the rest as it loads it).
  auto bytes = read_file_bytes(out);
  if (!bytes.ok()) return report_error("build", bytes.error());
  Elf64_Ehdr eh{};
  if (bytes.value().size() >= sizeof eh) std::memcpy(&eh, bytes.value().data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
    return report_error("build", make_error(ErrorKind::BadData,
                                            fmt::format("{} is not a 64-bit x86 ELF executable; was --cc a compiler "
                                                        "for another target?",
                                                        out.string())));
  fmt::print(stderr, "ringscope build: wrote {} ({} bytes, program '{}'); run it: ringscope run --program {}\n",
             out.string(), bytes.value().size(), name, out.string());
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
