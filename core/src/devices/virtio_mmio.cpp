// virtio_mmio.cpp — the virtio-mmio transport, version 2 (virtio 1.2, 4.2).
//
// Reads top to bottom like kvmtool's virtio/mmio.c: register names, one
// read handler and one write handler switching on the offset, then the
// status machine (reset, feature negotiation) and queue setup.
//
// The driver is hostile until checked: registers must be accessed as
// aligned 32-bit words (4.2.2.2), QueueSel/QueueNum are checked against the
// queue count and QueueNumMax, ring addresses against guest RAM when the
// queue goes ready, and features against what we offered. A violation is
// reported as a device event; a broken ring sets DEVICE_NEEDS_RESET.
#include "ringscope/devices/virtio_mmio.h"

namespace ringscope {

VirtioMmioDevice::VirtioMmioDevice(uint16_t num_queues, uint16_t queue_max, IrqLine* irq)
    : queue_max_(queue_max), irq_(irq), queues_(num_queues), qregs_(num_queues) {}

std::string_view VirtioMmioDevice::register_name(uint64_t offset, Direction) const {
  if (offset >= kConfig) return "Config";
  switch (offset) {
    case kMagic: return "MagicValue";
    case kVersion: return "Version";
    case kDeviceId: return "DeviceID";
    case kVendorId: return "VendorID";
    case kDeviceFeatures: return "DeviceFeatures";
    case kDeviceFeaturesSel: return "DeviceFeaturesSel";
    case kDriverFeatures: return "DriverFeatures";
    case kDriverFeaturesSel: return "DriverFeaturesSel";
    case kQueueSel: return "QueueSel";
    case kQueueNumMax: return "QueueNumMax";
    case kQueueNum: return "QueueNum";
    case kQueueReady: return "QueueReady";
    case kQueueNotify: return "QueueNotify";
    case kInterruptStatus: return "InterruptStatus";
    case kInterruptAck: return "InterruptACK";
    case kStatus: return "Status";
    case kQueueDescLow: return "QueueDescLow";
    case kQueueDescHigh: return "QueueDescHigh";
    case kQueueDriverLow: return "QueueDriverLow";
    case kQueueDriverHigh: return "QueueDriverHigh";
    case kQueueDeviceLow: return "QueueDeviceLow";
    case kQueueDeviceHigh: return "QueueDeviceHigh";
    case kShmSel: return "SHMSel";
    case kShmLenLow: return "SHMLenLow";
    case kShmLenHigh: return "SHMLenHigh";
    case kShmBaseLow: return "SHMBaseLow";
    case kShmBaseHigh: return "SHMBaseHigh";
    case kQueueReset: return "QueueReset";
    case kConfigGeneration: return "ConfigGeneration";
  }
  return "reserved";
}

void VirtioMmioDevice::trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value, uint8_t width,
                             uint32_t count) const {
  ctx.trace_device(name(), reg, dir, value, width, count);
}

uint64_t VirtioMmioDevice::read(DeviceContext& ctx, uint64_t offset, uint8_t width) {
  if (offset >= kConfig) {
    // Config space: any width, little-endian bytes; beyond its end reads 0.
    std::vector<uint8_t> cfg = config_space();
    uint64_t v = 0;
    for (uint8_t i = 0; i < width && i < 8; i++) {
      uint64_t at = offset - kConfig + i;
      if (at < cfg.size()) v |= uint64_t(cfg[at]) << (8 * i);
    }
    trace(ctx, "Config", Direction::Read, v, width);
    return v;
  }
  if (width != 4 || (offset & 3)) {
    trace(ctx, "error: register access not an aligned 32-bit word", Direction::Read, offset, width);
    return 0;
  }
  uint64_t v = 0;
  QueueRegs* qr = queue_sel_ < qregs_.size() ? &qregs_[queue_sel_] : nullptr;
  switch (offset) {
    case kMagic: v = kVirtioMmioMagic; break;
    case kVersion: v = 2; break;
    case kDeviceId: v = device_id(); break;
    case kVendorId: v = kVirtioVendorId; break;
    case kDeviceFeatures: {
      uint64_t f = device_features() | kVirtioFVersion1;
      v = device_features_sel_ == 0 ? (f & 0xffffffff) : device_features_sel_ == 1 ? (f >> 32) : 0;
      break;
    }
    case kQueueNumMax: v = qr ? queue_max_ : 0; break;  // 0: no such queue
    case kQueueReady: v = qr ? queues_[queue_sel_].ready() : 0; break;
    case kInterruptStatus: v = interrupt_status_; break;
    case kStatus: v = status_; break;
    case kShmLenLow:
    case kShmLenHigh: v = 0xffffffff; break;  // no shared memory regions
    case kConfigGeneration: v = config_generation_; break;
    default: break;  // write-only and reserved registers read 0
  }
  trace(ctx, register_name(offset, Direction::Read), Direction::Read, v, width);
  return v;
}

void VirtioMmioDevice::write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  if (offset >= kConfig) {
    trace(ctx, "Config", Direction::Write, value, width);
    config_write(ctx, offset - kConfig, width, value);
    return;
  }
  if (width != 4 || (offset & 3)) {
    trace(ctx, "error: register access not an aligned 32-bit word", Direction::Write, offset, width);
    return;
  }
  uint32_t v = static_cast<uint32_t>(value);
  QueueRegs* qr = queue_sel_ < qregs_.size() ? &qregs_[queue_sel_] : nullptr;
  if (offset == kQueueNotify) {
    // The doorbell: the one register a working driver writes per batch.
    uint32_t chains = 0;
    notifies_++;
    if (v >= queues_.size())
      trace(ctx, "error: QueueNotify names a queue the device does not have", Direction::Write, v, width);
    else if (!driver_ok() || !queues_[v].ready())
      trace(ctx, "error: QueueNotify before DRIVER_OK or QueueReady", Direction::Write, v, width);
    else
      chains = on_notify(ctx, static_cast<uint16_t>(v));
    trace(ctx, "QueueNotify", Direction::Write, v, width, chains);
    return;
  }
  trace(ctx, register_name(offset, Direction::Write), Direction::Write, v, width);
  switch (offset) {
    case kDeviceFeaturesSel: device_features_sel_ = v; break;
    case kDriverFeaturesSel: driver_features_sel_ = v; break;
    case kDriverFeatures:
      if (status_ & kVirtioStatusFeaturesOk) break;  // too late: features are fixed
      if (driver_features_sel_ == 0)
        driver_features_ = (driver_features_ & ~0xffffffffull) | v;
      else if (driver_features_sel_ == 1)
        driver_features_ = (driver_features_ & 0xffffffffull) | (uint64_t(v) << 32);
      break;
    case kQueueSel: queue_sel_ = v; break;  // checked on use: an unknown queue reads QueueNumMax 0
    case kQueueNum:
      if (!qr) break;
      if (v == 0 || v > queue_max_ || (v & (v - 1)))
        trace(ctx, "error: QueueNum not a power of two up to QueueNumMax", Direction::Write, v, width);
      else
        qr->num = static_cast<uint16_t>(v);
      break;
    case kQueueReady: set_queue_ready(ctx, v); break;
    case kInterruptAck: interrupt_status_ &= ~v; break;
    case kStatus: write_status(ctx, v); break;
    case kQueueDescLow:
      if (qr) qr->desc = (qr->desc & ~0xffffffffull) | v;
      break;
    case kQueueDescHigh:
      if (qr) qr->desc = (qr->desc & 0xffffffffull) | (uint64_t(v) << 32);
      break;
    case kQueueDriverLow:
      if (qr) qr->driver = (qr->driver & ~0xffffffffull) | v;
      break;
    case kQueueDriverHigh:
      if (qr) qr->driver = (qr->driver & 0xffffffffull) | (uint64_t(v) << 32);
      break;
    case kQueueDeviceLow:
      if (qr) qr->device = (qr->device & ~0xffffffffull) | v;
      break;
    case kQueueDeviceHigh:
      if (qr) qr->device = (qr->device & 0xffffffffull) | (uint64_t(v) << 32);
      break;
    case kQueueReset:
      if (qr && v == 1) {
        queues_[queue_sel_].reset();
        *qr = {};
      }
      break;
    default: break;  // read-only or reserved: ignored (traced above)
  }
}

void VirtioMmioDevice::set_queue_ready(DeviceContext& ctx, uint32_t v) {
  if (queue_sel_ >= queues_.size()) {
    trace(ctx, "error: QueueReady on a queue the device does not have", Direction::Write, queue_sel_, 4);
    return;
  }
  Virtqueue& q = queues_[queue_sel_];
  if (v == 0) {
    q.reset();
    return;
  }
  const QueueRegs& qr = qregs_[queue_sel_];
  uint16_t num = qr.num ? qr.num : queue_max_;
  VirtqError err = ctx.memory ? q.enable(*ctx.memory, num, qr.desc, qr.driver, qr.device) : VirtqError::RingOutsideRam;
  if (err != VirtqError::None) needs_reset(ctx, virtq_error_text(err), queue_sel_);
}

void VirtioMmioDevice::write_status(DeviceContext& ctx, uint32_t v) {
  if (v == 0) {
    reset(ctx);
    return;
  }
  // FEATURES_OK is accepted only for a subset of what we offered that
  // includes VERSION_1 (a version 2 transport has no legacy interface).
  if ((v & kVirtioStatusFeaturesOk) && !(status_ & kVirtioStatusFeaturesOk)) {
    uint64_t offered = device_features() | kVirtioFVersion1;
    if ((driver_features_ & ~offered) || !(driver_features_ & kVirtioFVersion1)) {
      trace(ctx, "error: driver accepted features the device did not offer, or not VERSION_1", Direction::Write,
            driver_features_, 8);
      v &= ~kVirtioStatusFeaturesOk;
    }
  }
  // The driver cannot clear NEEDS_RESET by writing status; only a reset does.
  status_ = v | (status_ & kVirtioStatusNeedsReset);
}

void VirtioMmioDevice::reset(DeviceContext& ctx) {
  (void)ctx;
  status_ = 0;
  driver_features_ = 0;
  device_features_sel_ = driver_features_sel_ = 0;
  queue_sel_ = 0;
  interrupt_status_ = 0;
  for (auto& q : queues_) q.reset();
  for (auto& r : qregs_) r = {};
  on_reset();
}

void VirtioMmioDevice::used_buffer_notify(DeviceContext& ctx, uint16_t q) {
  if (q >= queues_.size() || !ctx.memory) return;
  if (queues_[q].interrupts_suppressed(*ctx.memory)) return;  // VIRTQ_AVAIL_F_NO_INTERRUPT: the driver polls
  interrupt_status_ |= kVirtioIntUsedBuffer;
  if (irq_) irq_->raise(ctx);
}

void VirtioMmioDevice::needs_reset(DeviceContext& ctx, std::string_view what, uint64_t value) {
  trace(ctx, what, Direction::None, value, 0);
  if (status_ & kVirtioStatusNeedsReset) return;
  status_ |= kVirtioStatusNeedsReset;
  interrupt_status_ |= kVirtioIntConfigChange;
  config_generation_++;
  if (irq_) irq_->raise(ctx);
}

void VirtioMmioDevice::config_changed(DeviceContext& ctx) {
  config_generation_++;
  if (!(status_ & kVirtioStatusDriverOk)) return;  // a driver reads config when it starts
  interrupt_status_ |= kVirtioIntConfigChange;
  if (irq_) irq_->raise(ctx);
}

}  // namespace ringscope
