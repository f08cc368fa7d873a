// json_stream.cpp — JsonStream (json_stream.h): brace counting that knows
// JSON strings and their escapes; the value itself is parsed by the caller.
#include "ringscope/control/json_stream.h"

namespace ringscope::control {

std::optional<JsonStream::Piece> JsonStream::next() {
  for (;;) {
    if (scan_ < pos_) scan_ = pos_;
    // Between values: skip whitespace; find what starts the next piece.
    if (depth_ == 0 && !skipping_) {
      while (pos_ < buf_.size() &&
             (buf_[pos_] == ' ' || buf_[pos_] == '\t' || buf_[pos_] == '\r' || buf_[pos_] == '\n'))
        pos_++;
      scan_ = pos_;
      if (pos_ == buf_.size()) {
        compact();
        return std::nullopt;
      }
      char c = buf_[pos_];
      if (c != '{' && c != '[') {
        // Junk: up to the next newline (or a brace that starts a value).
        size_t end = pos_;
        while (end < buf_.size() && buf_[end] != '\n' && buf_[end] != '{' && buf_[end] != '[') end++;
        if (end == buf_.size() && end - pos_ < kMaxMessage) {
          compact();
          return std::nullopt;  // the rest of the word may still come
        }
        Piece p{Piece::Kind::Junk, buf_.substr(pos_, std::min(end - pos_, size_t(80)))};
        pos_ = end;
        return p;
      }
    }
    for (; scan_ < buf_.size(); scan_++) {
      char c = buf_[scan_];
      if (in_string_) {
        if (escape_)
          escape_ = false;
        else if (c == '\\')
          escape_ = true;
        else if (c == '"')
          in_string_ = false;
        continue;
      }
      if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        depth_++;
      } else if (c == '}' || c == ']') {
        if (--depth_ == 0) {
          size_t end = scan_ + 1;
          // Past the cap whether it came in pieces (skipping) or all at
          // once: how the bytes arrived must not change the answer.
          bool overflow = skipping_ || end - pos_ > kMaxMessage;
          Piece p{overflow ? Piece::Kind::Overflow : Piece::Kind::Value,
                  overflow ? std::string() : buf_.substr(pos_, end - pos_)};
          skipping_ = false;
          pos_ = scan_ = end;
          return p;
        }
      }
    }
    // Incomplete. Past the cap, keep only the counting state.
    if (scan_ - pos_ > kMaxMessage) {
      skipping_ = true;
      pos_ = scan_;
    }
    compact();
    return std::nullopt;
  }
}

void JsonStream::compact() {
  if (pos_ == 0) return;
  buf_.erase(0, pos_);
  scan_ -= pos_;
  pos_ = 0;
}

}  // namespace ringscope::control
