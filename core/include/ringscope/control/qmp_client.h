// qmp_client.h — a QMP client: talks to `ringscope run --qmp unix:PATH`
// (or to QEMU itself: the JSON shapes are QEMU's, docs/qmp.md).
//
// One connection. connect() reads the greeting; negotiate() sends
// qmp_capabilities and leaves capabilities-negotiation mode; execute()
// sends one command and waits for its reply. Events (STOP, RESUME,
// SHUTDOWN, __org.ringscope_BREAK, ...) that arrive meanwhile, or when
// pump()/wait_event() read the socket, go to the event callback if one is
// set, else to a queue that take_events() empties. Not thread-safe: one
// thread uses a client (the viewer's Machines panel keeps one per VM and
// calls pump() once a frame; fd() is there for a poll loop).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ringscope/result.h"

namespace ringscope::control {

class QmpClient {
 public:
  using Json = nlohmann::json;
  using EventCallback = std::function<void(const Json& event)>;

  // Connects to the UNIX socket at `path` (a leading "unix:" is allowed)
  // and reads the greeting. `timeout_ms` bounds the connect and the
  // greeting (-1: wait for ever). NoInput: no socket there (is the VM
  // running, with --qmp?); Unavailable: it refused or spoke no QMP.
  static Result<std::unique_ptr<QmpClient>> connect(const std::string& path, int timeout_ms = 5000);
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // The greeting: {"QMP":{"version":{...},"capabilities":[]}}.
  const Json& greeting() const { return greeting_; }
  // qmp_capabilities: the server then accepts every command and sends events.
  Status negotiate(int timeout_ms = 5000);

  // Sends {"execute":command,"arguments":args,"id":N} (no "arguments" when
  // `args` is null or empty) and waits for the reply with that id: the whole
  // reply object, {"return":...} or {"error":{"class":...,"desc":...}}.
  // An Error only when the connection fails, closes, or `timeout_ms` passes.
  Result<Json> execute(std::string_view command, const Json& args = nullptr, int timeout_ms = -1);
  // The reply's error description, or nullopt for a success reply.
  static std::optional<std::string> error_of(const Json& reply);

  // Events: to the callback when set, else queued.
  void set_event_callback(EventCallback callback) { on_event_ = std::move(callback); }
  std::deque<Json> take_events();
  // Reads whatever the server has sent, waiting at most `timeout_ms` for
  // the first byte (0: do not wait). False when the connection is gone.
  bool pump(int timeout_ms = 0);
  // Waits for an event named `name` (queued ones first). Other events that
  // arrive meanwhile are queued, even with a callback set. nullopt on
  // timeout or a closed connection.
  std::optional<Json> wait_event(std::string_view name, int timeout_ms = -1);

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }

 private:
  explicit QmpClient(int fd) : fd_(fd) {}
  // Reads one message (a line); nullopt on timeout; an Error when closed or broken.
  Result<std::optional<Json>> read_message(int timeout_ms);
  Status send_line(const std::string& line);
  void dispatch_event(Json event);
  void close_fd();

  int fd_ = -1;
  std::string inbuf_;
  Json greeting_;
  uint64_t next_id_ = 1;
  std::deque<Json> events_;
  EventCallback on_event_;
};

}  // namespace ringscope::control
