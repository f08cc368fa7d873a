// program_build.h — building a user program with the SDK (`ringscope
// build`, and `ringscope lab check` for the student's files).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ringscope/result.h"

namespace ringscope::cli {

struct BuildRequest {
  std::vector<std::filesystem::path> sources;
  std::filesystem::path output;  // default: the first source's name, .elf
  std::string name;              // default: the output's name
  std::string cc;                // default: $CC, else gcc
  bool verbose = false;          // print the compiler command line
};

struct BuiltProgram {
  std::filesystem::path path;
  std::string name;
  uint64_t bytes = 0;
};

// Runs the host compiler with the SDK's files and flags (sdk_config.h); its
// messages go to stderr. Errors: NoInput (a source is missing), Usage (a bad
// name), Unavailable (no compiler or SDK), BadData (it did not compile, or
// the result is not a 64-bit x86 executable).
Result<BuiltProgram> build_program(const BuildRequest& request);

}  // namespace ringscope::cli
