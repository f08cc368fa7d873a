// trace_input.cpp — see trace_input.h.
#include "trace_input.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace ringscope::cli {

namespace {

// The reader's messages say what is wrong and where; the CLI adds what the
// user can do about it, unless the reader already did.
Error with_hint(Error e, const std::string& path) {
  if (e.message.find("ringscope run") != std::string::npos) return e;
  if (e.kind == ErrorKind::NoInput)
    e.message += " Check the path, or record a trace with `ringscope run SCENARIO --trace " + path + "`.";
  else if (e.kind == ErrorKind::BadData)
    e.message += " The file is not a readable ringscope trace (or is from an incompatible version); record it again "
                 "with `ringscope run SCENARIO --trace " + path + "`.";
  return e;
}

}  // namespace

std::optional<Trace> load_trace_or_report(std::string_view verb, const std::string& path, CliContext& ctx) {
  // Checked here as well as in the reader so a missing file is always 66,
  // whatever the reader makes of it.
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    ctx.exit_code = report_error(verb, with_hint(make_error(ErrorKind::NoInput, "no such file: " + path + "."), path));
    return std::nullopt;
  }
  if (std::filesystem::is_directory(path, ec)) {
    ctx.exit_code = report_error(verb, make_error(ErrorKind::NoInput,
                                                  path + " is a directory; give the path of a .rtrace file."));
    return std::nullopt;
  }
  Result<Trace> r = read_trace(path);
  if (!r.ok()) {
    ctx.exit_code = report_error(verb, with_hint(r.error(), path));
    return std::nullopt;
  }
  Trace trace = std::move(r).value();
  if (!trace.warning.empty()) {
    std::fprintf(stderr, "ringscope %.*s: warning: %s\n", static_cast<int>(verb.size()), verb.data(),
                 trace.warning.c_str());
  } else if (!trace.complete) {
    std::fprintf(stderr,
                 "ringscope %.*s: warning: %s has no end-of-trace mark (the run was probably killed); showing the "
                 "%zu events that were written.\n",
                 static_cast<int>(verb.size()), verb.data(), path.c_str(), trace.events.size());
  }
  return trace;
}

}  // namespace ringscope::cli
