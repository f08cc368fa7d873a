// discovery.h — where the labs are: the built-in labs (an installed
// ringscope's share/ringscope/labs, or labs/ in the source tree:
// resources.h), plus the directories an instructor adds with
// RINGSCOPE_LABS_DIR (colon-separated, like PATH). Added, never instead:
// the built-in labs stay listed beside an instructor's own.
#pragma once

#include <filesystem>
#include <vector>

#include "checker/lab.h"
#include "ringscope/result.h"

namespace ringscope::labs {

inline constexpr const char* kLabsDirVariable = "RINGSCOPE_LABS_DIR";

// The built-in labs directory first, then each RINGSCOPE_LABS_DIR entry in
// order (empty entries and repeats skipped).
std::vector<std::filesystem::path> lab_dirs();

// Every lab in lab_dirs(), by number. A directory named in
// RINGSCOPE_LABS_DIR that does not exist, and two labs with one number
// (in one directory or two), are errors that name the directories.
Result<std::vector<Lab>> discover_labs();

}  // namespace ringscope::labs
