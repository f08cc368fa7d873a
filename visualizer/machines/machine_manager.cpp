// machine_manager.cpp — create, run, pause, stop; poll consoles, children
// and /proc.
#include "machines/machine_manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "ringscope/i18n.h"

namespace ringscope::machines {

const char* state_label(VmState s) {
  switch (s) {
    case VmState::ShutOff: return tr("shut off");
    case VmState::Building: return tr("building");
    case VmState::Starting: return tr("starting");
    case VmState::Running: return tr("running");
    case VmState::Paused: return tr("paused");
  }
  return "?";
}

MachineManager::MachineManager(std::string exe, std::string dir) : exe_(std::move(exe)), dir_(std::move(dir)) {
  if (exe_.empty()) exe_ = self_exe();
  if (dir_.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ringscope-machines-XXXXXX";
    if (mkdtemp(tmpl.data())) {
      dir_ = tmpl;
      own_dir_ = true;
    } else {
      dir_ = ".";
    }
  }
}

MachineManager::~MachineManager() {
  for (auto& m : machines_) {
    if (m->proc) m->proc->kill_and_reap();
    if (!m->qmp_path.empty()) unlink(m->qmp_path.c_str());
  }
  // Traces stay (the user may open them); an empty directory goes.
  if (own_dir_) rmdir(dir_.c_str());
}

Machine* MachineManager::find(int id) {
  for (auto& m : machines_)
    if (m->id == id) return m.get();
  return nullptr;
}

Result<int> MachineManager::create(const VmSpec& spec) {
  if (std::string why = validate(spec); !why.empty()) return make_error(ErrorKind::Usage, why);
  auto m = std::make_unique<Machine>();
  m->id = next_id_++;
  m->spec = spec;
  m->name = display_name(spec);
  int same = 0;
  for (const auto& o : machines_) same += o->spec.source == spec.source && display_name(o->spec) == m->name ? 1 : 0;
  if (same) m->name += " #" + std::to_string(same + 1);
  // File names: vm<id>-<name>, the name reduced to what `ringscope build`
  // accepts as a program name (letters, digits, '-', '_'; at most 31).
  std::string base;
  for (char c : std::filesystem::path(display_name(spec)).stem().string())
    base += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  const std::string stem = dir_ + "/" + ("vm" + std::to_string(m->id) + "-" + base).substr(0, 31);
  m->trace_path = stem + ".rtrace";
  m->qmp_path = stem + ".qmp";
  m->elf_path = stem + ".elf";
  const int id = m->id;
  machines_.push_back(std::move(m));
  return id;
}

bool MachineManager::start_run(Machine& m) {
  m.proc = std::make_unique<ChildProcess>();
  if (needs_build(m.spec) && m.state != VmState::Building) {
    m.argv = build_argv(m.spec, exe_, m.elf_path);
    m.state = VmState::Building;
  } else {
    // The VM waits (--qmp-wait) for the viewer's connection; poll_qmp()
    // connects and continues it, or leaves it paused (Start paused).
    unlink(m.qmp_path.c_str());
    unlink(m.trace_path.c_str());  // a follower never sees the last run's file
    ++m.runs;
    m.break_seq = -1;  // a step of the last run is no event of this one
    m.last_break = nullptr;
    m.argv = run_argv(m.spec, exe_, m.trace_path, m.qmp_path, m.elf_path);
    m.state = VmState::Starting;
  }
  m.console += "$ " + shell_line(m.argv) + "\n";
  if (auto st = m.proc->start(m.argv); !st) {
    m.problem = st.error().message;
    m.state = VmState::ShutOff;
    m.proc.reset();
    return false;
  }
  m.trace_deleted = false;
  m.last_ticks = 0;
  m.last_sample = std::chrono::steady_clock::now();
  return true;
}

bool MachineManager::run(int id) {
  Machine* m = find(id);
  if (!m) return false;
  m->problem.clear();
  if (m->state == VmState::Paused) return command(*m, "cont");
  if (m->state != VmState::ShutOff) {
    m->problem = trf("{} is {}: Run starts a VM that is shut off.", m->name, state_label(m->state));
    return false;
  }
  m->exit.reset();
  m->exits_total = m->last_exits = 0;
  return start_run(*m);
}

bool MachineManager::pause(int id) {
  Machine* m = find(id);
  return m && command(*m, "stop");
}

bool MachineManager::step_exit(int id) {
  Machine* m = find(id);
  return m && command(*m, "__org.ringscope_step-exit");
}

bool MachineManager::reset(int id) {
  Machine* m = find(id);
  return m && command(*m, "system_reset");
}

bool MachineManager::console_write(int id, const std::string& text) {
  Machine* m = find(id);
  return m && command(*m, "__org.ringscope_console-write", {{"data", text}});
}

bool MachineManager::stop(int id) {
  Machine* m = find(id);
  if (!m) return false;
  if (!m->alive()) {
    m->problem = trf("{} is not running.", m->name);
    return false;
  }
  // QMP's quit lets the VMM end its trace properly; without a connection
  // (building, or the VMM does not answer) SIGTERM does.
  if (m->qmp && command(*m, "quit")) return true;
  m->problem.clear();
  return m->proc->signal(SIGTERM);
}

bool MachineManager::kill(int id) {
  Machine* m = find(id);
  if (!m) return false;
  if (!m->alive()) {
    m->problem = trf("{} is not running.", m->name);
    return false;
  }
  return m->proc->signal(SIGKILL);
}

bool MachineManager::delete_trace(int id) {
  Machine* m = find(id);
  if (!m) return false;
  if (m->state != VmState::ShutOff) {
    m->problem = tr("Stop the VM before deleting its trace.");
    return false;
  }
  std::error_code ec;
  std::filesystem::remove(m->trace_path, ec);
  if (ec) {
    m->problem = trf("cannot delete {}: {}", m->trace_path, ec.message());
    return false;
  }
  m->trace_deleted = true;
  m->exits_total = m->last_exits = 0;
  return true;
}

bool MachineManager::remove(int id, bool delete_trace) {
  auto it = std::find_if(machines_.begin(), machines_.end(), [&](const auto& m) { return m->id == id; });
  if (it == machines_.end()) return false;
  Machine& m = **it;
  m.qmp.reset();
  if (m.alive()) {
    // SIGTERM lets the VMM end its trace; one that does not end within a
    // second is killed.
    m.proc->signal(SIGTERM);
    for (int i = 0; i < 100 && m.proc->running(); ++i) {
      m.proc->poll();
      if (m.proc->running()) usleep(10'000);
    }
  }
  if (m.proc) m.proc->kill_and_reap();
  unlink(m.qmp_path.c_str());
  if (delete_trace) {
    std::error_code ec;
    std::filesystem::remove(m.trace_path, ec);
    std::filesystem::remove(m.elf_path, ec);
  }
  machines_.erase(it);
  return true;
}

void MachineManager::sample(Machine& m, std::chrono::steady_clock::time_point now) {
  const double dt = std::chrono::duration<double>(now - m.last_sample).count();
  std::optional<uint64_t> ticks;
  if (m.alive()) {
    if (auto p = read_process(m.proc->pid())) {
      ticks = p->cpu_ticks();
      m.host = std::move(p).value();
    }
  } else {
    m.host.reset();
  }
  // CPU time moves in clock ticks (10 ms at 100 Hz): over a shorter
  // interval a percentage is noise, so a sample covers 10 ticks at least.
  if (dt * static_cast<double>(clock_ticks_per_second()) < 10) return;
  m.last_sample = now;
  float cpu = 0;
  if (ticks) {
    cpu = static_cast<float>(cpu_percent(m.last_ticks, *ticks, dt));
    m.last_ticks = *ticks;
  }
  const uint64_t exits = m.exits_total;
  const float rate = exits >= m.last_exits ? static_cast<float>(static_cast<double>(exits - m.last_exits) / dt) : 0.0f;
  m.last_exits = exits;
  m.cpu_percent.push(cpu);
  m.exits_per_second.push(rate);
}

void MachineManager::poll() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& mp : machines_) {
    Machine& m = *mp;
    if (m.proc) {
      m.proc->read_output(m.console);
      if (m.console.size() > kConsoleMax) {
        // Keep the newest bytes, from a line start.
        size_t cut = m.console.size() - kConsoleMax;
        const size_t nl = m.console.find('\n', cut);
        m.console.erase(0, nl == std::string::npos ? cut : nl + 1);
      }
      m.proc->poll();
      if (m.proc->status()) {
        m.proc->read_output(m.console);  // what it wrote just before it ended
        const ExitStatus st = *m.proc->status();
        if (m.state == VmState::Building && !st.signalled && st.code == 0) {
          start_run(m);  // the ELF is built: run it
          continue;
        }
        m.exit = st;
        m.console += "[" + st.describe() + "]\n";
        m.state = VmState::ShutOff;
        m.proc.reset();
        m.qmp.reset();
        m.host.reset();
        unlink(m.qmp_path.c_str());
      }
    }
    if (m.proc) poll_qmp(m);
    if (m.state != VmState::ShutOff && now - m.last_sample >= sample_period) sample(m, now);
  }
}

}  // namespace ringscope::machines
