// report.cpp — how every verb reports a failure: one sentence on stderr,
// prefixed with the command and verb, and an exit code from the error's
// kind, so scripts can rely on the code and people can read the sentence.
#include <cstdio>
#include <string>

#include "commands.h"
#include "ringscope/i18n.h"
#include "ringscope/result.h"
#include "ringscope/terminal_text.h"

namespace ringscope {

// sysexits.h numbers (spelled out here rather than including the BSD
// header, so the contract is visible in one place; README.md "The command").
int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return 64;        // EX_USAGE
    case ErrorKind::BadData: return 65;      // EX_DATAERR
    case ErrorKind::NoInput: return 66;      // EX_NOINPUT
    case ErrorKind::Unavailable: return 69;  // EX_UNAVAILABLE
    case ErrorKind::Internal: return 70;     // EX_SOFTWARE
    case ErrorKind::IoError: return 74;      // EX_IOERR
  }
  return 70;  // an ErrorKind this switch does not know is a bug
}

namespace cli {

int report_error(std::string_view verb, const Error& error) {
  std::string msg =
      error.message.empty() ? std::string(tr("failed for an unknown reason (this is a bug)")) : error.message;
  // A message can quote a guest (a run's end) or a file: no escape sequences.
  std::fprintf(stderr, "ringscope %.*s: %s\n", static_cast<int>(verb.size()), verb.data(),
               escape_terminal(msg, TerminalText::Lines).c_str());
  return exit_code_for(error.kind);
}

}  // namespace cli
}  // namespace ringscope
