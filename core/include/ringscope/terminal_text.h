// terminal_text.h — guest-chosen text made safe to print on a terminal.
//
// Marker labels, console output, run-end messages and every string read
// from a trace file are chosen by a guest (or by whoever wrote the file).
// Printed raw they could carry terminal escape sequences: CSI (ESC [ ...)
// that moves the cursor or recolours the screen, OSC (ESC ] ...) that sets
// the window title, writes the clipboard or makes hyperlinks. Every verb
// that prints such text passes it through here; this is the one place the
// rule lives.
//
// The rule: C0 controls (0x00-0x1f), DEL (0x7f), the C1 controls U+0080-
// U+009F (0x9b is an 8-bit CSI) and bytes that are not valid UTF-8 are
// written as visible escapes (\e, \n, \x1b, \u009b); every other character,
// including non-ASCII text such as Korean, is kept as it is. Backslashes are
// not doubled: the result is for reading, not for parsing back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringscope {

// What escape_terminal keeps. Lines: '\n' and '\t' pass through (console
// output shown as lines); Single: they are escaped too (a label inside a
// table row must stay on its row).
enum class TerminalText { Single, Lines };

// `s` with every control character and invalid byte escaped.
std::string escape_terminal(std::string_view s, TerminalText mode = TerminalText::Single);

// Appends escape_terminal(s, mode) to `out`.
void append_escaped(std::string& out, std::string_view s, TerminalText mode = TerminalText::Single);

// A JSON document (as nlohmann dumps it, control characters already
// \u-escaped) with the C1 controls, which JSON allows raw inside strings,
// written as \u0080-\u009f too. Everything else is unchanged.
std::string json_terminal_safe(std::string json);

// escape_terminal for a byte stream that arrives one byte at a time (the
// guest console echoed while a run is going): keeps '\n' and '\t', holds an
// incomplete UTF-8 sequence until it is complete. put() returns the text to
// print for this byte (often the byte itself, sometimes nothing yet).
class TerminalStream {
 public:
  std::string_view put(char c);
  // Whatever is still held (an unfinished UTF-8 sequence), escaped.
  std::string finish();

 private:
  char held_[4] = {};
  size_t held_len_ = 0;
  size_t need_ = 0;  // bytes the held sequence needs in all
  std::string out_;
};

}  // namespace ringscope
