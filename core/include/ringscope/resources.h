// resources.h — where ringscope's data is: the built-in scenarios, the built
// guest kernels and programs, the user SDK `ringscope build` compiles with,
// and the classroom labs.
//
// An installed ringscope (PREFIX/bin/ringscope, from `cmake --install` or
// the .deb) finds them beside its own executable, in PREFIX/share/ringscope
// (found through /proc/self/exe, so a prefix can be moved as a whole). A
// ringscope that has no such directory beside it is the one in its build
// tree and reads the source and build trees, as configured. An installed
// copy never reads the build tree, even when it still exists.
//
// RINGSCOPE_SCENARIOS_DIR, RINGSCOPE_GUEST_DIR and RINGSCOPE_SDK_DIR still
// point one kind elsewhere (scenario.h, program_build.cpp); lab directories
// are added with RINGSCOPE_LABS_DIR (labs/checker/lab.h).
#pragma once

#include <filesystem>
#include <string>

namespace ringscope {

struct ResourceDirs {
  bool installed = false;           // true: under <prefix>/share/ringscope; false: the build tree
  std::filesystem::path root;       // <prefix>/share/ringscope, or the source tree
  std::filesystem::path scenarios;  // <name>/scenario.json for each built-in scenario
  std::filesystem::path guest;      // kernel.elf, kernel-pv.elf, <program>.elf
  std::filesystem::path sdk;        // include/ringscope/user.h, user.ld, start.S, ...
  std::filesystem::path labs;       // NN-name/lab.json and handout.md for each lab
  std::filesystem::path locale;     // <lang>/LC_MESSAGES/ringscope.mo: <prefix>/share/locale, or the build tree's
};

// Resolved once per process.
const ResourceDirs& resource_dirs();

// Resolves for an executable at `exe`: the installed layout if
// `exe`/../share/ringscope (as GNUInstallDirs places it) holds the data,
// else the build tree. Exposed so the rule can be tested on its own.
ResourceDirs resolve_resource_dirs(const std::filesystem::path& exe);

}  // namespace ringscope
