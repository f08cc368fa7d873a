// trace_input.cpp — see trace_input.h.
#include "trace_input.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "ringscope/i18n.h"
#include "ringscope/terminal_text.h"

namespace ringscope::cli {

// The reader's messages say what is wrong and where; the CLI adds what the
// user can do about it, unless the reader already did.
Error trace_error_with_hint(Error e, const std::string& path) {
  if (e.message.find("ringscope run") != std::string::npos) return e;
  if (e.kind == ErrorKind::NoInput)
    e.message += trf(" Check the path, or record a trace with `ringscope run SCENARIO --trace {}`.", path);
  else if (e.kind == ErrorKind::BadData)
    e.message +=
        trf(" The file is not a readable ringscope trace (or is from an incompatible version); record it again with "
            "`ringscope run SCENARIO --trace {}`.",
            path);
  return e;
}

bool check_trace_path(std::string_view verb, const std::string& path, CliContext& ctx) {
  // Checked here as well as in the reader so a missing file is always 66,
  // whatever the reader makes of it.
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    ctx.exit_code =
        report_error(verb, trace_error_with_hint(make_error(ErrorKind::NoInput, trf("no such file: {}.", path)), path));
    return false;
  }
  if (std::filesystem::is_directory(path, ec)) {
    ctx.exit_code = report_error(
        verb, make_error(ErrorKind::NoInput, trf("{} is a directory; give the path of a .rtrace file.", path)));
    return false;
  }
  return true;
}

void report_read_warning(std::string_view verb, const std::string& path, const ReadSummary& summary) {
  if (!summary.warning.empty()) {
    trprint(stderr, "ringscope {}: warning: {}\n", verb, escape_terminal(summary.warning));
  } else if (!summary.complete) {
    trprint(stderr,
            "ringscope {}: warning: {} has no end-of-trace mark (the run was probably killed); read the {} events "
            "that were written.\n",
            verb, escape_terminal(path), summary.events);
  }
}

bool stream_trace_or_report(std::string_view verb, const std::string& path, CliContext& ctx,
                            const EventCallback& on_event, TraceRead& read) {
  if (!check_trace_path(verb, path, ctx)) return false;
  Status s = for_each_event(path, ReadOptions{}, on_event, &read.header, &read.summary);
  if (!s.ok()) {
    ctx.exit_code = report_error(verb, trace_error_with_hint(s.error(), path));
    return false;
  }
  return true;
}

}  // namespace ringscope::cli
