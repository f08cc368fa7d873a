// po_file.h — just enough of the PO format for the catalogue tests: entries
// with msgid, msgstr and the fuzzy flag; and the fmt placeholders of a
// format string, so a translation can be held to its source's.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ringscope::testing {

struct PoEntry {
  std::string msgid, msgstr;
  bool fuzzy = false;
};

// The entries of a .po or .pot file, the header (empty msgid) left out.
std::vector<PoEntry> read_po(const std::string& path);

// The placeholders of an fmt format string as (argument index, spec)
// pairs, sorted: "{} {:x}" and "{1:x} {0}" both give {(0,""), (1,":x")}.
// Automatic numbering is turned into explicit indexes so a translation may
// reorder its arguments. "{{" and "}}" are text. A malformed string gives
// {(-1, what is wrong)}.
std::vector<std::pair<int, std::string>> placeholders(const std::string& format);

}  // namespace ringscope::testing
