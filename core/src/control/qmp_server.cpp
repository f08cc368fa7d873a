// qmp_server.cpp — QmpServer (qmp_server.h): the socket, the clients, the
// protocol's framing and errors, and the RunControl's notices as QMP events.
// The commands themselves are one table, qmp_commands.cpp.
#include "ringscope/control/qmp_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "qmp_commands.h"
#include "ringscope/control/json_stream.h"
#include "ringscope/i18n.h"
#include "ringscope/version.h"

namespace ringscope::control {

using qmp::Json;
using qmp::Reply;

namespace {

constexpr size_t kMaxOutput = 8u << 20;        // replies and events a client has not read: past this it is dropped
constexpr size_t kMaxWaitingInput = 2u << 20;  // input held while a command waits for the guest
constexpr int kMessagesPerRound = 256;         // one client's commands per poll round, so a flood cannot starve others
constexpr int kFinalFlushMs = 1000;            // at the end: how long the last events may take to leave

Json timestamp(uint64_t unix_ns) {
  return {{"seconds", unix_ns / 1'000'000'000ull}, {"microseconds", (unix_ns / 1000) % 1'000'000}};
}

Json version_json() {
  int major = 0, minor = 0, micro = 0;
  std::sscanf(kVersion, "%d.%d.%d", &major, &minor, &micro);
  return {{"qemu", {{"major", major}, {"minor", minor}, {"micro", micro}}},
          {"package", std::string("ringscope ") + kVersion}};
}

struct Client {
  int fd = -1;
  JsonStream in;
  std::string out;
  bool negotiated = false;
  bool closing = false;  // peer gone, or dropped: removed at the end of the round
  struct Waiting {
    Reply::Kind kind;
    Json id;  // null: the command had none
  };
  std::optional<Waiting> waiting;
};

}  // namespace

Result<std::string> parse_qmp_address(const std::string& spec) {
  if (!spec.starts_with("unix:") || spec.size() == 5)
    return make_error(
        ErrorKind::Usage,
        trf("--qmp '{}': give unix:PATH, a UNIX socket to create (for example --qmp unix:/tmp/vm.qmp)", spec));
  std::string path = spec.substr(5);
  if (path.find(',') != std::string::npos)
    return make_error(ErrorKind::Usage,
                      trf("--qmp '{}': options after the path (QEMU's ,server=on,wait=off) are not taken; the "
                          "socket always listens, and --qmp-wait starts the guest paused",
                          spec));
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return make_error(ErrorKind::Usage, trf("--qmp '{}': a UNIX socket path has at most {} bytes; choose a shorter one",
                                            spec, sizeof(sockaddr_un{}.sun_path) - 1));
  return path;
}

struct QmpServer::Impl {
  Impl(RunControl& c, QmpServerInfo i) : control(c), info(std::move(i)), ctx{control, info} {}
  RunControl& control;
  QmpServerInfo info;
  qmp::Context ctx;
  std::string path;
  int listen_fd = -1, wake_fd = -1;
  std::vector<std::unique_ptr<Client>> clients;
  std::atomic<bool> stopping{false};
  std::thread thread;
  bool more_input = false;  // a client has commands left over from the last round

  void loop();
  void accept_client();
  void read_client(Client& c);
  void handle_input(Client& c);
  void handle_message(Client& c, const std::string& text);
  void send(Client& c, const Json& j);
  void reply(Client& c, const Json& id, Json body);
  void reply_error(Client& c, const Json& id, const char* cls, const std::string& desc);
  void flush(Client& c);
  void broadcast(const std::string& event, const Json& data, uint64_t unix_ns);
  void complete(Reply::Kind kind, const Json& body);
  void process_notices();
  void close_all();
};

Result<std::unique_ptr<QmpServer>> QmpServer::start(const std::string& path, RunControl& control, QmpServerInfo info) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return make_error(ErrorKind::Usage, trf("'{}' is not a usable socket path", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(ErrorKind::Usage,
                        trf("--qmp {}: a file that is not a socket is there; choose another path", path));
    ::unlink(path.c_str());  // a socket left by an earlier run (QEMU replaces it too)
  }
  auto impl = std::make_unique<Impl>(control, std::move(info));
  impl->path = path;
  impl->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (impl->listen_fd < 0)
    return make_error(ErrorKind::Internal, trf("cannot create a socket: {}", std::strerror(errno)));
  if (::bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(impl->listen_fd, 8) != 0) {
    int err = errno;
    ::close(impl->listen_fd);
    return make_error(ErrorKind::Usage, trf("--qmp {}: cannot listen there: {}; check that the directory exists "
                                            "and is writable",
                                            path, std::strerror(err)));
  }
  ::chmod(path.c_str(), 0600);  // whoever can connect controls the VM
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<QmpServer>(new QmpServer(std::move(impl)));
}

QmpServer::QmpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

QmpServer::~QmpServer() { stop(); }

const std::string& QmpServer::path() const { return impl_->path; }

void QmpServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  uint64_t one = 1;
  (void)::write(impl_->wake_fd, &one, sizeof one);
  impl_->thread.join();
  impl_->close_all();
}

void QmpServer::Impl::loop() {
  // The kick signal is for vCPU threads; this one never takes it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::vector<pollfd> fds;
  while (!stopping.load()) {
    fds.clear();
    fds.push_back({wake_fd, POLLIN, 0});
    fds.push_back({control.notify_fd(), POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (const auto& c : clients)
      fds.push_back({c->fd, static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
    bool busy = more_input;
    more_input = false;
    if (::poll(fds.data(), fds.size(), busy ? 0 : -1) < 0 && errno != EINTR) break;
    if (stopping.load()) break;
    process_notices();
    if (fds[2].revents & POLLIN) accept_client();
    for (size_t i = 0; i < clients.size() && i + 3 < fds.size(); i++) {
      Client& c = *clients[i];
      short ev = fds[i + 3].revents;
      if (ev & (POLLIN | POLLHUP | POLLERR)) read_client(c);
      handle_input(c);
      if (ev & POLLOUT) flush(c);
    }
    std::erase_if(clients, [](const std::unique_ptr<Client>& c) {
      if (!c->closing) return false;
      ::close(c->fd);
      return true;
    });
  }
  // The run is over (or the session ends): the last events (SHUTDOWN) go out.
  process_notices();
  uint64_t deadline = monotonic_ns() + uint64_t(kFinalFlushMs) * 1'000'000;
  for (;;) {
    fds.clear();
    for (const auto& c : clients)
      if (!c->closing && !c->out.empty()) fds.push_back({c->fd, POLLOUT, 0});
    uint64_t now = monotonic_ns();
    if (fds.empty() || now >= deadline) break;
    ::poll(fds.data(), fds.size(), int((deadline - now) / 1'000'000) + 1);
    for (const auto& c : clients) flush(*c);
  }
}

void QmpServer::Impl::close_all() {
  for (const auto& c : clients) ::close(c->fd);
  clients.clear();
  if (listen_fd >= 0) {
    ::close(listen_fd);
    ::unlink(path.c_str());
  }
  if (wake_fd >= 0) ::close(wake_fd);
  listen_fd = wake_fd = -1;
}

void QmpServer::Impl::accept_client() {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    auto c = std::make_unique<Client>();
    c->fd = fd;
    if (clients.size() >= QmpServer::kMaxClients) {
      Json e = {{"error",
                 {{"class", qmp::kGenericError},
                  {"desc", "too many QMP clients are connected (16); close one and connect again"}}}};
      std::string line = e.dump() + "\r\n";
      (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    send(*c, {{"QMP", {{"version", version_json()}, {"capabilities", Json::array()}}}});
    clients.push_back(std::move(c));
  }
}

void QmpServer::Impl::read_client(Client& c) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(std::string_view(buf, size_t(n)));
      if (c.waiting && c.in.buffered() > kMaxWaitingInput) c.closing = true;  // a flood behind a waiting command
      if (size_t(n) < sizeof buf) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.closing = true;  // the client went away (mid-command too: nothing else to undo)
    return;
  }
}

// Commands one after the other; one that waits for the guest holds back
// the client's next ones (replies keep the order of the commands).
void QmpServer::Impl::handle_input(Client& c) {
  for (int i = 0; !c.waiting && !c.closing; i++) {
    if (i == kMessagesPerRound) {
      more_input = true;  // the rest in the next round, after the other clients
      return;
    }
    auto piece = c.in.next();
    if (!piece) return;
    switch (piece->kind) {
      case JsonStream::Piece::Kind::Value: handle_message(c, piece->text); break;
      case JsonStream::Piece::Kind::Junk:
        reply_error(c, Json(), qmp::kGenericError, "JSON parse error, invalid keyword: " + piece->text);
        break;
      case JsonStream::Piece::Kind::Overflow:
        reply_error(c, Json(), qmp::kGenericError, "JSON parse error, message too large (the limit is 1 MiB)");
        break;
    }
  }
}

void QmpServer::Impl::handle_message(Client& c, const std::string& text) {
  Json m = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded()) return reply_error(c, Json(), qmp::kGenericError, "JSON parse error");
  if (!m.is_object()) return reply_error(c, Json(), qmp::kGenericError, "QMP input must be a JSON object");
  Json id = m.contains("id") ? m["id"] : Json();
  if (m.contains("exec-oob"))
    return reply_error(c, id, qmp::kGenericError, "QMP input member 'exec-oob' is not supported here (no out-of-band)");
  if (!m.contains("execute")) return reply_error(c, id, qmp::kGenericError, "QMP input lacks member 'execute'");
  if (!m["execute"].is_string())
    return reply_error(c, id, qmp::kGenericError, "QMP input member 'execute' must be a string");
  for (const auto& [key, value] : m.items())
    if (key != "execute" && key != "arguments" && key != "id")
      return reply_error(c, id, qmp::kGenericError, "QMP input member '" + key + "' is unexpected");
  Json args = m.contains("arguments") ? m["arguments"] : Json::object();
  const std::string name = m["execute"].get<std::string>();
  if (!c.negotiated && name != "qmp_capabilities")
    return reply_error(c, id, qmp::kCommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'");
  if (c.negotiated && name == "qmp_capabilities")
    return reply_error(c, id, qmp::kCommandNotFound, "Capabilities negotiation is already complete, command ignored");
  const qmp::Command* cmd = qmp::find_command(name);
  if (!cmd) return reply_error(c, id, qmp::kCommandNotFound, "The command " + name + " has not been found");
  if (auto bad = qmp::check_arguments(*cmd, args)) return reply_error(c, id, qmp::kGenericError, *bad);
  if (name == "qmp_capabilities") {
    if (args.contains("enable") && !args["enable"].empty())
      return reply_error(c, id, qmp::kGenericError,
                         "Capability '" + args["enable"][0].dump() + "' not available (this server has none)");
    c.negotiated = true;
  }
  Reply r;
  try {
    r = cmd->run(ctx, args);
  } catch (const std::exception& e) {  // a JSON access the argument check let through: the client's error, not ours
    r = Reply::error(std::string("bad arguments: ") + e.what());
  }
  switch (r.kind) {
    case Reply::Kind::Return: return reply(c, id, {{"return", std::move(r.value)}});
    case Reply::Kind::Error: return reply_error(c, id, r.error_class.c_str(), r.desc);
    case Reply::Kind::WaitPause:
    case Reply::Kind::WaitStep: c.waiting = Client::Waiting{r.kind, id}; return;
  }
}

void QmpServer::Impl::send(Client& c, const Json& j) {
  if (c.closing) return;
  c.out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  c.out += "\r\n";  // as QEMU ends its messages
  if (c.out.size() > kMaxOutput) {
    c.closing = true;  // it does not read what it asked for
    return;
  }
  flush(c);
}

void QmpServer::Impl::reply(Client& c, const Json& id, Json body) {
  if (!id.is_null()) body["id"] = id;
  send(c, body);
}

void QmpServer::Impl::reply_error(Client& c, const Json& id, const char* cls, const std::string& desc) {
  reply(c, id, {{"error", {{"class", cls}, {"desc", desc}}}});
}

void QmpServer::Impl::flush(Client& c) {
  while (!c.out.empty() && !c.closing) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.closing = true;
  }
}

void QmpServer::Impl::broadcast(const std::string& event, const Json& data, uint64_t unix_ns) {
  Json e = {{"event", event}, {"timestamp", timestamp(unix_ns)}};
  if (!data.is_null()) e["data"] = data;
  for (const auto& c : clients)
    if (c->negotiated) send(*c, e);  // QMP: events only after capabilities negotiation
}

// Answers every client waiting in a command of `kind`.
void QmpServer::Impl::complete(Reply::Kind kind, const Json& body) {
  for (const auto& c : clients) {
    if (!c->waiting || c->waiting->kind != kind) continue;
    Json id = c->waiting->id;
    c->waiting.reset();
    reply(*c, id, {{"return", body}});
    handle_input(*c);  // the commands it sent meanwhile
  }
}

void QmpServer::Impl::process_notices() {
  for (Notice& n : control.take_notices()) {
    switch (n.type) {
      case Notice::Type::Stop:
        if (n.announce) broadcast("STOP", Json(), n.unix_ns);
        complete(Reply::Kind::WaitPause, Json::object());
        // A stop from a user ends a step still waiting (it never got its exit).
        if (n.cause == PauseCause::User) complete(Reply::Kind::WaitStep, {{"status", "paused"}});
        break;
      case Notice::Type::Break: {
        Json event = Json::parse(n.event_json, nullptr, false);
        Json data = {{"reason", pause_cause_name(n.cause)}};
        if (n.breakpoint) data["id"] = *n.breakpoint;
        if (!event.is_discarded()) data["event"] = event;
        broadcast("__org.ringscope_BREAK", data, n.unix_ns);
        Json body = {{"status", "debug"}};
        if (!event.is_discarded()) body["event"] = event;
        complete(Reply::Kind::WaitStep, body);
        break;
      }
      case Notice::Type::Resume:
        broadcast("RESUME", Json(), n.unix_ns);
        complete(Reply::Kind::WaitPause, Json::object());  // a cont came before the pause completed
        break;
      case Notice::Type::Reset:
        broadcast("RESET", {{"guest", false}, {"reason", "host-qmp-system-reset"}}, n.unix_ns);
        break;
      case Notice::Type::Shutdown:
        broadcast("SHUTDOWN", {{"guest", n.guest}, {"reason", n.reason}}, n.unix_ns);
        complete(Reply::Kind::WaitPause, Json::object());
        complete(Reply::Kind::WaitStep, {{"status", "shutdown"}});
        break;
    }
  }
}

}  // namespace ringscope::control
