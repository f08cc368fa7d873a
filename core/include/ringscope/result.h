// result.h — Result<T>: a value or an Error that reads as a sentence.
//
// No exceptions cross the vCPU loop or C callbacks (STYLE.md, SerenityOS
// idiom). A failure that would be a bug asserts; everything else returns an
// Error whose message tells the user what happened and what to do next.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ringscope {

// Error categories map onto the command's documented exit codes
// (sysexits.h convention), so the CLI never has to guess.
enum class ErrorKind {
  Usage,        // 64 EX_USAGE: bad command line
  BadData,      // 65 EX_DATAERR: corrupt trace, bad manifest, bad ELF
  NoInput,      // 66 EX_NOINPUT: file or scenario not found
  Unavailable,  // 69 EX_UNAVAILABLE: host cannot do it (no /dev/kvm, PVM quirk)
  Internal,     // 70 EX_SOFTWARE: a bug or an unexpected OS failure
  IoError,      // 74 EX_IOERR: cannot write an output file
};

int exit_code_for(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;  // a sentence; says what to do next where possible
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Status(Ok{}); }

}  // namespace ringscope

// TRY(expr): evaluate a Result; on error return it from the enclosing function.
#define RS_CONCAT_INNER(a, b) a##b
#define RS_CONCAT(a, b) RS_CONCAT_INNER(a, b)
#define TRY_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                    \
  if (!tmp.ok()) return tmp.error();    \
  lhs = std::move(tmp).value()
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL(RS_CONCAT(try_tmp_, __LINE__), lhs, expr)
#define TRY(expr)                                      \
  do {                                                 \
    auto try_status_ = (expr);                         \
    if (!try_status_.ok()) return try_status_.error(); \
  } while (0)
