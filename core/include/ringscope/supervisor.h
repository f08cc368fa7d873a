// supervisor.h — runs a backend's CPU loop on its own thread and watches it.
//
// Both backends need the same thing around their loop: a wall-clock limit
// that can stop a guest stuck where no check of the loop runs (inside
// KVM_RUN, inside uc_emu_start), kicks when the machine's timer is due (a
// guest running with interrupts on may make no exit of its own), and a
// progress line on a terminal. What differs is only *how* a loop is stopped
// or kicked, which the backend supplies.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "ringscope/backend.h"
#include "ringscope/machine.h"

namespace ringscope {

struct SupervisedLoop {
  std::function<RunResult()> run;  // the CPU loop; runs on its own thread
  // Ask the loop to end the run now (wall-time limit). Called repeatedly,
  // every 20 ms, until the loop returns. The argument is the loop's thread.
  std::function<void(std::thread::native_handle_type)> stop;
  // Make the loop return to its checks soon (the machine's timer is due).
  // Empty: the loop keeps its timer itself (the emulation backend, whose
  // timer runs on guest time), and the supervisor never kicks.
  std::function<void(std::thread::native_handle_type)> kick;
  // The progress line's text ("12,345 exits"), shown when options.progress.
  std::function<std::string()> progress;
  // If not 0: kick the loop this often regardless, so it can look at a
  // state it cannot see from inside (a vCPU parked by KVM's in-kernel
  // irqchip with interrupts off never returns from KVM_RUN by itself).
  uint64_t check_period_ns = 0;
  // Where the host counters go (host_sampler.h): the run's sink. Null, or a
  // sink that is not safe from several threads (only the TraceWriter is):
  // no host sampler runs.
  EventSink* sink = nullptr;
};

// Runs `loop`, returns its result with wall_ns filled in.
RunResult supervise(Machine& machine, const RunOptions& options, const SupervisedLoop& loop);
// The same watchdog around a loop with no Machine behind it (the KVM
// irqchip probe's throwaway VM): no timer kicks, only the wall-time stop,
// the periodic check and the progress line.
RunResult supervise(const RunOptions& options, const SupervisedLoop& loop);

// Records how the run ended (with the registers, when there are any) as the
// trace's last event, after three counters (source vmm) that show the VM as
// the host sees it: the VMM's process id, the vCPU's thread id, and the CPU
// time the host scheduler gave that thread. Call it on the vCPU's thread.
inline constexpr const char* kCounterHostPid = "host_pid";
inline constexpr const char* kCounterVcpuThreadTid = "vcpu_thread_tid";
inline constexpr const char* kCounterVcpuThreadCpuNs = "vcpu_thread_cpu_ns";
void emit_run_end(EventSink& sink, const RunResult& result, uint32_t vcpu, uint64_t time_ns);
// The two halves of emit_run_end, for a run with several vCPUs: each vCPU
// thread records its own host counters, and the run records one run_end.
void emit_host_counters(EventSink& sink, uint32_t vcpu, uint64_t time_ns);
void emit_run_end_event(EventSink& sink, const RunResult& result, uint32_t vcpu, uint64_t time_ns);

}  // namespace ringscope
