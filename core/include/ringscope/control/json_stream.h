// json_stream.h — splits a byte stream into JSON texts, as QMP reads its
// socket: a message is one JSON value, with or without a newline after it
// (QEMU's own Python client sends none), and several may come in one read.
//
// next() returns each complete top-level value's text; anything between
// values that is not whitespace and not the start of an object or array
// (a stray word, a lone number) is returned as one bad text up to the next
// newline, for the caller to answer with a parse error. A value longer than
// the cap is returned as `Overflow` and skipped, so a client cannot make
// the server hold an unbounded message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ringscope::control {

class JsonStream {
 public:
  static constexpr size_t kMaxMessage = 1u << 20;

  struct Piece {
    enum class Kind { Value, Junk, Overflow } kind;
    std::string text;
  };

  void append(std::string_view bytes) { buf_.append(bytes); }
  // The next complete piece, or nullopt until more bytes come.
  std::optional<Piece> next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  void compact();
  std::string buf_;
  size_t pos_ = 0;   // start of the piece being scanned
  size_t scan_ = 0;  // how far it has been scanned (resumed on the next call)
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, skipping_ = false;
};

}  // namespace ringscope::control
