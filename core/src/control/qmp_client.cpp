// qmp_client.cpp — QmpClient (qmp_client.h): one QMP connection over a UNIX socket.
#include "ringscope/control/qmp_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringscope/backend.h"
#include "ringscope/i18n.h"

namespace ringscope::control {

namespace {

constexpr size_t kMaxLine = 16u << 20;  // a reply larger than this is not QMP (query-events is far smaller)

// Milliseconds left of `timeout_ms` started at `start_ns`; -1 stays -1.
int left_ms(int timeout_ms, uint64_t start_ns) {
  if (timeout_ms < 0) return -1;
  uint64_t spent = (monotonic_ns() - start_ns) / 1'000'000;
  return spent >= uint64_t(timeout_ms) ? 0 : timeout_ms - int(spent);
}

}  // namespace

Result<std::unique_ptr<QmpClient>> QmpClient::connect(const std::string& where, int timeout_ms) {
  std::string path = where.starts_with("unix:") ? where.substr(5) : where;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return make_error(ErrorKind::Usage,
                      trf("'{}' is not a usable socket path (at most {} bytes)", path, sizeof addr.sun_path - 1));
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(ErrorKind::Internal, trf("cannot create a socket: {}", std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    if (err == ENOENT || err == ECONNREFUSED)
      return make_error(ErrorKind::NoInput, trf("nothing listens on {}: {} (is the VM running, started with "
                                                "`ringscope run ... --qmp unix:{}`?)",
                                                path, std::strerror(err), path));
    return make_error(ErrorKind::Unavailable, trf("cannot connect to {}: {}", path, std::strerror(err)));
  }
  std::unique_ptr<QmpClient> c(new QmpClient(fd));
  auto first = c->read_message(timeout_ms);
  if (!first.ok()) return first.error();
  if (!first.value() || !first.value()->is_object() || !first.value()->contains("QMP"))
    return make_error(ErrorKind::Unavailable,
                      trf("{} did not greet with QMP's {{\"QMP\": ...}}; is it a QMP socket?", path));
  c->greeting_ = std::move(*first.value());
  return c;
}

QmpClient::~QmpClient() { close_fd(); }

void QmpClient::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status QmpClient::negotiate(int timeout_ms) {
  TRY_ASSIGN(Json reply, execute("qmp_capabilities", nullptr, timeout_ms));
  if (auto e = error_of(reply)) return make_error(ErrorKind::Unavailable, trf("qmp_capabilities failed: {}", *e));
  return ok_status();
}

std::optional<std::string> QmpClient::error_of(const Json& reply) {
  if (!reply.is_object() || !reply.contains("error")) return std::nullopt;
  const Json& e = reply["error"];
  std::string cls = e.is_object() && e.contains("class") && e["class"].is_string() ? e["class"].get<std::string>() : "";
  std::string desc = e.is_object() && e.contains("desc") && e["desc"].is_string() ? e["desc"].get<std::string>() : "";
  return cls.empty() ? desc : cls + ": " + desc;
}

Status QmpClient::send_line(const std::string& line) {
  if (fd_ < 0) return make_error(ErrorKind::Unavailable, tr("the QMP connection is closed"));
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close_fd();
      return make_error(ErrorKind::Unavailable, trf("the QMP connection broke: {}", std::strerror(err)));
    }
    done += size_t(n);
  }
  return ok_status();
}

Result<std::optional<QmpClient::Json>> QmpClient::read_message(int timeout_ms) {
  uint64_t start = monotonic_ns();
  for (;;) {
    size_t nl = inbuf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = inbuf_.substr(0, nl);
      inbuf_.erase(0, nl + 1);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded())
        return make_error(ErrorKind::Unavailable,
                          trf("the QMP server sent something that is not JSON: {}", line.substr(0, 80)));
      return std::optional<Json>(std::move(j));
    }
    if (fd_ < 0) return make_error(ErrorKind::Unavailable, tr("the QMP connection is closed"));
    if (inbuf_.size() > kMaxLine)
      return make_error(ErrorKind::Unavailable, tr("the QMP server sent a line of more than 16 MiB"));
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, left_ms(timeout_ms, start));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return std::optional<Json>();
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      close_fd();
      return make_error(ErrorKind::Unavailable, tr("the QMP server closed the connection"));
    }
    inbuf_.append(buf, size_t(n));
  }
}

void QmpClient::dispatch_event(Json event) {
  if (on_event_)
    on_event_(event);
  else
    events_.push_back(std::move(event));
}

Result<QmpClient::Json> QmpClient::execute(std::string_view command, const Json& args, int timeout_ms) {
  uint64_t id = next_id_++;
  Json cmd = {{"execute", command}, {"id", id}};
  if (!args.is_null() && !(args.is_object() && args.empty())) cmd["arguments"] = args;
  TRY(send_line(cmd.dump() + "\n"));
  uint64_t start = monotonic_ns();
  for (;;) {
    TRY_ASSIGN(std::optional<Json> m, read_message(left_ms(timeout_ms, start)));
    if (!m) return make_error(ErrorKind::Unavailable, trf("no reply to {} in time", command));
    if (m->is_object() && m->contains("event")) {
      dispatch_event(std::move(*m));
      continue;
    }
    // A reply without our id (a server that drops ids) is taken as ours:
    // replies come in the order of the commands.
    if (m->is_object() && m->contains("id") && (*m)["id"] != Json(id)) continue;
    return std::move(*m);
  }
}

std::deque<QmpClient::Json> QmpClient::take_events() {
  std::deque<Json> out;
  out.swap(events_);
  return out;
}

bool QmpClient::pump(int timeout_ms) {
  int wait = timeout_ms;
  for (;;) {
    auto m = read_message(wait);
    if (!m.ok()) return false;
    if (!m.value()) return true;
    if (m.value()->is_object() && m.value()->contains("event")) dispatch_event(std::move(*m.value()));
    wait = 0;  // then take only what is already there
  }
}

std::optional<QmpClient::Json> QmpClient::wait_event(std::string_view name, int timeout_ms) {
  uint64_t start = monotonic_ns();
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if ((*it).value("event", "") == name) {
        Json e = std::move(*it);
        events_.erase(it);
        return e;
      }
    }
    int left = left_ms(timeout_ms, start);
    if (left == 0 && timeout_ms >= 0) return std::nullopt;
    auto m = read_message(left);
    if (!m.ok() || !m.value()) return std::nullopt;
    // While waiting, every event queues (the callback is not called).
    if (m.value()->is_object() && m.value()->contains("event")) events_.push_back(std::move(*m.value()));
  }
}

}  // namespace ringscope::control
