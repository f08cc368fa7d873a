// stats_fd.h — the per-vCPU binary statistics (KVM_GET_STATS_FD).
//
// Most exits never reach user space: KVM handles them in the kernel. They are
// invisible one by one, but the per-vCPU statistics count them. Sampling the
// stats around each user-space exit turns those counts into `counter` events
// so a trace still accounts for every exit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvm_vm.h"
#include "ringscope/result.h"

namespace ringscope::kvm {

class VcpuStats {
 public:
  // Opens the stats fd of a vCPU and reads the descriptors once.
  static Result<VcpuStats> open(const Vcpu& vcpu);
  VcpuStats() = default;

  // Reads all values (one pread). Returns false on failure.
  bool sample(std::vector<uint64_t>& values) const;
  const std::vector<std::string>& names() const { return names_; }
  // Index of a stat by name, or -1.
  int index_of(const std::string& name) const;
  bool available() const { return fd_.valid(); }

 private:
  Fd fd_;
  uint64_t data_offset_ = 0;
  size_t data_size_ = 0;
  std::vector<std::string> names_;
  std::vector<uint32_t> offsets_;  // in u64 units within the data block
  mutable std::vector<uint64_t> buf_;

 public:
  VcpuStats(VcpuStats&&) = default;
  VcpuStats& operator=(VcpuStats&&) = default;
};

}  // namespace ringscope::kvm
