// program_build.cpp — a user program from C files with the SDK (see
// program_build.h): the host gcc, the SDK's start-up code, system-call
// stubs, ulib and linker script, and exactly the flags the project's own
// build uses (sdk_config.h, generated from scenarios/user/sdk_flags.cmake).
#include "program_build.h"

#include <elf.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ringscope/i18n.h"
#include "ringscope/machine.h"
#include "ringscope/resources.h"
#include "sdk_config.h"

namespace ringscope::cli {

namespace {

namespace fs = std::filesystem;

fs::path sdk_dir() {
  const char* env = std::getenv("RINGSCOPE_SDK_DIR");
  return env && *env ? fs::path(env) : resource_dirs().sdk;
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
    return make_error(ErrorKind::Usage, trf("program name '{}': use 1 to 31 letters, digits, '-' or '_' "
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
  if (pid < 0) return make_error(ErrorKind::Internal, trf("fork failed: {}", strerror(errno)));
  if (pid == 0) {
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return make_error(ErrorKind::Internal, trf("waitpid failed: {}", strerror(errno)));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<BuiltProgram> build_program(const BuildRequest& a) {
  if (a.sources.empty()) return make_error(ErrorKind::Usage, tr("no source files to build"));
  for (const auto& s : a.sources) {
    std::error_code ec;
    if (!fs::is_regular_file(s, ec)) return make_error(ErrorKind::NoInput, trf("{}: no such file", s.string()));
  }
  const fs::path sdk = sdk_dir();
  if (!fs::exists(sdk / "include" / "ringscope" / "user.h") || !fs::exists(sdk / sdk::kLinkerScript))
    return make_error(ErrorKind::Unavailable, trf("the user-side SDK is not at {} (it is share/ringscope/sdk in "
                                                  "an installed ringscope, scenarios/user in the source "
                                                  "tree); reinstall, or set RINGSCOPE_SDK_DIR to where it is",
                                                  sdk.string()));
  const char* env_cc = std::getenv("CC");
  std::string cc_name = !a.cc.empty() ? a.cc : env_cc && *env_cc ? env_cc : "gcc";
  std::string cc = find_program(cc_name);
  if (cc.empty())
    return make_error(ErrorKind::Unavailable, trf("no C compiler '{}' in PATH; install gcc (apt-get install "
                                                  "gcc) or name one with --cc",
                                                  cc_name));
  BuiltProgram built;
  built.path = a.output.empty() ? fs::path(a.sources.front().stem().string() + ".elf") : a.output;
  built.name = a.name.empty() ? built.path.stem().string() : a.name;
  TRY(check_name(built.name));

  std::vector<std::string> argv = {cc};
  for (const char* f : sdk::kCflags) argv.emplace_back(f);
  argv.push_back("-I" + (sdk / "include").string());
  argv.push_back(fmt::format("-DRS_PROG_NAME=\"{}\"", built.name));
  for (const char* f : sdk::kLdflags) argv.emplace_back(f);
  argv.push_back("-T");
  argv.push_back((sdk / sdk::kLinkerScript).string());
  for (const auto& s : a.sources) argv.push_back(s.string());
  for (const char* f : sdk::kSources) argv.push_back((sdk / f).string());
  argv.push_back("-lgcc");  // what gcc itself may call (64-bit division helpers and the like)
  argv.push_back("-o");
  argv.push_back(built.path.string());
  if (a.verbose) {
    std::string line;
    for (const auto& s : argv) line += (line.empty() ? "" : " ") + s;
    fmt::print(stderr, "{}\n", line);
  }
  TRY_ASSIGN(int rc, run_compiler(argv));
  if (rc != 0)
    return make_error(ErrorKind::BadData, trf("{} could not build {} (its messages are above; exit status {}); "
                                              "the program sees only the SDK's header <ringscope/user.h>, no "
                                              "C library (docs/syscalls.md)",
                                              cc_name, built.path.string(), rc));
  // The result must be what the kernel's exec loads: a 64-bit x86 ELF
  // executable (scenarios/kernel/exec.c checks the rest as it loads it).
  TRY_ASSIGN(auto bytes, read_file_bytes(built.path));
  Elf64_Ehdr eh{};
  if (bytes.size() >= sizeof eh) std::memcpy(&eh, bytes.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
    return make_error(ErrorKind::BadData, trf("{} is not a 64-bit x86 ELF executable; was --cc a compiler for "
                                              "another target?",
                                              built.path.string()));
  built.bytes = bytes.size();
  return built;
}

}  // namespace ringscope::cli
