// run_control.h — pausing, stepping and stopping a running guest from
// another thread (the QMP socket's, qmp_server.h), the same for every backend.
//
// A backend consults the control at each of its checkpoints: after every
// user-space exit (KVM full-virt and paravirt, every vCPU thread), after
// every event the emulation records (device accesses, blocks, single steps
// at level full: where the VT-x model's exits come from). The test there is
// one relaxed load (wanted()); only when it is true does the backend call
// checkpoint(), which parks the vCPU while the guest is paused, hands it
// console input, or tells it to end the run (quit, system_reset).
//
// What pauses the guest: stop (a user), a step (one exit, one instruction
// at level full) or a breakpoint (an EventFilter, event_filter.h). Steps
// and breakpoints are decided by the ControlSink (control_sink.h), which
// sees every event the backend records, right after it is written. A vCPU
// inside KVM_RUN or halted never reaches a checkpoint by itself: the
// control kicks it (the backend's kick, kick.h). When the last running vCPU
// has parked, the trace is flushed (the file holds every event so far),
// then the control says so (a Stop notice); the socket's thread tells its
// clients.
//
// Threads: the backend's vCPU threads call attach/checkpoint/detach and the
// sink's trigger; everything else is for the controlling thread. Every
// method is safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/control/event_ring.h"
#include "ringscope/devices/virtio_balloon.h"
#include "ringscope/event.h"
#include "ringscope/event_filter.h"
#include "ringscope/result.h"

namespace ringscope::control {

// What query-status says (QEMU's RunState names): a user's stop is
// "paused", a step or breakpoint "debug", the run's end "shutdown".
enum class RunStatus : uint8_t { Running, Paused, Debug, Shutdown };
std::string_view run_status_name(RunStatus s);

// Why the guest paused.
enum class PauseCause : uint8_t { User, Start, StepExit, StepInstruction, Breakpoint };
std::string_view pause_cause_name(PauseCause c);  // "stop", "start", "step-exit", "step-instruction", "breakpoint"

// What a checkpoint tells its vCPU.
enum class Verdict : uint8_t {
  Go,    // carry on
  Quit,  // end the run now (RunEndReason::Quit): `quit`, or the first half of `system_reset`
};

// Something the controlling side is told about, in order.
struct Notice {
  enum class Type : uint8_t { Stop, Resume, Break, Reset, Shutdown } type;
  uint64_t unix_ns = 0;  // when (QMP's event timestamp)
  PauseCause cause = PauseCause::User;
  std::optional<uint32_t> breakpoint;  // Break: which one
  std::string event_json;              // Break: the event that paused the guest (show --json)
  bool announce = true;                // Stop: tell the clients (not --qmp-wait's first pause, as QEMU's -S)
  bool guest = false;                  // Shutdown: the guest ended the run (not `quit`)
  std::string reason;                  // Shutdown: QEMU's reason ("guest-shutdown", "host-qmp-quit", ...)
};

// What a backend gives the control at a checkpoint, on the vCPU's thread.
class VcpuAccess {
 public:
  virtual ~VcpuAccess() = default;
  virtual std::optional<GuestRegs> regs() = 0;             // read while parking
  virtual void console_input(std::string_view bytes) = 0;  // to the guest's UART / virtio-console
  // QMP `balloon`: the guest's target size in bytes, to the machine's
  // virtio-balloon (Machine::set_balloon_target).
  virtual void balloon_target(uint64_t target_bytes) { (void)target_bytes; }
};

struct Breakpoint {
  uint32_t id = 0;
  EventFilter filter;
  std::string spec;  // the arguments it was made from, as JSON (query-breaks)
};

class RunControl {
 public:
  static constexpr size_t kMaxBreakpoints = 64;
  static constexpr size_t kMaxPendingInput = 1u << 20;  // console input not yet taken by the guest (as run --input)

  explicit RunControl(size_t ring_capacity = EventRing::kDefaultCapacity);

  // ---- the backend's side ------------------------------------------------
  // True when a checkpoint has something to do. One relaxed load.
  bool wanted() const { return wanted_.load(std::memory_order_relaxed); }
  // A vCPU thread starts: `kick` makes it leave KVM_RUN (empty: a loop
  // that reaches its checkpoints by itself, the emulation's). Call
  // detach() before the thread ends.
  void attach(uint32_t vcpu, std::function<void()> kick);
  void detach(uint32_t vcpu);
  // One vCPU's loop has ended the run (several vCPUs): the others, parked
  // or not, go on to see that and end too. Until run_starting().
  void release_all();
  // Parks while the guest is paused (or about to be); gives the vCPU any
  // console input waiting; says whether the run goes on.
  Verdict checkpoint(uint32_t vcpu, VcpuAccess& access);
  // The ControlSink: one event, just recorded. Decides steps and breakpoints.
  void observe(const Event& e);
  // What the ControlSink has to do for each event, in one word so that an
  // unwatched run pays one relaxed load per event: kArmed (a step or a
  // breakpoint is armed), and the number of connected clients times
  // kObserver (while there is one, the ring of latest events is kept: as
  // QMP's events, the history starts when a client is there to see it, and
  // copying every event into the ring for a client that may never come
  // would cost an emulated exit about 30 %; the trace file has the rest).
  static constexpr uint32_t kArmed = 1, kObserver = 2;
  uint32_t hooks() const { return hooks_.load(std::memory_order_relaxed); }
  bool armed() const { return (hooks() & kArmed) != 0; }
  bool observed() const { return hooks() >= kObserver; }
  void add_observer() { hooks_.fetch_add(kObserver, std::memory_order_relaxed); }
  void remove_observer() { hooks_.fetch_sub(kObserver, std::memory_order_relaxed); }
  // system_reset is ending this run (its run_end is not the trace's last).
  bool resetting() const;
  EventRing& ring() { return ring_; }

  // ---- the session's side ----------------------------------------------
  // Called when the pause completes, on the last vCPU to park: flush the trace.
  void set_flush(std::function<void()> flush) { flush_ = std::move(flush); }
  // Trace level full: step-instruction is possible.
  void set_full_level(bool full) { full_level_ = full; }
  // A run (another one after a reset) begins / has ended. run_ended()
  // returns true when the session is to boot the machine again (system_reset).
  void run_starting();
  bool run_ended(const RunResult& result);
  // Time spent paused so far (the watchdog's wall-time limit leaves it out).
  uint64_t paused_ns() const;

  // ---- the controlling side (QMP) --------------------------------------
  Status pause(PauseCause cause = PauseCause::User);  // stop; --qmp-wait's initial pause (Start)
  Status resume();                                    // cont
  Status step_exit();
  Status step_instruction();
  Status quit();
  Status reset();
  Result<uint32_t> add_breakpoint(EventFilter filter, std::string spec);
  Status remove_breakpoint(uint32_t id);
  std::vector<Breakpoint> breakpoints() const;
  void console_write(std::string_view bytes);
  // QMP `balloon` / `query-balloon` (QEMU's): the machine's virtio-balloon,
  // if it has one. The session names it before every boot (nullptr: none,
  // or the machine is being rebuilt); balloon() hands a target to a vCPU at
  // its next checkpoint; balloon_actual_bytes() is the guest's size as
  // QEMU reports it: RAM minus what the driver last said the balloon holds;
  // nullopt without a balloon.
  void set_balloon(const VirtioBalloon* balloon, uint64_t ram_bytes);
  Status balloon(uint64_t target_bytes);
  std::optional<uint64_t> balloon_actual_bytes() const;

  RunStatus status() const;
  bool pause_complete() const;  // paused, and every vCPU has parked (the trace is flushed)
  // Registers of a parked vCPU; nullopt while running.
  Result<GuestRegs> registers(uint32_t vcpu) const;
  struct VcpuInfo {
    uint32_t index;
    int64_t thread_id;  // the host thread (gettid)
  };
  std::vector<VcpuInfo> vcpus() const;

  // Notices, in order. notify_fd() becomes readable when there are some (an
  // eventfd); take_notices() empties it.
  int notify_fd() const { return notify_fd_; }
  std::deque<Notice> take_notices();

  ~RunControl();
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

 private:
  struct Vcpu {
    std::function<void()> kick;
    std::thread::id thread;
    int64_t tid = 0;
    bool parked = false;
    std::optional<GuestRegs> regs;
  };
  enum class Step : uint8_t { None, Exit, Instruction };

  void begin_pause_locked(PauseCause cause, std::optional<uint32_t> bp, std::string event_json);
  void complete_pause_if_parked_locked();
  void resume_locked();
  void kick_others_locked();
  void notify_locked(Notice n);
  void update_wanted_locked();
  void update_armed_locked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> wanted_{false};
  std::atomic<uint32_t> hooks_{0};  // kArmed | observers * kObserver (hooks())
  std::map<uint32_t, Vcpu> vcpus_;
  RunStatus status_ = RunStatus::Running;
  bool pausing_ = false;  // a pause asked for, not every vCPU parked yet
  bool announce_ = true;  // the pause's completion is a Stop notice (not --qmp-wait's, not one re-made after a reset)
  PauseCause cause_ = PauseCause::User;
  std::optional<uint32_t> cause_bp_;
  std::string cause_event_;
  Step step_ = Step::None;
  bool quit_ = false, reset_ = false, ended_ = false, released_ = false;
  // From the start (a client may connect before the backend's vCPUs have)
  // until the run has ended: a pause completes only once a vCPU has parked.
  bool in_run_ = true;
  bool full_level_ = false;
  std::vector<Breakpoint> breaks_;
  uint32_t next_break_ = 1;
  std::string input_;
  const VirtioBalloon* balloon_ = nullptr;
  uint64_t balloon_ram_ = 0;
  std::optional<uint64_t> balloon_target_;  // not yet handed to a vCPU
  uint64_t paused_since_ = 0, paused_total_ = 0;
  std::function<void()> flush_;
  std::deque<Notice> notices_;
  int notify_fd_ = -1;
  EventRing ring_;
};

}  // namespace ringscope::control
