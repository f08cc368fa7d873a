// child_process.cpp — posix_spawn, a non-blocking pipe, waitpid.
#include "machines/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "ringscope/i18n.h"

extern char** environ;

namespace ringscope::machines {

std::string ExitStatus::describe() const {
  if (signalled) {
    const char* name = strsignal(code);
    return trf("killed by signal {} ({})", code, name ? name : "?");
  }
  return trf("exited with status {}", code);
}

ChildProcess::~ChildProcess() {
  kill_and_reap();
  if (out_fd_ >= 0) close(out_fd_);
}

Status ChildProcess::start(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  if (started()) return make_error(ErrorKind::Internal, "ChildProcess::start called twice; make a new one");
  if (argv.empty()) return make_error(ErrorKind::Usage, "no program to start");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return make_error(ErrorKind::Internal, trf("cannot make a pipe for the child's console: {}", strerror(errno)));
  // The envp: ours, with `env` replacing or adding entries.
  std::vector<std::string> envs;
  for (char** e = environ; e && *e; ++e) {
    const std::string s = *e;
    const std::string name = s.substr(0, s.find('='));
    bool replaced = false;
    for (const std::string& x : env) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) envs.push_back(s);
  }
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  // The child gets default signal dispositions and its own process group,
  // so a Ctrl-C in the viewer's terminal reaches the viewer, which then
  // stops its VMs itself.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return make_error(ErrorKind::NoInput, trf("cannot start {}: {}", argv[0], strerror(rc)));
  }
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  out_fd_ = fds[0];
  return ok_status();
}

size_t ChildProcess::read_output(std::string& out) {
  if (out_fd_ < 0) return 0;
  size_t total = 0;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {  // every writer closed it: the child (and its children) ended
      close(out_fd_);
      out_fd_ = -1;
    } else if (errno == EINTR) {
      continue;
    }
    break;  // EAGAIN: nothing more now
  }
  return total;
}

void ChildProcess::poll() {
  if (!running()) return;
  int ws = 0;
  const pid_t r = waitpid(pid_, &ws, WNOHANG);
  if (r != pid_) return;
  if (WIFSIGNALED(ws))
    status_ = ExitStatus{true, WTERMSIG(ws)};
  else
    status_ = ExitStatus{false, WEXITSTATUS(ws)};
}

bool ChildProcess::signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

void ChildProcess::kill_and_reap() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int ws = 0;
  while (waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  // It may have ended by itself just before the SIGKILL: say how.
  status_ = WIFSIGNALED(ws) ? ExitStatus{true, WTERMSIG(ws)} : ExitStatus{false, WEXITSTATUS(ws)};
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace ringscope::machines
