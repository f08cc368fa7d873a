// probe.h — the probe port: how a guest tells the VMM about itself.
//
// docs/probe-port.md is the guest-side contract:
//   in  dword 0xf0 -> 0x52494e47 ("RING"): "you are running under ringscope"
//   out dword 0xf0 <- GPA of struct probe_marker: a workload marker
//   out       0xf4 <- exit status; ends the run (QEMU isa-debug-exit compatible)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ringscope/device.h"
#include "ringscope/event.h"
#include "ringscope/guest_abi.h"

namespace ringscope {

// The numbers are the guest ABI header's (ringscope/guest_abi.h), which the
// teaching kernel includes too.
inline constexpr uint16_t kProbeBase = PROBE_PORT;
inline constexpr uint16_t kProbeWindow = PROBE_PORTS;
inline constexpr uint32_t kProbeMagic = PROBE_MAGIC;  // "RING"
// The guest's marker phases are the trace's.
static_assert(static_cast<int>(MarkerPhase::Point) == MARK_POINT &&
                  static_cast<int>(MarkerPhase::Begin) == MARK_BEGIN && static_cast<int>(MarkerPhase::End) == MARK_END,
              "guest_abi.h's MARK_* and MarkerPhase must agree");

class ProbeDevice final : public Device {
 public:
  enum Reg : uint8_t { kMarker = PROBE_PORT - PROBE_PORT, kExit = PROBE_EXIT_PORT - PROBE_PORT };
  // struct probe_marker { u32 phase; u32 value; char label[PROBE_LABEL_MAX]; }
  static constexpr uint64_t kMarkerSize = PROBE_MARKER_SIZE;
  static constexpr uint64_t kLabelMax = PROBE_LABEL_MAX;

  std::string_view name() const override { return "probe"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override {
    (void)write_access(ctx, offset, width, value);
  }
  // A write to the exit port returns the guest's exit and its status.
  AccessResult write_access(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // Called with every marker the guest reports, after it is recorded: the
  // machine acts on a workload's phase (`run --balloon-target`).
  using MarkerHook = std::function<void(DeviceContext& ctx, MarkerPhase phase, std::string_view label)>;
  void set_marker_hook(MarkerHook hook) { hook_ = std::move(hook); }

  bool exited() const { return exited_; }
  int status() const { return status_; }
  uint64_t markers() const { return markers_; }

 private:
  void marker(DeviceContext& ctx, uint64_t gpa);
  bool exited_ = false;
  int status_ = 0;
  uint64_t markers_ = 0;
  std::string label_;
  MarkerHook hook_;
};

}  // namespace ringscope
