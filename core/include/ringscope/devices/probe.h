// probe.h — the probe port: how a guest tells the VMM about itself.
//
// docs/probe-port.md is the guest-side contract:
//   in  dword 0xf0 -> 0x52494e47 ("RING"): "you are running under ringscope"
//   out dword 0xf0 <- GPA of struct probe_marker: a workload marker
//   out       0xf4 <- exit status; ends the run (QEMU isa-debug-exit compatible)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ringscope/device.h"

namespace ringscope {

inline constexpr uint16_t kProbeBase = 0xf0;
inline constexpr uint16_t kProbeWindow = 8;
inline constexpr uint32_t kProbeMagic = 0x52494e47;  // "RING"

class ProbeDevice final : public Device {
 public:
  enum Reg : uint8_t { kMarker = 0, kExit = 4 };
  // struct probe_marker { u32 phase; u32 value; char label[56]; }
  static constexpr uint64_t kMarkerSize = 64;
  static constexpr uint64_t kLabelMax = 56;

  std::string_view name() const override { return "probe"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  bool exited() const { return exited_; }
  int status() const { return status_; }
  uint64_t markers() const { return markers_; }

 private:
  void marker(DeviceContext& ctx, uint64_t gpa);
  bool exited_ = false;
  int status_ = 0;
  uint64_t markers_ = 0;
  std::string label_;
};

}  // namespace ringscope
