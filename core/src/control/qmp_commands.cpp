// qmp_commands.cpp — every QMP command the server knows, in one table
// (docs/qmp.md lists them with examples). QEMU's own names and shapes
// first, then ringscope's under QAPI's downstream prefix __org.ringscope_.
#include "qmp_commands.h"

#include <fmt/format.h>

#include <array>

#include "ringscope/event_schema.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"
#include "ringscope/version.h"

namespace ringscope::control::qmp {

namespace {

Reply from_status(const Status& s) { return s.ok() ? Reply::ok() : Reply::error(s.error().message); }

// ---- QEMU's commands ---------------------------------------------------------

Reply qmp_capabilities(Context&, const Json&) { return Reply::ok(); }  // the server tracks negotiation

Reply query_status(Context& c, const Json&) {
  RunStatus s = c.control.status();
  return Reply::ok({{"running", s == RunStatus::Running}, {"singlestep", false}, {"status", run_status_name(s)}});
}

Reply stop(Context& c, const Json&) {
  Status s = c.control.pause(PauseCause::User);
  if (!s.ok()) return from_status(s);
  if (c.control.pause_complete()) return Reply::ok();
  return {Reply::Kind::WaitPause, Json::object(), {}, {}};
}

Reply cont(Context& c, const Json&) { return from_status(c.control.resume()); }
Reply system_reset(Context& c, const Json&) { return from_status(c.control.reset()); }
Reply quit(Context& c, const Json&) { return from_status(c.control.quit()); }

Reply query_cpus_fast(Context& c, const Json&) {
  Json out = Json::array();
  for (const auto& v : c.control.vcpus()) {
    out.push_back({{"cpu-index", v.index},
                   {"qom-path", fmt::format("/machine/unattached/device[{}]", v.index)},
                   {"thread-id", v.thread_id},
                   {"props", {{"core-id", 0}, {"thread-id", 0}, {"socket-id", v.index}}},
                   {"target", "x86_64"}});
  }
  return Reply::ok(out);
}

Reply query_name(Context& c, const Json&) {
  if (c.info.name.empty()) return Reply::ok();
  return Reply::ok({{"name", c.info.name}});
}

Reply query_version(Context&, const Json&) {
  // QEMU's shape; the numbers are ringscope's own version.
  int major = 0, minor = 0, micro = 0;
  std::sscanf(kVersion, "%d.%d.%d", &major, &minor, &micro);
  return Reply::ok({{"qemu", {{"major", major}, {"minor", minor}, {"micro", micro}}},
                    {"package", fmt::format("ringscope {}", kVersion)}});
}

Reply query_commands(Context&, const Json&) {
  Json out = Json::array();
  for (const Command& cmd : commands()) out.push_back({{"name", cmd.name}});
  return Reply::ok(out);
}

// As QEMU's: the guest's target size in bytes; the balloon's driver gives
// up (or takes back) what lies above it. Answers at once, as QEMU does: the
// guest gets there when it gets there (query-balloon, the BALLOON_CHANGE
// QEMU would send is left out).
Reply balloon(Context& c, const Json& a) {
  int64_t value = a["value"].get<int64_t>();
  if (value <= 0) return Reply::error(tr("'value' is the guest's target size in bytes, more than 0"));
  return from_status(c.control.balloon(static_cast<uint64_t>(value)));
}

Reply query_balloon(Context& c, const Json&) {
  std::optional<uint64_t> actual = c.control.balloon_actual_bytes();
  if (!actual) return Reply::error(tr("No balloon device has been activated (run --balloon)"));
  return Reply::ok({{"actual", *actual}});
}

// ---- ringscope's commands -----------------------------------------------------

Reply step_exit(Context& c, const Json&) {
  Status s = c.control.step_exit();
  if (!s.ok()) return from_status(s);
  return {Reply::Kind::WaitStep, Json::object(), {}, {}};
}

Reply step_instruction(Context& c, const Json&) {
  Status s = c.control.step_instruction();
  if (!s.ok()) return from_status(s);
  return {Reply::Kind::WaitStep, Json::object(), {}, {}};
}

// {kind?, reason?, port?, vector?}: the EventFilter keys (event_filter.h),
// the same names as `show --json` and `show --kind`.
Reply break_add(Context& c, const Json& a) {
  EventFilter f;
  Json spec = Json::object();
  if (a.contains("kind")) {
    auto k = kind_from_name(a["kind"].get<std::string>());
    if (!k)
      return Reply::error(
          trf("'{}' is not an event kind (vm_exit, trap, hypercall, device, ...)", a["kind"].get<std::string>()));
    f.add_kind(*k);
    spec["kind"] = a["kind"];
  }
  if (a.contains("reason")) {
    std::optional<uint16_t> r;
    if (a["reason"].is_string()) {
      r = exit_reason_from_name(a["reason"].get<std::string>());
      if (!r)
        return Reply::error(trf("'{}' is not an exit reason name (io_instruction, hlt, ...) or number",
                                a["reason"].get<std::string>()));
    } else {
      int64_t n = a["reason"].get<int64_t>();
      if (n < 0 || n > 0xffff) return Reply::error(tr("'reason' is a VT-x basic exit reason, 0 to 65535"));
      r = static_cast<uint16_t>(n);
    }
    f.reason = r;
    spec["reason"] = *r;
  }
  if (a.contains("port")) {
    int64_t n = a["port"].get<int64_t>();
    if (n < 0 || n > 0xffff) return Reply::error(tr("'port' is an I/O port, 0 to 65535"));
    f.port = static_cast<uint16_t>(n);
    spec["port"] = n;
  }
  if (a.contains("vector")) {
    int64_t n = a["vector"].get<int64_t>();
    if (n < 0 || n > 255) return Reply::error(tr("'vector' is an interrupt vector, 0 to 255"));
    f.vector = static_cast<uint8_t>(n);
    spec["vector"] = n;
  }
  if (spec.empty()) return Reply::error(tr("give at least one of 'kind', 'reason', 'port', 'vector'"));
  auto id = c.control.add_breakpoint(std::move(f), spec.dump());
  if (!id.ok()) return Reply::error(id.error().message);
  return Reply::ok({{"id", id.value()}});
}

Reply break_remove(Context& c, const Json& a) {
  int64_t id = a["id"].get<int64_t>();
  if (id < 0 || id > UINT32_MAX) return Reply::error(trf("no breakpoint {}", id));
  return from_status(c.control.remove_breakpoint(static_cast<uint32_t>(id)));
}

Reply query_breaks(Context& c, const Json&) {
  Json out = Json::array();
  for (const Breakpoint& b : c.control.breakpoints()) {
    Json j = Json::parse(b.spec, nullptr, false);
    if (!j.is_object()) j = Json::object();
    j["id"] = b.id;
    out.push_back(std::move(j));
  }
  return Reply::ok(out);
}

Reply query_registers(Context& c, const Json& a) {
  int64_t cpu = a.value("cpu-index", int64_t{0});
  if (cpu < 0 || cpu > UINT32_MAX) return Reply::error(trf("no vCPU {}", cpu));
  auto r = c.control.registers(static_cast<uint32_t>(cpu));
  if (!r.ok()) return Reply::error(r.error().message);
  const GuestRegs& g = r.value();
  return Reply::ok({{"cpu-index", cpu}, {"rax", g.rax}, {"rbx", g.rbx}, {"rcx", g.rcx},       {"rdx", g.rdx},
                    {"rsi", g.rsi},     {"rdi", g.rdi}, {"rbp", g.rbp}, {"rsp", g.rsp},       {"r8", g.r8},
                    {"r9", g.r9},       {"r10", g.r10}, {"r11", g.r11}, {"r12", g.r12},       {"r13", g.r13},
                    {"r14", g.r14},     {"r15", g.r15}, {"rip", g.rip}, {"rflags", g.rflags}, {"cr0", g.cr0},
                    {"cr2", g.cr2},     {"cr3", g.cr3}, {"cr4", g.cr4}, {"efer", g.efer},     {"cs", g.cs},
                    {"ss", g.ss},       {"cpl", g.cpl}});
}

// The run's recent history, whenever the client connected: the latest
// `count` events, or with `since` the first `count` after that seq (a
// client polls with the last seq it saw and learns how many it missed).
Reply query_events(Context& c, const Json& a) {
  int64_t n = a.value("count", int64_t{32});
  if (n < 0) return Reply::error(tr("'count' is how many of the latest events to return, 0 or more"));
  std::optional<uint64_t> since;
  if (a.contains("since")) {
    int64_t s = a["since"].get<int64_t>();
    if (s < 0) return Reply::error(tr("'since' is the seq of the last event you have, 0 or more"));
    since = static_cast<uint64_t>(s);
  }
  EventRing::Window w = c.control.ring().query(since, static_cast<size_t>(n));
  Json events = Json::array();
  for (const std::string& line : w.events) events.push_back(Json::parse(line, nullptr, false));
  uint64_t total = c.info.trace_events ? c.info.trace_events() : c.control.ring().total();
  Json r = {{"events", std::move(events)}, {"total", total}, {"oldest", w.oldest}};
  if (since) r["dropped"] = w.dropped;
  return Reply::ok(std::move(r));
}

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char ch : in) {
    if (ch == '=') {
      pad++;
      continue;
    }
    if (ch == '\n' || ch == '\r') continue;
    int v = value(ch);
    if (v < 0 || pad) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

// As QEMU's ringbuf-write: {data, format?: "utf8" | "base64"}.
Reply console_write(Context& c, const Json& a) {
  std::string format = a.value("format", std::string("utf8"));
  std::string data = a["data"].get<std::string>();
  if (format == "base64") {
    auto bytes = base64_decode(data);
    if (!bytes) return Reply::error(tr("'data' is not valid base64"));
    data = std::move(*bytes);
  } else if (format != "utf8") {
    return Reply::error(trf("'format' is utf8 or base64, not '{}'", format));
  }
  if (data.size() > RunControl::kMaxPendingInput)
    return Reply::error(trf("at most {} bytes at a time", RunControl::kMaxPendingInput));
  c.control.console_write(data);
  return Reply::ok();
}

Reply query_trace(Context& c, const Json&) {
  return Reply::ok({{"path", c.info.trace_path}, {"events", c.info.trace_events ? c.info.trace_events() : 0}});
}

constexpr std::array<Arg, 1> kCapabilitiesArgs{{{"enable", ArgType::Array, false}}};
constexpr std::array<Arg, 4> kBreakArgs{{{"kind", ArgType::String, false},
                                         {"reason", ArgType::IntOrString, false},
                                         {"port", ArgType::Int, false},
                                         {"vector", ArgType::Int, false}}};
constexpr std::array<Arg, 1> kIdArg{{{"id", ArgType::Int, true}}};
constexpr std::array<Arg, 1> kCpuArg{{{"cpu-index", ArgType::Int, false}}};
constexpr std::array<Arg, 2> kEventsArgs{{{"count", ArgType::Int, false}, {"since", ArgType::Int, false}}};
constexpr std::array<Arg, 1> kBalloonArgs{{{"value", ArgType::Int, true}}};
constexpr std::array<Arg, 2> kConsoleArgs{{{"data", ArgType::String, true}, {"format", ArgType::String, false}}};

#define RS_VENDOR "__org.ringscope_"
const std::array<Command, 21> kCommands{{
    {"qmp_capabilities", kCapabilitiesArgs, qmp_capabilities},
    {"query-status", {}, query_status},
    {"stop", {}, stop},
    {"cont", {}, cont},
    {"system_reset", {}, system_reset},
    {"quit", {}, quit},
    {"query-cpus-fast", {}, query_cpus_fast},
    {"query-name", {}, query_name},
    {"query-version", {}, query_version},
    {"query-commands", {}, query_commands},
    {"balloon", kBalloonArgs, balloon},
    {"query-balloon", {}, query_balloon},
    {RS_VENDOR "step-exit", {}, step_exit},
    {RS_VENDOR "step-instruction", {}, step_instruction},
    {RS_VENDOR "break-add", kBreakArgs, break_add},
    {RS_VENDOR "break-remove", kIdArg, break_remove},
    {RS_VENDOR "query-breaks", {}, query_breaks},
    {RS_VENDOR "query-registers", kCpuArg, query_registers},
    {RS_VENDOR "query-events", kEventsArgs, query_events},
    {RS_VENDOR "console-write", kConsoleArgs, console_write},
    {RS_VENDOR "query-trace", {}, query_trace},
}};
#undef RS_VENDOR

std::string_view type_name(ArgType t) {
  switch (t) {
    case ArgType::Int: return "integer";
    case ArgType::String: return "string";
    case ArgType::Bool: return "boolean";
    case ArgType::Array: return "array";
    case ArgType::IntOrString: return "integer or string";
  }
  return "value";
}

bool has_type(const Json& v, ArgType t) {
  switch (t) {
    case ArgType::Int: return v.is_number_integer();
    case ArgType::String: return v.is_string();
    case ArgType::Bool: return v.is_boolean();
    case ArgType::Array: return v.is_array();
    case ArgType::IntOrString: return v.is_number_integer() || v.is_string();
  }
  return false;
}

}  // namespace

std::span<const Command> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  for (const Command& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<std::string> check_arguments(const Command& c, const Json& args) {
  if (!args.is_object()) return "QMP input member 'arguments' must be an object";
  for (const auto& [key, value] : args.items()) {
    const Arg* found = nullptr;
    for (const Arg& a : c.args)
      if (a.name == key) found = &a;
    if (!found) return fmt::format("Parameter '{}' is unexpected", key);
    if (!has_type(value, found->type))
      return fmt::format("Invalid parameter type for '{}', expected: {}", key, type_name(found->type));
  }
  for (const Arg& a : c.args)
    if (a.required && !args.contains(a.name)) return fmt::format("Parameter '{}' is missing", a.name);
  return std::nullopt;
}

}  // namespace ringscope::control::qmp
