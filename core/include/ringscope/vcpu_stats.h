// vcpu_stats.h — what each vCPU's lane of a trace adds up to: its events,
// exits, traps, the IPIs it sent and took, and its time.
//
// Part of TraceStats (trace_stats.h: `stats`, `stats --json`, the viewer's
// statistics): StatsBuilder feeds every event to a VcpuStatsBuilder. Memory
// is bounded: at most kMaxStatVcpus lanes are counted (a hostile file may
// name any vCPU index); events of others are counted in `dropped`.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "ringscope/event.h"

namespace ringscope {

inline constexpr size_t kMaxStatVcpus = 64;

struct VcpuStats {
  uint32_t vcpu = 0;
  uint64_t events = 0;
  uint64_t vm_exits = 0, exits_vmm = 0, exits_kernel = 0;
  uint64_t exit_time_ns = 0;  // its exits' duration_ns summed
  uint64_t traps = 0, ring_transitions = 0;
  uint64_t interrupts = 0;                 // traps of cause interrupt (timer ticks, IPIs, devices)
  uint64_t ipis_sent = 0, ipis_taken = 0;  // ICR writes (device "lapic ICR"); irq_inject via ipi
  uint64_t ipi_latency_ns = 0;             // the taken IPIs' duration_ns summed
  uint64_t first_ns = 0, last_ns = 0;      // its first and last event
  uint64_t instructions = 0;               // the emulator's `instructions` counter, where recorded
  uint64_t thread_cpu_ns = 0;              // its host thread's CPU time (vcpu_thread_cpu_ns), where recorded
  uint64_t span_ns() const { return last_ns - first_ns; }
};

class VcpuStatsBuilder {
 public:
  void add(const Event& e);
  std::vector<VcpuStats> finish() const;  // by vCPU index
  uint64_t dropped() const { return dropped_; }

 private:
  std::map<uint32_t, VcpuStats> lanes_;
  uint64_t dropped_ = 0;
};

}  // namespace ringscope
