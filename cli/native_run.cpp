// native_run.cpp — a scenario's program as a plain host process (native_run.h).
#include "native_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/events.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/trace.h"
#include "ringscope/version.h"

extern char** environ;

namespace ringscope::cli {

namespace fs = std::filesystem;

fs::path host_program(const Scenario& s) {
  if (s.programs.empty()) return {};
  return guest_dir() / "host" / s.programs.front().stem();
}

std::string native_refusal(const Scenario& s) {
  if (s.programs.size() != 1)
    return trf("scenario {} is not one user program (a kernel task has no host twin)", s.name);
  fs::path p = host_program(s);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec) || ::access(p.c_str(), X_OK) != 0)
    return trf("no host build of {} at {} (build the guest_images target)", s.name, p.string());
  return "";
}

namespace {

// One "marker begin|end|point NS VALUE LABEL" line of the program's fd 3.
struct HostMarker {
  MarkerPhase phase = MarkerPhase::Point;
  uint64_t ns = 0, value = 0;
  std::string label;
};

std::vector<HostMarker> parse_markers(const std::string& text) {
  std::vector<HostMarker> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::string word, phase;
    HostMarker m;
    if (!(l >> word >> phase >> m.ns >> m.value) || word != "marker") continue;
    m.phase = phase == "begin" ? MarkerPhase::Begin : phase == "end" ? MarkerPhase::End : MarkerPhase::Point;
    std::getline(l >> std::ws, m.label);
    out.push_back(std::move(m));
  }
  return out;
}

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

int open_for_child(const fs::path& p) {
  return ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
}

}  // namespace

Result<NativeOutcome> run_native(const NativeRequest& req) {
  const Scenario& s = *req.scenario;
  if (std::string why = native_refusal(s); !why.empty()) return make_error(ErrorKind::Unavailable, why);
  TRY_ASSIGN(std::string cmdline, build_cmdline(s, req.params));
  const fs::path program = host_program(s);
  // argv as the teaching kernel builds it: the program's name, then every
  // word of the command line.
  std::vector<std::string> words{program.filename().string()};
  std::istringstream in(cmdline);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  const fs::path marks = req.trace_path.string() + ".markers";
  int out_fd = open_for_child(req.console_path), mark_fd = open_for_child(marks);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || mark_fd < 0 || null_fd < 0) {
    for (int fd : {out_fd, mark_fd, null_fd})
      if (fd >= 0) ::close(fd);
    return make_error(ErrorKind::IoError, trf("cannot create {}: {}", req.console_path.string(), strerror(errno)));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, mark_fd, 3);
  const uint64_t start_unix = realtime_ns(), start_mono = monotonic_ns();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  for (int fd : {out_fd, mark_fd, null_fd}) ::close(fd);
  if (rc != 0) return make_error(ErrorKind::IoError, trf("cannot run {}: {}", program.string(), strerror(rc)));

  // Wait, and kill it when the time is up (the poll's period does not enter
  // any figure: the phases are timed inside the process).
  int wstatus = 0;
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.wall_ms);
  for (;;) {
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return make_error(ErrorKind::Internal, trf("waitpid: {}", strerror(errno)));
    if (!killed && std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const uint64_t end_mono = monotonic_ns();

  NativeOutcome o;
  std::string text;
  {
    std::ifstream f(marks);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  std::error_code ec;
  fs::remove(marks, ec);
  RunEndReason reason = RunEndReason::GuestExit;
  if (killed) {
    reason = RunEndReason::WatchdogTime;
    o.message = trf("killed after {} ms", req.wall_ms);
  } else if (WIFEXITED(wstatus)) {
    o.status = WEXITSTATUS(wstatus);
    o.status_as_expected = o.status == s.expected_status;
    o.message = trf("exit status {}", o.status);
  } else {
    reason = RunEndReason::InternalError;
    o.message = trf("killed by signal {}", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
  }

  HostInfo host = probe_host();
  TraceHeader header;
  header.scenario = s.name;
  header.mode = "native";
  header.level = "exits";
  header.params = cmdline;
  header.host_kernel = host.kernel_release;
  header.kvm_flavour = std::string(flavour_name(host.flavour));
  header.cpu_model = host.cpu_model;
  header.tool_version = kVersion;
  header.start_unix_ns = start_unix;
  header.start_mono_ns = start_mono;
  TRY_ASSIGN(auto writer, TraceWriter::create(req.trace_path.string(), header));
  for (const HostMarker& m : parse_markers(text)) {
    Event e = events::marker(events::At{m.ns, 0, Source::Guest}, m.phase, m.label, m.value);
    writer->emit(e);
  }
  Event end = events::run_end(events::At{end_mono, 0, Source::Vmm}, reason,
                              o.status < 0 ? 0 : static_cast<uint64_t>(o.status), o.message, nullptr);
  writer->emit(end);
  TRY(writer->close());
  return o;
}

}  // namespace ringscope::cli
