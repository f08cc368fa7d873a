// files.h — every file ringscope reads or creates goes through here.
//
// Inputs (kernels, programs, manifests, expected output, lab.json, handouts,
// answers, console input) are opened as regular files only and read with a
// size cap, so /dev/zero or a FIFO in their place is a clear error instead
// of an unbounded allocation or a hang. Outputs (traces, exports, reports)
// are created without following a symlink planted where the file goes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/result.h"

namespace ringscope {

// Caps for the kinds of input ringscope reads. Generous for real use, small
// enough that a hostile file cannot exhaust a laptop.
inline constexpr uint64_t kMaxImageBytes = 256ull << 20;  // kernel, program, module ELF
inline constexpr uint64_t kMaxTextBytes = 4ull << 20;     // manifests, lab.json, handouts, answers, expected output

// Reads the whole of a regular file, at most `cap` bytes. `what` names the
// file in errors ("lab.json", "the scenario manifest"). Errors:
//   NoInput  — missing or unreadable (says which path and why)
//   BadData  — not a regular file (FIFO, device, directory), or larger than cap
Result<std::vector<uint8_t>> read_regular_file(const std::filesystem::path& path, uint64_t cap,
                                               std::string_view what = "file");
Result<std::string> read_regular_text(const std::filesystem::path& path, uint64_t cap = kMaxTextBytes,
                                      std::string_view what = "file");

// Creates (or truncates) an output file for writing and returns its fd
// (O_CLOEXEC). Refuses to follow a symlink in the final component and
// refuses to write into anything but a regular file. Errors are IoError.
Result<int> create_output_file(const std::filesystem::path& path, std::string_view what = "output file");

}  // namespace ringscope
