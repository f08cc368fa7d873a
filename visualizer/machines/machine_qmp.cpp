// machine_qmp.cpp — the Machines panel's side of QMP (issue 14): each VM's
// `ringscope run --qmp unix:PATH --qmp-wait` waits, paused, for a client;
// the manager connects once the socket is there, negotiates, continues the
// guest (unless it was made to start paused), and then reads the events
// (STOP, RESUME, SHUTDOWN, __org.ringscope_BREAK) once a frame. The buttons
// are QEMU's commands: cont, stop, system_reset, quit, and ringscope's
// __org.ringscope_step-exit, __org.ringscope_console-write and the
// breakpoints (__org.ringscope_break-add, -remove, query-breaks).
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "machines/machine_manager.h"
#include "ringscope/event.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"

namespace ringscope::machines {

namespace {
std::optional<uint64_t> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (errno || !end || *end || s[0] == '-') return std::nullopt;
  return v;
}
}  // namespace

std::optional<nlohmann::json> break_filter(const std::string& kind, const std::string& reason, const std::string& port,
                                           const std::string& vector, std::string* why) {
  nlohmann::json f = nlohmann::json::object();
  auto fail = [&](std::string s) {
    if (why) *why = std::move(s);
    return std::nullopt;
  };
  if (!kind.empty()) {
    if (!kind_from_name(kind)) return fail(trf("'{}' is not an event kind.", kind));
    f["kind"] = kind;
  }
  if (!reason.empty()) {
    if (auto n = number(reason)) {
      if (*n > 0xffff) return fail(trf("{} is not a VT-x exit reason.", reason));
      f["reason"] = *n;
    } else if (exit_reason_from_name(reason)) {
      f["reason"] = reason;
    } else {
      return fail(trf("'{}' is not an exit reason (a number, or a name such as io_instruction).", reason));
    }
  }
  if (!port.empty()) {
    auto n = number(port);
    if (!n || *n > 0xffff) return fail(trf("'{}' is not a port (0 to 0xffff).", port));
    f["port"] = *n;
  }
  if (!vector.empty()) {
    auto n = number(vector);
    if (!n || *n > 255) return fail(trf("'{}' is not a vector (0 to 255).", vector));
    f["vector"] = *n;
  }
  if (f.empty()) return fail(tr("A breakpoint needs a kind, an exit reason, a port or a vector."));
  return f;
}

std::string describe_breakpoint(const nlohmann::json& bp) {
  if (!bp.is_object()) return "?";
  std::string s = fmt::format("#{}", bp.value("id", int64_t{-1}));
  if (bp.contains("kind")) s += " " + bp["kind"].get<std::string>();
  if (bp.contains("reason"))
    s += " reason " + (bp["reason"].is_string() ? bp["reason"].get<std::string>() : bp["reason"].dump());
  if (bp.contains("port")) s += fmt::format(" port 0x{:x}", bp["port"].get<uint64_t>());
  if (bp.contains("vector")) s += fmt::format(" vector {}", bp["vector"].get<uint64_t>());
  return s;
}

namespace {
// Commands answer at once (a step's pause comes later, as events); a VMM
// that does not answer within this is reported, and the viewer goes on.
constexpr int kReplyTimeoutMs = 2000;
}  // namespace

bool MachineManager::command(Machine& m, const char* name, const nlohmann::json& args) {
  if (!m.qmp) {
    m.problem = m.alive() ? trf("{}: {} is not connected to the viewer yet (QMP).", name, m.name)
                          : trf("{} is not running.", m.name);
    return false;
  }
  auto reply = m.qmp->execute(name, args, kReplyTimeoutMs);
  if (!reply) {
    m.problem = trf("{}: {}", name, reply.error().message);
    return false;
  }
  if (auto err = control::QmpClient::error_of(reply.value())) {
    m.problem = trf("{}: {}", name, *err);
    return false;
  }
  m.problem.clear();
  return true;
}

bool MachineManager::refresh_breaks(int id) {
  Machine* m = find(id);
  if (!m || !m->qmp) return false;
  auto reply = m->qmp->execute("__org.ringscope_query-breaks", nullptr, kReplyTimeoutMs);
  if (!reply || control::QmpClient::error_of(reply.value())) return false;
  const nlohmann::json& r = reply.value();
  m->breakpoints = r.contains("return") && r["return"].is_array() ? r["return"] : nlohmann::json::array();
  return true;
}

bool MachineManager::break_add(int id, const nlohmann::json& filter) {
  Machine* m = find(id);
  if (!m) return false;
  if (!filter.is_object() || filter.empty()) {
    m->problem = tr("A breakpoint needs a kind, an exit reason, a port or a vector.");
    return false;
  }
  if (!command(*m, "__org.ringscope_break-add", filter)) return false;
  refresh_breaks(id);
  return true;
}

bool MachineManager::break_remove(int id, int64_t breakpoint) {
  Machine* m = find(id);
  if (!m || !command(*m, "__org.ringscope_break-remove", {{"id", breakpoint}})) return false;
  refresh_breaks(id);
  return true;
}

void MachineManager::poll_qmp(Machine& m) {
  if (m.state == VmState::Building || !m.alive()) return;
  if (!m.qmp) {
    struct stat st {};
    if (stat(m.qmp_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;  // not listening yet
    auto c = control::QmpClient::connect(m.qmp_path, kReplyTimeoutMs);
    if (!c) return;  // tried again next frame
    if (auto st2 = c.value()->negotiate(kReplyTimeoutMs); !st2) {
      m.problem = st2.error().message;
      return;
    }
    m.qmp = std::move(c).value();
    m.breakpoints = nlohmann::json::array();  // a new run has none
    m.state = VmState::Paused;                // --qmp-wait: it waits for cont
    if (!m.spec.start_paused && command(m, "cont")) m.state = VmState::Running;
  }
  if (!m.qmp->pump(0)) {  // the VMM closed the connection: it is ending
    m.qmp.reset();
    return;
  }
  for (const nlohmann::json& e : m.qmp->take_events()) {
    const std::string name = e.value("event", "");
    if (name == "STOP") m.state = VmState::Paused;
    if (name == "RESUME") m.state = VmState::Running;
    if (name == "__org.ringscope_BREAK" && e.contains("data")) {
      m.last_break = e["data"];
      const nlohmann::json& ev = m.last_break.contains("event") ? m.last_break["event"] : nlohmann::json{};
      m.break_seq = ev.is_object() && ev.contains("seq") ? ev["seq"].get<int64_t>() : -1;
      ++m.breaks;
    }
  }
}

}  // namespace ringscope::machines
