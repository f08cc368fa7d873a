// qmp_server.h — QEMU's Machine Protocol on a UNIX socket, for a running
// guest (`ringscope run --qmp unix:PATH`; docs/qmp.md).
//
// QEMU's JSON shapes, so whoever knows QEMU knows this and QEMU's client
// libraries work: the greeting, capabilities negotiation, then commands
// ({"execute":..., "arguments":..., "id":...}) answered by {"return":...}
// or {"error":{"class":...,"desc":...}}, and events with a timestamp. The
// commands are one table (qmp_commands.cpp); ringscope's own carry QAPI's
// downstream prefix `__org.ringscope_`.
//
// One thread serves every client (several may be connected: a viewer and a
// shell), polling the socket and the RunControl's notices. A misbehaving
// client (bad JSON, unknown commands, wrong arguments, a flood, a
// disconnect mid-command) gets QMP's error replies or is dropped; the guest
// and the trace never notice. Commands that wait for the guest (stop, the
// steps) are answered when the guest has paused, without blocking the
// other clients.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ringscope/control/run_control.h"
#include "ringscope/result.h"

namespace ringscope::control {

struct QmpServerInfo {
  std::string name;                        // query-name: the scenario or image
  std::string trace_path;                  // __org.ringscope_query-trace
  std::function<uint64_t()> trace_events;  // events recorded so far
};

// "unix:PATH" → PATH; a Usage error for anything else.
Result<std::string> parse_qmp_address(const std::string& spec);

class QmpServer {
 public:
  static constexpr size_t kMaxClients = 16;

  // Creates the socket (mode 0600; a stale socket at PATH is replaced, any
  // other file there is refused) and starts serving.
  static Result<std::unique_ptr<QmpServer>> start(const std::string& path, RunControl& control, QmpServerInfo info);
  // Sends what is still due (SHUTDOWN), closes every connection, removes the socket.
  ~QmpServer();
  void stop();
  const std::string& path() const;

  struct Impl;

 private:
  explicit QmpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringscope::control
