// machine_manager.h — the viewer's virtual machines, as virt-manager keeps
// them: each defined from a VmSpec, started as its own `ringscope run`
// process, its console read from a pipe, its CPU use and exit rate sampled
// into 120-sample histories, and its process read from /proc for the Host
// view. The UI (ui/View_Machines.cpp) calls poll() once a frame and the
// verbs from its buttons; tests drive the same calls without a window.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "machines/child_process.h"
#include "machines/proc_reader.h"
#include "machines/sample_history.h"
#include "machines/vm_spec.h"

#include <nlohmann/json.hpp>
#include "ringscope/control/qmp_client.h"

namespace ringscope::machines {

// virt-manager's states, plus the build of a .c program before the first run.
enum class VmState {
  ShutOff,   // defined, never run or ended (exit says how)
  Building,  // `ringscope build` of the .c program
  Starting,  // the process is up, the viewer has not connected to it yet
  Running,
  Paused,
};
const char* state_label(VmState s);  // translated: "running", "paused", "shut off", ...

struct Machine {
  int id = 0;
  VmSpec spec;
  std::string name;               // display_name(spec), with "#2" if the name is taken
  std::string trace_path;         // the trace this VM writes (in the manager's directory)
  std::string qmp_path;           // its QMP socket
  std::string elf_path;           // a .c program's build output
  std::vector<std::string> argv;  // the last command started (build or run)
  VmState state = VmState::ShutOff;
  std::unique_ptr<ChildProcess> proc;
  std::optional<ExitStatus> exit;  // how the last run ended
  std::string problem;             // the last error, a sentence ("" if none)
  std::string console;             // what the process wrote (stdout and stderr), the newest kConsoleMax bytes
  bool trace_deleted = false;
  uint64_t runs = 0;  // runs started: each writes trace_path anew

  // The VM's QMP connection (machine_qmp.cpp): made once its socket is
  // there, then read once a frame.
  std::unique_ptr<control::QmpClient> qmp;
  // The last __org.ringscope_BREAK (a step or a breakpoint paused the guest
  // at this event); `breaks` counts them, so the UI sees a new one.
  nlohmann::json last_break;
  int64_t break_seq = -1;
  uint64_t breaks = 0;
  // The VM's breakpoints as __org.ringscope_query-breaks last listed them
  // ([{"id": N, "kind": ..., "port": ...}, ...]), refreshed by every add and
  // remove; empty while the VM is not connected.
  nlohmann::json breakpoints = nlohmann::json::array();

  // Host view, refreshed every sample (empty while not running).
  std::optional<ProcessInfo> host;
  SampleHistory cpu_percent, exits_per_second;
  uint64_t exits_total = 0;  // VM exits in its trace so far (the UI counts them)

  // Sampling state.
  uint64_t last_ticks = 0, last_exits = 0;
  std::chrono::steady_clock::time_point last_sample{};

  bool alive() const { return proc && proc->running(); }
};

inline constexpr size_t kConsoleMax = 256 * 1024;

// The arguments of __org.ringscope_break-add from the Breakpoints form's
// text: `kind` an event kind's name, `reason` an exit reason's number or
// name, `port` and `vector` numbers (decimal or 0x hex); empty ones are
// left out. A sentence in `why` (and nullopt) when one is not understood or
// all are empty.
std::optional<nlohmann::json> break_filter(const std::string& kind, const std::string& reason, const std::string& port,
                                           const std::string& vector, std::string* why);
// A breakpoint as query-breaks lists it, in one line: "#2 vm_exit port 0x3f8".
std::string describe_breakpoint(const nlohmann::json& bp);

class MachineManager {
 public:
  // `exe`: the ringscope binary to start (default self_exe()); `dir`: where
  // traces and sockets go (default a new directory under $TMPDIR, removed
  // with its sockets when the manager goes; traces stay).
  explicit MachineManager(std::string exe = {}, std::string dir = {});
  ~MachineManager();  // kills and reaps every VM still running

  // Defines a VM (virt-manager's "create"); nothing runs yet. Returns its id,
  // or an Error with validate()'s sentence.
  Result<int> create(const VmSpec& spec);

  // The buttons. Each returns false and sets the machine's `problem` when it
  // cannot do it now (e.g. Pause on a VM that is shut off).
  bool run(int id);  // start a VM that is shut off, or continue a paused one
  bool pause(int id);
  bool step_exit(int id);
  bool stop(int id);  // ask the VMM to end (SIGTERM); it writes its trace's end and exits
  bool kill(int id);  // SIGKILL (Force Off)
  bool reset(int id);
  bool delete_trace(int id);  // only while shut off
  bool console_write(int id, const std::string& text);

  // Breakpoints on events (QMP __org.ringscope_break-add, -remove,
  // query-breaks): `filter` holds at least one of kind, reason (a number or
  // a name), port, vector, as `ringscope qmp` would send them. A hit pauses
  // the guest and arrives as an __org.ringscope_BREAK event (reason
  // "breakpoint", its id): last_break. Each keeps `breakpoints` current.
  bool break_add(int id, const nlohmann::json& filter);
  bool break_remove(int id, int64_t breakpoint);
  bool refresh_breaks(int id);

  // Forgets a VM (virt-manager's Delete): a running one is stopped first
  // (SIGTERM, so the VMM closes its trace; SIGKILL if it does not end
  // soon), its socket goes, and its trace file too when `delete_trace` (the
  // panel asks first). `find(id)` is null afterwards.
  bool remove(int id, bool delete_trace);

  // Reads consoles, reaps ended processes, and every `sample_period` reads
  // /proc and pushes one sample to each history. Never blocks.
  void poll();

  std::vector<std::unique_ptr<Machine>>& machines() { return machines_; }
  Machine* find(int id);
  const std::string& dir() const { return dir_; }
  const std::string& exe() const { return exe_; }
  std::chrono::milliseconds sample_period{1000};  // virt-manager's default update interval

 private:
  bool start_run(Machine& m);
  // machine_qmp.cpp: connect when the socket is there, read events, and
  // send one command (false and `problem` set when it fails).
  void poll_qmp(Machine& m);
  bool command(Machine& m, const char* name, const nlohmann::json& args = nullptr);
  void sample(Machine& m, std::chrono::steady_clock::time_point now);

  std::string exe_, dir_;
  bool own_dir_ = false;
  int next_id_ = 1;
  std::vector<std::unique_ptr<Machine>> machines_;
};

}  // namespace ringscope::machines
