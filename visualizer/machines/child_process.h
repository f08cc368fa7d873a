// child_process.h — one VM as a host process, the way virt-manager (through
// libvirt) runs QEMU: the viewer starts `ringscope run ...` as a child,
// reads its console through a pipe that never blocks, and reaps it with
// waitpid, so a guest or VMM that crashes leaves a status to show and no
// zombie, and never takes the viewer down.
//
// No ImGui here: the process manager is tested without a window
// (tests/visualizer/machines_test.cpp).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ringscope/result.h"

namespace ringscope::machines {

// How a child ended, from waitpid's status word.
struct ExitStatus {
  bool signalled = false;
  int code = 0;  // exit status, or the signal number when signalled
  // "exited with status 0", "killed by signal 9 (Killed)": what the panel shows.
  std::string describe() const;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // a child still running is killed (SIGKILL) and reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path) with argv, the viewer's environment plus `env`
  // ("NAME=value" entries, overriding), stdin from /dev/null, stdout and
  // stderr into one non-blocking pipe. An Error when the pipe or the spawn
  // fails (argv[0] missing or not executable).
  Status start(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

  // Appends whatever the child wrote since the last call (never waits).
  // Returns the number of bytes read.
  size_t read_output(std::string& out);

  // Reaps the child if it has ended (waitpid WNOHANG): afterwards running()
  // is false and status() says how it ended. Call it every frame.
  void poll();

  // Sends a signal (SIGTERM to stop, SIGKILL to kill). False if not running.
  bool signal(int sig);
  // SIGKILL and wait for it (the destructor, Delete).
  void kill_and_reap();

  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && !status_; }
  pid_t pid() const { return pid_; }
  const std::optional<ExitStatus>& status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::optional<ExitStatus> status_;
};

// The running program's own path (/proc/self/exe), so the viewer starts the
// same ringscope binary it is; "" if it cannot be read.
std::string self_exe();

}  // namespace ringscope::machines
