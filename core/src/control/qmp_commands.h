// qmp_commands.h — the QMP command table (qmp_commands.cpp), private to the
// server: each command's name, its arguments and what it does.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ringscope/control/qmp_server.h"
#include "ringscope/control/run_control.h"

namespace ringscope::control::qmp {

using Json = nlohmann::json;

// QMP's error classes (QAPI ErrorClass): what a client can tell apart.
inline constexpr const char* kGenericError = "GenericError";
inline constexpr const char* kCommandNotFound = "CommandNotFound";

struct Reply {
  enum class Kind : uint8_t {
    Return,     // {"return": value}
    Error,      // {"error": {"class": error_class, "desc": desc}}
    WaitPause,  // answered {} once the guest has paused (or the run ended)
    WaitStep,   // answered once a step has paused the guest: {"status": ..., "event": ...}
  } kind = Kind::Return;
  Json value = Json::object();
  std::string error_class, desc;

  static Reply ok(Json v = Json::object()) { return {Kind::Return, std::move(v), {}, {}}; }
  static Reply error(std::string desc, const char* cls = kGenericError) {
    return {Kind::Error, Json(), cls, std::move(desc)};
  }
};

enum class ArgType : uint8_t { Int, String, Bool, Array, IntOrString };

struct Arg {
  std::string_view name;
  ArgType type;
  bool required;
};

struct Context {
  RunControl& control;
  const QmpServerInfo& info;
};

struct Command {
  std::string_view name;
  std::span<const Arg> args;
  Reply (*run)(Context& ctx, const Json& args);
};

std::span<const Command> commands();
const Command* find_command(std::string_view name);
// QEMU's messages for a missing, unexpected or mistyped argument; nullopt if they fit.
std::optional<std::string> check_arguments(const Command& c, const Json& args);

}  // namespace ringscope::control::qmp
