// cmd_qmp.cpp — `ringscope qmp PATH COMMAND [ARGS]`: one QMP command to a
// running guest from a shell (docs/qmp.md), through control::QmpClient.
#include <fmt/format.h>

#include "commands.h"
#include "ringscope/control/qmp_client.h"
#include "ringscope/i18n.h"

namespace ringscope::cli {

namespace {

using Json = nlohmann::json;

struct QmpArgs {
  std::string path;
  std::string command;
  std::vector<std::string> args;
  double timeout_s = 0;
};

// ARGS: one JSON object, or key=value words (a value that reads as an
// integer, true or false is one; anything else is a string) and key:=JSON
// words (the value as JSON: data:='"123"' for a string of digits).
Result<Json> parse_arguments(const std::vector<std::string>& words) {
  Json args = Json::object();
  if (words.size() == 1 && !words[0].empty() && words[0][0] == '{') {
    args = Json::parse(words[0], nullptr, false);
    if (args.is_discarded() || !args.is_object())
      return make_error(ErrorKind::Usage, trf("'{}' is not a JSON object; give {{\"key\": value, ...}} or "
                                              "key=value words",
                                              words[0]));
    return args;
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(ErrorKind::Usage, trf("'{}' is not key=value (or key:=JSON, or one JSON object); for example "
                                              "__org.ringscope_break-add kind=vm_exit port=1016",
                                              w));
    if (w[eq - 1] == ':') {
      Json v = Json::parse(w.substr(eq + 1), nullptr, false);
      if (v.is_discarded()) return make_error(ErrorKind::Usage, trf("'{}': the value after := is not JSON", w));
      args[w.substr(0, eq - 1)] = v;
      continue;
    }
    std::string key = w.substr(0, eq), value = w.substr(eq + 1);
    Json v = value;
    if (value == "true" || value == "false") {
      v = value == "true";
    } else if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos && value.size() < 19) {
      v = std::stoll(value);
    } else if (value.size() > 2 && value.starts_with("0x") &&
               value.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos && value.size() < 18) {
      v = std::stoll(value.substr(2), nullptr, 16);
    }
    args[key] = v;
  }
  return args;
}

int do_qmp(const QmpArgs& a) {
  auto args = parse_arguments(a.args);
  if (!args.ok()) return report_error("qmp", args.error());
  int timeout_ms = a.timeout_s > 0 ? static_cast<int>(a.timeout_s * 1000) : -1;
  auto client = control::QmpClient::connect(a.path, timeout_ms < 0 ? 5000 : timeout_ms);
  if (!client.ok()) return report_error("qmp", client.error());
  control::QmpClient& c = *client.value();
  if (a.command != "qmp_capabilities") {
    Status st = c.negotiate();
    if (!st.ok()) return report_error("qmp", st.error());
  }
  auto reply = c.execute(a.command, args.value(), timeout_ms);
  if (!reply.ok()) return report_error("qmp", reply.error());
  if (auto e = control::QmpClient::error_of(reply.value())) {
    trprint(stderr, "ringscope qmp: {}\n", *e);
    return 1;
  }
  const Json& ret = reply.value().contains("return") ? reply.value()["return"] : reply.value();
  fmt::print("{}\n", ret.dump(2, ' ', false, Json::error_handler_t::replace));
  return 0;
}

}  // namespace

void add_qmp_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<QmpArgs>();
  auto* cmd = app.add_subcommand("qmp", "Send one QMP command to a guest started with `run --qmp unix:PATH`");
  cmd->footer(
      "Examples:\n"
      "  ringscope run syscalls --qmp unix:/tmp/vm.qmp --qmp-wait &\n"
      "  ringscope qmp /tmp/vm.qmp query-status\n"
      "  ringscope qmp /tmp/vm.qmp __org.ringscope_step-exit       # run to the next VM exit, pause\n"
      "  ringscope qmp /tmp/vm.qmp __org.ringscope_query-registers\n"
      "  ringscope qmp /tmp/vm.qmp __org.ringscope_break-add kind=vm_exit port=0x3f8\n"
      "  ringscope qmp /tmp/vm.qmp __org.ringscope_query-events count=5\n"
      "  ringscope qmp /tmp/vm.qmp cont\n"
      "  ringscope qmp /tmp/vm.qmp query-commands                 # every command (docs/qmp.md)\n"
      "Arguments: key=value (integers, true and false as such, else strings), key:=JSON, or one JSON object.\n"
      "Prints the reply's \"return\" as JSON. Exit status: 0 success; 1 the command failed (its error on\n"
      "stderr); 64 usage; 66 no socket there; 69 not a QMP server or the connection broke.");
  cmd->add_option("socket", a->path, "The QMP socket: PATH or unix:PATH")->required();
  cmd->add_option("command", a->command, "The command (query-commands lists them)")->required();
  cmd->add_option("args", a->args, "Its arguments: key=value, key:=JSON, or one JSON object");
  cmd->add_option("--timeout", a->timeout_s, "Give up after this many seconds (default: wait for the reply)");
  cmd->callback([a, &ctx] { ctx.exit_code = do_qmp(*a); });
}

}  // namespace ringscope::cli
