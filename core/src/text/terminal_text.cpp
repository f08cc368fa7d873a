// terminal_text.cpp — see terminal_text.h.
#include "ringscope/terminal_text.h"

#include <cstdint>

namespace ringscope {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_hex(std::string& out, std::string_view prefix, unsigned v, int digits) {
  out += prefix;
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 15];
}

void escape_control(std::string& out, unsigned char c, TerminalText mode) {
  switch (c) {
    case '\n':
      if (mode == TerminalText::Lines)
        out += '\n';
      else
        out += "\\n";
      return;
    case '\t':
      if (mode == TerminalText::Lines)
        out += '\t';
      else
        out += "\\t";
      return;
    case '\r': out += "\\r"; return;
    case 0x1b: out += "\\e"; return;
    default: put_hex(out, "\\x", c, 2); return;
  }
}

// The length of the UTF-8 sequence starting at s[i] if it is valid and
// complete (1-4), or 0. Overlong forms, surrogates and code points past
// U+10FFFF are invalid.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  uint32_t cp = b0 & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

void append_escaped(std::string& out, std::string_view s, TerminalText mode) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {  // the common case: printable ASCII
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      escape_control(out, c, mode);
      ++i;
      continue;
    }
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      put_hex(out, "\\x", c, 2);
      ++i;
      continue;
    }
    if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {  // C1: U+0080..U+009F
      put_hex(out, "\\u", static_cast<unsigned char>(s[i + 1]), 4);
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
}

std::string escape_terminal(std::string_view s, TerminalText mode) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, mode);
  return out;
}

std::string json_terminal_safe(std::string json) {
  // C1 controls are the only ones nlohmann leaves raw; in UTF-8 each is
  // 0xc2 followed by 0x80..0x9f, and both bytes are inside a string.
  if (json.find('\xc2') == std::string::npos) return json;
  std::string out;
  out.reserve(json.size() + 16);
  for (size_t i = 0; i < json.size(); ++i) {
    const auto c = static_cast<unsigned char>(json[i]);
    if (c == 0xc2 && i + 1 < json.size() && static_cast<unsigned char>(json[i + 1]) < 0xa0 &&
        static_cast<unsigned char>(json[i + 1]) >= 0x80) {
      put_hex(out, "\\u", static_cast<unsigned char>(json[i + 1]), 4);
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string_view TerminalStream::put(char ch) {
  out_.clear();
  const auto c = static_cast<unsigned char>(ch);
  if (held_len_ == 0) {
    if (c < 0x80) {
      append_escaped(out_, std::string_view(&ch, 1), TerminalText::Lines);
      return out_;
    }
    need_ = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
    held_[held_len_++] = ch;
  } else if ((c & 0xc0) == 0x80) {
    held_[held_len_++] = ch;
  } else {
    // The held sequence was cut short: show it as bytes, then this byte afresh.
    std::string cut = escape_terminal(std::string_view(held_, held_len_), TerminalText::Lines);
    held_len_ = 0;
    std::string rest(put(ch));
    out_ = cut + rest;
    return out_;
  }
  if (held_len_ >= need_) {
    append_escaped(out_, std::string_view(held_, held_len_), TerminalText::Lines);
    held_len_ = 0;
  }
  return out_;
}

std::string TerminalStream::finish() {
  std::string out = escape_terminal(std::string_view(held_, held_len_), TerminalText::Lines);
  held_len_ = 0;
  return out;
}

}  // namespace ringscope
