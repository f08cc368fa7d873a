// trace_input.h — reading the FILE argument of show, stats and export the
// same way: clear errors with the right exit code when nothing is readable,
// the reader's warning on stderr when only a prefix is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "commands.h"
#include "ringscope/trace.h"

namespace ringscope::cli {

// Reads `path`. On failure prints the error (with what to do next), sets
// ctx.exit_code (65 bad data, 66 no input) and returns nullopt. A truncated
// or corrupt trace prints "ringscope <verb>: warning: ..." and returns what
// was readable.
std::optional<Trace> load_trace_or_report(std::string_view verb, const std::string& path, CliContext& ctx);

}  // namespace ringscope::cli
