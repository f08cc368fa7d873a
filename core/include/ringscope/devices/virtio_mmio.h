// virtio_mmio.h — the "virtio over MMIO" transport, version 2 registers
// (virtio 1.2, section 4.2.2), the part every virtio device shares
// (kvmtool's virtio/mmio.c + virtio/core.c).
//
// A device is a 0x200-byte MMIO window: registers at 0x000..0x0ff, the
// device-specific configuration space from 0x100. The driver negotiates
// features, sets up each queue's three ring addresses, sets DRIVER_OK, and
// from then on talks through the rings; the only register it touches per
// batch of requests is QueueNotify (one exit), and the device answers by
// interrupt (one injection), unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
//
// Concrete devices (virtio_console, virtio_blk) derive from VirtioMmioDevice
// and supply the device id, feature bits, config space and a notify handler.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/device.h"
#include "ringscope/devices/virtio_queue.h"

namespace ringscope {

inline constexpr uint64_t kVirtioMmioBase = 0x3f000000;  // below 1 GiB: inside the guest kernel's identity map
inline constexpr uint64_t kVirtioMmioStride = 0x200;
inline constexpr uint32_t kVirtioMmioMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kVirtioVendorId = 0x50435352;   // "RSCP"
inline constexpr uint8_t kVirtioIrqBase = 5;  // virtio device n drives IRQ 5 + n (as kvmtool allocates lines from 5)

// Device status bits (2.1).
inline constexpr uint32_t kVirtioStatusAcknowledge = 1;
inline constexpr uint32_t kVirtioStatusDriver = 2;
inline constexpr uint32_t kVirtioStatusDriverOk = 4;
inline constexpr uint32_t kVirtioStatusFeaturesOk = 8;
inline constexpr uint32_t kVirtioStatusNeedsReset = 64;
inline constexpr uint32_t kVirtioStatusFailed = 128;
inline constexpr uint64_t kVirtioFVersion1 = 1ull << 32;

// InterruptStatus bits (4.2.2).
inline constexpr uint32_t kVirtioIntUsedBuffer = 1;
inline constexpr uint32_t kVirtioIntConfigChange = 2;

// One interrupt line: the wire from a device to an interrupt controller,
// numbered as the PC numbers them (IRQ 0-15). Virtio device n raises IRQ
// kVirtioIrqBase + n, edge-triggered. Where the wire ends is the machine's
// business (Machine::connect): ringscope's own 8259A model, which the
// backend then asks for a vector, or KVM's in-kernel irqchip through an
// irqfd. The device only raises it; the guest acknowledges at the device
// (InterruptACK) and ends the interrupt at its PIC (EOI), as on a PC.
class IrqLine {
 public:
  using Wire = std::function<void(DeviceContext& ctx, const IrqLine& line)>;
  IrqLine(uint8_t irq, std::string_view device) : irq_(irq), device_(device) {}
  void connect(Wire wire) { wire_ = std::move(wire); }
  void raise(DeviceContext& ctx) {
    raised_++;
    if (wire_) wire_(ctx, *this);
  }
  uint8_t irq() const { return irq_; }
  std::string_view device() const { return device_; }
  uint64_t raised() const { return raised_; }  // edges since the machine was built

 private:
  uint8_t irq_;
  std::string_view device_;  // who drives it, for events ("virtio-blk")
  Wire wire_;
  uint64_t raised_ = 0;
};

class VirtioMmioDevice : public Device {
 public:
  // Register offsets (4.2.2, table "MMIO Device Register Layout").
  enum Reg : uint32_t {
    kMagic = 0x000,
    kVersion = 0x004,
    kDeviceId = 0x008,
    kVendorId = 0x00c,
    kDeviceFeatures = 0x010,
    kDeviceFeaturesSel = 0x014,
    kDriverFeatures = 0x020,
    kDriverFeaturesSel = 0x024,
    kQueueSel = 0x030,
    kQueueNumMax = 0x034,
    kQueueNum = 0x038,
    kQueueReady = 0x044,
    kQueueNotify = 0x050,
    kInterruptStatus = 0x060,
    kInterruptAck = 0x064,
    kStatus = 0x070,
    kQueueDescLow = 0x080,
    kQueueDescHigh = 0x084,
    kQueueDriverLow = 0x090,
    kQueueDriverHigh = 0x094,
    kQueueDeviceLow = 0x0a0,
    kQueueDeviceHigh = 0x0a4,
    kShmSel = 0x0ac,
    kShmLenLow = 0x0b0,
    kShmLenHigh = 0x0b4,
    kShmBaseLow = 0x0b8,
    kShmBaseHigh = 0x0bc,
    kQueueReset = 0x0c0,
    kConfigGeneration = 0x0fc,
    kConfig = 0x100,
  };

  VirtioMmioDevice(uint16_t num_queues, uint16_t queue_max, IrqLine* irq);

  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  uint32_t status() const { return status_; }
  uint64_t driver_features() const { return driver_features_; }
  uint32_t interrupt_status() const { return interrupt_status_; }
  Virtqueue& queue(uint16_t i) { return queues_[i]; }
  uint64_t notifies() const { return notifies_; }

 protected:
  virtual uint32_t device_id() const = 0;
  virtual uint64_t device_features() const = 0;  // device-specific bits; VERSION_1 is added here
  virtual std::vector<uint8_t> config_space() const = 0;
  virtual void config_write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
    (void)ctx, (void)offset, (void)width, (void)value;
  }
  // The driver wrote QueueNotify = q (q < num_queues, the queue is ready).
  // Returns how many chains were processed, for the trace.
  virtual uint32_t on_notify(DeviceContext& ctx, uint16_t q) = 0;
  virtual void on_reset() {}

  // For device files: after using chains on queue q, interrupt the driver
  // unless it set VIRTQ_AVAIL_F_NO_INTERRUPT on that queue.
  void used_buffer_notify(DeviceContext& ctx, uint16_t q);
  // The driver broke the protocol: DEVICE_NEEDS_RESET, a configuration
  // change interrupt (4.2.2: how an MMIO device reports it), and a device
  // event saying what was wrong.
  void needs_reset(DeviceContext& ctx, std::string_view what, uint64_t value);
  // The device changed its config space (virtio-balloon's num_pages): a new
  // ConfigGeneration, and a configuration change interrupt once the driver
  // is running (4.2.2: InterruptStatus bit 1).
  void config_changed(DeviceContext& ctx);
  // A device event: device name, `reg` (register, queue or error phrase), value.
  void trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value, uint8_t width,
             uint32_t count = 0) const;
  bool driver_ok() const { return (status_ & kVirtioStatusDriverOk) && !(status_ & kVirtioStatusNeedsReset); }

 private:
  struct QueueRegs {
    uint16_t num = 0;
    uint64_t desc = 0, driver = 0, device = 0;
  };
  void reset(DeviceContext& ctx);
  void write_status(DeviceContext& ctx, uint32_t value);
  void set_queue_ready(DeviceContext& ctx, uint32_t value);

  uint16_t queue_max_;
  IrqLine* irq_;
  std::vector<Virtqueue> queues_;
  std::vector<QueueRegs> qregs_;
  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0, driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  uint64_t notifies_ = 0;
};

}  // namespace ringscope
