// trace_input.h — reading the FILE argument of show, stats and export the
// same way: streamed (one event at a time, nothing kept), clear errors with
// the right exit code when nothing is readable, the reader's warning on
// stderr when only a prefix is.
#pragma once

#include <string>
#include <string_view>

#include "commands.h"
#include "ringscope/trace.h"

namespace ringscope::cli {

// What a streamed read found besides the events.
struct TraceRead {
  TraceHeader header;   // filled before the first event is passed on
  ReadSummary summary;  // after the read: events, complete, warning
};

// Checks `path` names a file, then reads it with for_each_event, passing each
// event to `on_event` (return false to stop early). On failure prints the
// error (with what to do next), sets ctx.exit_code (65 bad data, 66 no input,
// 74 I/O) and returns false. A truncated or corrupt trace is not a failure:
// the events before the damage are passed on, and "ringscope <verb>: warning:
// ..." is printed after them.
bool stream_trace_or_report(std::string_view verb, const std::string& path, CliContext& ctx,
                            const EventCallback& on_event, TraceRead& read);

// The "ringscope <verb>: warning: ..." line for what a read found, if anything
// (an incomplete trace, damage); nothing for a complete trace.
void report_read_warning(std::string_view verb, const std::string& path, const ReadSummary& summary);

// Checks that `path` exists and is not a directory (the reader's own error
// for those is less helpful); on failure reports it as above and returns false.
bool check_trace_path(std::string_view verb, const std::string& path, CliContext& ctx);

// The reader's error with what the user can do about it.
Error trace_error_with_hint(Error e, const std::string& path);

}  // namespace ringscope::cli
