// host_sampler.h — records the host counters (host_counters.h) while a VM runs.
//
// One thread per run wakes every `run --host-sample-ms` milliseconds
// (default 10), reads each vCPU thread's schedstat and the process's memory
// figures, and records them as `counter` events (source vmm). It records a
// sample when it starts, and a last one when the run ends (Machine's
// finish_devices, just before the run_end event). It only reads /proc and
// calls mincore, allocates nothing after its first sample, and never touches
// the vCPU threads: the exit round trip does not feel it.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "ringscope/acpi_tables.h"
#include "ringscope/event.h"

namespace ringscope {

class Machine;
class HostSampler;

inline constexpr uint64_t kDefaultHostSampleMs = 10;

// Which host threads run the machine's vCPUs. A backend's vCPU thread
// enters when it starts (that names it `vcpuN`, as `ps -L`, `top -H` and
// htop show it) and leaves when it ends; leaving keeps the thread's last
// schedstat, so a run's last sample still has a vCPU whose thread is gone.
// Lock-free: one slot per possible vCPU.
class VcpuThreads {
 public:
  class Scope {  // leaves on destruction
   public:
    Scope(VcpuThreads& t, uint32_t vcpu) : threads_(t), vcpu_(vcpu) {}
    ~Scope() { threads_.leave(vcpu_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    VcpuThreads& threads_;
    uint32_t vcpu_;
  };
  // Before the run: the host CPUs each vCPU thread is pinned to as it
  // enters (`run --vcpu-affinity`); empty: not pinned.
  void pin_to(std::vector<int> cpus) { affinity_ = std::move(cpus); }
  // On the vCPU's own thread.
  [[nodiscard]] Scope enter(uint32_t vcpu);
  void leave(uint32_t vcpu);

  struct Reading {
    bool present = false;  // the thread has entered (now or earlier)
    uint64_t cpu_ns = 0, run_delay_ns = 0;
  };
  // The thread's schedstat now, or as it left.
  Reading read(uint32_t vcpu) const;
  // Its schedstat as it entered, and when (host monotonic ns): a run's
  // first sample of that vCPU, however soon the sampler looks.
  Reading read_at_entry(uint32_t vcpu, uint64_t& time_ns) const;

  // The run's sampler (null: none): a thread that enters wakes it, so the
  // lane's first sample is taken at once.
  void attach(HostSampler* s) { sampler_.store(s); }
  HostSampler* sampler() const { return sampler_.load(); }

 private:
  struct Slot {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> left{false};
    std::atomic<uint64_t> cpu_ns{0}, run_delay_ns{0};  // as it left
    std::atomic<uint64_t> entry_ns{0}, entry_cpu_ns{0}, entry_run_delay_ns{0};
  };
  std::array<Slot, kMaxVcpus> slots_;
  std::atomic<HostSampler*> sampler_{nullptr};
  std::vector<int> affinity_;
};

class HostSampler {
 public:
  // `sink` must take events from several threads (the TraceWriter does).
  HostSampler(EventSink& sink, Machine& machine, VcpuThreads& threads, uint64_t period_ms);
  ~HostSampler();
  HostSampler(const HostSampler&) = delete;
  HostSampler& operator=(const HostSampler&) = delete;

  void start();         // the first sample, then the thread
  void final_sample();  // the last sample; later ones are not taken. Any thread, once or more.
  void stop();          // ends the thread (taking the last sample if nobody did)
  void wake();          // take a sample now (a vCPU thread has started)

 private:
  void loop();
  void sample(uint64_t time_ns);  // under mu_

  EventSink& sink_;
  Machine& machine_;
  VcpuThreads& threads_;
  uint64_t period_ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // the last sample is taken
  bool woken_ = false;
  std::array<bool, kMaxVcpus> entry_recorded_{};
  std::thread thread_;
  std::vector<unsigned char> ram_scratch_;
};

}  // namespace ringscope
