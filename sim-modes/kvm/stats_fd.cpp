// stats_fd.cpp — reading KVM's binary stats (Documentation/virt/kvm/api.rst,
// "KVM_GET_STATS_FD"): a header, descriptors with names, then a data block.
#include "stats_fd.h"

#include "kvm_abi.h"
#include "ringscope/i18n.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringscope::kvm {

Result<VcpuStats> VcpuStats::open(const Vcpu& vcpu) {
  VcpuStats st;
  TRY_ASSIGN(st.fd_, vcpu.stats_fd());
  int fd = st.fd_.get();
  struct kvm_stats_header h;
  if (pread(fd, &h, sizeof h, 0) != sizeof h)
    return make_error(ErrorKind::Internal, tr("cannot read the KVM stats header"));
  if (h.num_desc > 4096 || h.name_size > 4096)
    return make_error(ErrorKind::Internal, tr("the KVM stats header is implausible"));
  size_t desc_size = abi::kStatsDescHeader + h.name_size;
  std::vector<uint8_t> descs(desc_size * h.num_desc);
  if (pread(fd, descs.data(), descs.size(), h.desc_offset) != static_cast<ssize_t>(descs.size()))
    return make_error(ErrorKind::Internal, tr("cannot read the KVM stats descriptors"));
  size_t end = 0;
  for (uint32_t i = 0; i < h.num_desc; i++) {
    abi::StatsDesc d;
    const uint8_t* raw = descs.data() + i * desc_size;
    std::memcpy(&d, raw, sizeof d);
    const char* name = reinterpret_cast<const char*>(raw + abi::kStatsDescHeader);
    end = std::max<size_t>(end, d.offset + size_t(d.size) * 8);
    if (d.size != 1) continue;  // histograms are skipped: one value per stat here
    st.names_.emplace_back(name, strnlen(name, h.name_size));
    st.offsets_.push_back(d.offset / 8);
  }
  st.data_offset_ = h.data_offset;
  st.data_size_ = end;
  st.buf_.resize((end + 7) / 8);
  return st;
}

bool VcpuStats::sample(std::vector<uint64_t>& values) const {
  if (!fd_.valid()) return false;
  if (pread(fd_.get(), buf_.data(), data_size_, data_offset_) != static_cast<ssize_t>(data_size_)) return false;
  values.resize(offsets_.size());
  for (size_t i = 0; i < offsets_.size(); i++) values[i] = buf_[offsets_[i]];
  return true;
}

int VcpuStats::index_of(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); i++)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

}  // namespace ringscope::kvm
