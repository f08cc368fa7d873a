// po_file.cpp — the PO reader and the placeholder list (po_file.h).
#include "po_file.h"

#include <algorithm>
#include <fstream>

namespace ringscope::testing {

namespace {

// The C-style string of one PO line ("...", with \" \\ \n \t escapes).
std::string unquote(const std::string& line) {
  size_t a = line.find('"'), b = line.rfind('"');
  std::string out;
  if (a == std::string::npos || b <= a) return out;
  for (size_t i = a + 1; i < b; ++i) {
    if (line[i] != '\\' || i + 1 >= b) {
      out += line[i];
      continue;
    }
    char c = line[++i];
    out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
  }
  return out;
}

}  // namespace

// Entries are separated by blank lines, as xgettext, msgmerge and every PO
// editor write them.
std::vector<PoEntry> read_po(const std::string& path) {
  std::vector<PoEntry> entries;
  std::ifstream in(path);
  PoEntry cur;
  std::string* field = nullptr;
  auto flush = [&] {
    if (!cur.msgid.empty()) entries.push_back(cur);
    cur = {};
    field = nullptr;
  };
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      flush();
    else if (line.starts_with("#~"))
      field = nullptr;  // an obsolete entry
    else if (line.starts_with("#,") && line.find("fuzzy") != std::string::npos)
      cur.fuzzy = true;
    else if (line.starts_with("msgid "))
      *(field = &cur.msgid) = unquote(line);
    else if (line.starts_with("msgstr "))
      *(field = &cur.msgstr) = unquote(line);
    else if (line.starts_with("\"") && field)
      *field += unquote(line);
  }
  flush();
  return entries;
}

std::vector<std::pair<int, std::string>> placeholders(const std::string& f) {
  std::vector<std::pair<int, std::string>> out;
  int next = 0;
  bool automatic = false, manual = false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        ++i;
        continue;
      }
      return {{-1, "unmatched }"}};
    }
    if (f[i] != '{') continue;
    if (i + 1 < f.size() && f[i + 1] == '{') {
      ++i;
      continue;
    }
    size_t close = f.find('}', i);
    if (close == std::string::npos) return {{-1, "unmatched {"}};
    std::string inner = f.substr(i + 1, close - i - 1);
    size_t colon = inner.find(':');
    std::string index = inner.substr(0, colon), spec = colon == std::string::npos ? "" : inner.substr(colon);
    int n;
    if (index.empty()) {
      automatic = true;
      n = next++;
    } else if (std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      manual = true;
      n = std::stoi(index);
    } else {
      return {{-1, "named argument {" + inner + "}"}};
    }
    if (automatic && manual) return {{-1, "automatic and manual argument indexes mixed"}};
    out.emplace_back(n, spec);
    i = close;
  }
  std::sort(out.begin(), out.end());
  // An argument used twice counts once: a translation may repeat or drop a
  // repeat of the same value ("/proc/PID/task/{2}").
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ringscope::testing
