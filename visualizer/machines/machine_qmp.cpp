// machine_qmp.cpp — the Machines panel's side of QMP (issue 14): each VM's
// `ringscope run --qmp unix:PATH --qmp-wait` waits, paused, for a client;
// the manager connects once the socket is there, negotiates, continues the
// guest (unless it was made to start paused), and then reads the events
// (STOP, RESUME, SHUTDOWN, __org.ringscope_BREAK) once a frame. The buttons
// are QEMU's commands: cont, stop, system_reset, quit, and ringscope's
// __org.ringscope_step-exit and __org.ringscope_console-write.
#include <sys/stat.h>

#include "machines/machine_manager.h"
#include "ringscope/i18n.h"

namespace ringscope::machines {

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
    m.state = VmState::Paused;  // --qmp-wait: it waits for cont
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
