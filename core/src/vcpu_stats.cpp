// vcpu_stats.cpp — per-vCPU statistics (vcpu_stats.h).
#include "ringscope/vcpu_stats.h"

#include <algorithm>

#include "ringscope/event_schema.h"
#include "ringscope/supervisor.h"

namespace ringscope {

void VcpuStatsBuilder::add(const Event& e) {
  auto it = lanes_.find(e.vcpu);
  if (it == lanes_.end()) {
    if (lanes_.size() >= kMaxStatVcpus) {
      dropped_++;
      return;
    }
    VcpuStats v;
    v.vcpu = e.vcpu;
    v.first_ns = v.last_ns = e.time_ns;
    it = lanes_.emplace(e.vcpu, v).first;
  }
  VcpuStats& v = it->second;
  v.events++;
  v.first_ns = std::min(v.first_ns, e.time_ns);
  v.last_ns = std::max(v.last_ns, e.time_ns);
  switch (e.kind) {
    case EventKind::VmExit:
      v.vm_exits++;
      if (e.handled_by == HandledBy::Vmm) v.exits_vmm++;
      if (e.handled_by == HandledBy::Kernel) v.exits_kernel++;
      v.exit_time_ns += e.duration_ns;
      break;
    case EventKind::Trap:
    case EventKind::TrapReturn:
      if (e.kind == EventKind::Trap) {
        v.traps++;
        if (e.cause == TrapCause::Interrupt) v.interrupts++;
      }
      if (e.from_cpl != e.to_cpl) v.ring_transitions++;
      break;
    case EventKind::Device:
      if (e.device == "lapic" && e.reg == "ICR") v.ipis_sent++;
      break;
    case EventKind::IrqInject:
      if (irq_via(e) == IrqVia::Ipi) {
        v.ipis_taken++;
        v.ipi_latency_ns += e.duration_ns;
      }
      break;
    case EventKind::Counter:
      if (e.name == "instructions" && e.source == Source::Emulator) v.instructions = e.value;
      if (e.name == kCounterVcpuThreadCpuNs) v.thread_cpu_ns = e.value;
      break;
    default: break;
  }
}

std::vector<VcpuStats> VcpuStatsBuilder::finish() const {
  std::vector<VcpuStats> out;
  out.reserve(lanes_.size());
  for (const auto& [i, v] : lanes_) out.push_back(v);
  return out;
}

}  // namespace ringscope
