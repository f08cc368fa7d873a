// virtio_blk.h — virtio-blk (virtio 1.2, 5.2): read, write, flush, get-id.
//
// One request is one descriptor chain:
//   struct { le32 type; le32 reserved; le64 sector; }   device-readable
//   data (512-byte multiples)                           readable for OUT, writable for IN
//   u8 status                                           device-writable, the last byte
// Sectors live in a DiskImage (a host file). A request beyond the image,
// a data length that is not whole sectors, or an unknown type gets
// VIRTIO_BLK_S_IOERR / VIRTIO_BLK_S_UNSUPP and a device event saying why.
#pragma once

#include "ringscope/devices/disk_image.h"
#include "ringscope/devices/virtio_mmio.h"

namespace ringscope {

class VirtioBlk final : public VirtioMmioDevice {
 public:
  static constexpr uint32_t kDeviceId = 2;
  static constexpr uint64_t kFeatureSegMax = 1ull << 2;   // VIRTIO_BLK_F_SEG_MAX
  static constexpr uint64_t kFeatureBlkSize = 1ull << 6;  // VIRTIO_BLK_F_BLK_SIZE
  static constexpr uint64_t kFeatureFlush = 1ull << 9;    // VIRTIO_BLK_F_FLUSH
  static constexpr uint64_t kFeatureRo = 1ull << 5;       // VIRTIO_BLK_F_RO: a read-only image
  static constexpr uint32_t kTypeIn = 0, kTypeOut = 1, kTypeFlush = 4, kTypeGetId = 8;
  static constexpr uint8_t kStatusOk = 0, kStatusIoErr = 1, kStatusUnsupp = 2;
  static constexpr uint16_t kQueueMax = 128;
  static constexpr uint32_t kSegMax = 126;  // data segments per request (queue size - header - status)

  VirtioBlk(IrqLine* irq, DiskImage* image) : VirtioMmioDevice(1, kQueueMax, irq), image_(image) {}
  std::string_view name() const override { return "virtio-blk"; }
  uint64_t requests() const { return requests_; }

 protected:
  uint32_t device_id() const override { return kDeviceId; }
  uint64_t device_features() const override {
    return kFeatureSegMax | kFeatureBlkSize | kFeatureFlush | (image_ && image_->read_only() ? kFeatureRo : 0);
  }
  std::vector<uint8_t> config_space() const override;
  uint32_t on_notify(DeviceContext& ctx, uint16_t q) override;

 private:
  // Does one request; returns the status byte and sets *written (data bytes put into the chain).
  uint8_t execute(DeviceContext& ctx, const VirtqChain& c, uint32_t* written);
  uint8_t fail(DeviceContext& ctx, std::string_view what, uint64_t value, uint8_t status);
  DiskImage* image_;
  uint64_t requests_ = 0;
};

}  // namespace ringscope
