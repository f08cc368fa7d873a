// virtio_balloon.h — the traditional memory balloon (virtio 1.2, 5.5),
// device id 5.
//
// The host wants some of the guest's memory back. It writes how many 4 KiB
// pages it wants into the config field num_pages and signals a
// configuration change; the driver allocates that many pages inside the
// guest (so nothing in the guest uses them any more) and hands their page
// frame numbers over on the inflate queue. The device then tells the host
// kernel those pages are free: madvise(MADV_DONTNEED) on the guest-RAM
// mapping, and the host's resident set shrinks. When the host lowers
// num_pages again, the driver takes pages back on the deflate queue; the
// device does nothing for them: the guest's next touch of such a page
// faults a fresh zeroed page in on the host. The driver reports how many
// pages it holds in the config field actual.
//
// Queue 0 is inflateq, queue 1 deflateq; each buffer is an array of le32
// PFNs (page frame numbers in 4 KiB units, whatever the guest's page size).
// The PFNs are the guest's word and hostile: one outside guest RAM is
// refused (traced, counted) and never reaches madvise. No feature bits
// are offered besides VERSION_1 (no MUST_TELL_HOST, stats or free page
// hinting), as QEMU's plain `-device virtio-balloon` negotiates them off.
#pragma once

#include <atomic>
#include <cstdint>

#include "ringscope/devices/virtio_mmio.h"

namespace ringscope {

class VirtioBalloon final : public VirtioMmioDevice {
 public:
  static constexpr uint32_t kDeviceId = 5;
  static constexpr uint16_t kInflateQ = 0, kDeflateQ = 1;
  static constexpr uint16_t kQueueMax = 128;
  static constexpr uint64_t kPageSize = 4096;  // VIRTIO_BALLOON_PFN_SHIFT 12
  // Config space (5.5.4): le32 num_pages @0 (device writes), le32 actual @4 (driver writes).
  static constexpr uint64_t kConfigNumPages = 0, kConfigActual = 4;

  explicit VirtioBalloon(IrqLine* irq) : VirtioMmioDevice(2, kQueueMax, irq) {}
  std::string_view name() const override { return "virtio-balloon"; }

  // The host's side (QMP `balloon`, `run --balloon-target`): how many pages
  // the guest should give up. Raises a configuration change interrupt once
  // the driver is running; before that the driver reads it when it starts.
  // Thread: the vCPU's (like every device access).
  void set_target(DeviceContext& ctx, uint32_t pages);
  uint32_t target_pages() const { return num_pages_.load(std::memory_order_relaxed); }
  // What the driver last reported in `actual`: pages it holds. Any thread.
  uint32_t actual_pages() const { return actual_.load(std::memory_order_relaxed); }
  // Pages handed back to the host (madvise) and taken back, over the run;
  // PFNs refused because they lie outside guest RAM.
  uint64_t pages_inflated() const { return inflated_; }
  uint64_t pages_deflated() const { return deflated_; }
  uint64_t pfns_refused() const { return refused_; }

 protected:
  uint32_t device_id() const override { return kDeviceId; }
  uint64_t device_features() const override { return 0; }
  std::vector<uint8_t> config_space() const override;
  void config_write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  uint32_t on_notify(DeviceContext& ctx, uint16_t q) override;
  void on_reset() override { actual_.store(0, std::memory_order_relaxed); }

 private:
  // One PFN from the guest: checked, then given back to the host (inflate)
  // or only counted (deflate). False if it lies outside guest RAM.
  bool take_pfn(DeviceContext& ctx, uint16_t q, uint32_t pfn);

  std::atomic<uint32_t> num_pages_{0};
  std::atomic<uint32_t> actual_{0};
  uint64_t inflated_ = 0, deflated_ = 0, refused_ = 0;
};

// Gives [host, host + len) of a private anonymous mapping back to the host
// kernel (madvise MADV_DONTNEED): the pages stop counting in the resident
// set and read as zeros when next touched. A range that is not page
// aligned is zeroed instead (the guest sees the same thing). False if the
// kernel refused.
bool release_host_pages(uint8_t* host, uint64_t len);

}  // namespace ringscope
