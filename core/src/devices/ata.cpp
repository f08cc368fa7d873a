// ata.cpp — ATA PIO with LBA28: READ SECTORS, WRITE SECTORS, IDENTIFY,
// FLUSH CACHE (the ATA/ATAPI-6 register protocol, what xv6's ide.c speaks).
//
// A command is written as: sector count, LBA low/mid/high, drive/head
// (bit 6 = LBA, low nibble = LBA bits 24..27), then the command register.
// For a read the device sets DRQ and the driver takes 256 words from the
// data port per sector; for a write the driver gives 256 words per sector.
// Transfers are instant, so BSY is never seen; the driver still polls.
//
// Hostile input: sector numbers are checked against the image before the
// command starts (error IDNF, "ID not found"), data-port accesses outside
// a transfer are ignored (reads give 0xffff), unknown commands abort
// (ABRT), drive 1 does not exist (its status reads 0). Each gets ERR in
// the status register and a device event saying what was wrong.
#include "ringscope/devices/ata.h"

#include <algorithm>
#include <cstring>

namespace ringscope {

std::string_view AtaDisk::register_name(uint64_t offset, Direction dir) const {
  bool in = dir == Direction::In || dir == Direction::Read;
  switch (offset) {
    case kData: return "Data";
    case kErrorFeatures: return in ? "Error" : "Features";
    case kSectorCount: return "SectorCount";
    case kLbaLow: return "LBALow";
    case kLbaMid: return "LBAMid";
    case kLbaHigh: return "LBAHigh";
    case kDriveHead: return "DriveHead";
    case kStatusCommand: return in ? "Status" : "Command";
  }
  return "";
}

void AtaDisk::trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value, uint8_t width) const {
  ctx.trace_device("ata", reg, dir, value, width);
}

uint64_t AtaDisk::lba() const {
  return (uint64_t(drive_head_ & 0x0f) << 24) | (uint64_t(lba_high_) << 16) | (uint64_t(lba_mid_) << 8) | lba_low_;
}

uint64_t AtaDisk::read(DeviceContext& ctx, uint64_t offset, uint8_t width) {
  bool slave = drive_head_ & 0x10;
  uint64_t v = 0;
  switch (offset) {
    case kData:
      if (transfer_ == Transfer::None || transfer_ == Transfer::Write) {
        v = width >= 4 ? 0xffffffff : 0xffff;
      } else {
        v = data_in();
        if (width >= 4) v |= uint64_t(data_in()) << 16;
      }
      break;
    case kErrorFeatures: v = error_; break;
    case kSectorCount: v = count_; break;
    case kLbaLow: v = lba_low_; break;
    case kLbaMid: v = lba_mid_; break;
    case kLbaHigh: v = lba_high_; break;
    case kDriveHead: v = drive_head_; break;
    case kStatusCommand: v = slave ? 0 : status_; break;  // no drive 1: floating bus reads 0 here
  }
  trace(ctx, register_name(offset, Direction::In), Direction::In, v, width);
  return v;
}

void AtaDisk::write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  uint8_t b = static_cast<uint8_t>(value);
  trace(ctx, register_name(offset, Direction::Out), Direction::Out, offset == kData ? value : b, width);
  switch (offset) {
    case kData:
      if (transfer_ != Transfer::Write) {
        trace(ctx, "error: data port write outside a write command", Direction::Out, value, width);
        break;
      }
      data_out(static_cast<uint16_t>(value));
      if (width >= 4 && transfer_ == Transfer::Write) data_out(static_cast<uint16_t>(value >> 16));
      if (pos_ == kSectorSize) sector_written(ctx);
      break;
    case kErrorFeatures: features_ = b; break;
    case kSectorCount: count_ = b; break;
    case kLbaLow: lba_low_ = b; break;
    case kLbaMid: lba_mid_ = b; break;
    case kLbaHigh: lba_high_ = b; break;
    case kDriveHead: drive_head_ = b | 0xa0; break;
    case kStatusCommand: command(ctx, b); break;
  }
}

uint64_t AtaDisk::Control::read(DeviceContext& ctx, uint64_t, uint8_t width) {
  // Alternate status: the status register without side effects.
  uint64_t v = (disk_->drive_head_ & 0x10) ? 0 : disk_->status_;
  disk_->trace(ctx, "AltStatus", Direction::In, v, width);
  return v;
}

void AtaDisk::Control::write(DeviceContext& ctx, uint64_t, uint8_t width, uint64_t value) {
  disk_->trace(ctx, "DevControl", Direction::Out, value & 0xff, width);
  uint8_t b = static_cast<uint8_t>(value);
  if ((b & 0x04) && !(disk_->control_reg_ & 0x04)) {  // SRST: software reset
    disk_->transfer_ = Transfer::None;
    disk_->status_ = kStatusDrdy | kStatusDsc;
    disk_->error_ = 0x01;  // diagnostic code: no error
  }
  disk_->control_reg_ = b;
}

void AtaDisk::abort(DeviceContext& ctx, uint8_t error, std::string_view what, uint64_t value) {
  transfer_ = Transfer::None;
  error_ = error;
  status_ = kStatusDrdy | kStatusDsc | kStatusErr;
  trace(ctx, what, Direction::None, value, 0);
}

void AtaDisk::command(DeviceContext& ctx, uint8_t cmd) {
  if (drive_head_ & 0x10) {
    trace(ctx, "error: command to drive 1, which is absent", Direction::Out, cmd, 1);
    return;
  }
  error_ = 0;
  transfer_ = Transfer::None;
  uint32_t n = count_ ? count_ : 256;  // a count of 0 means 256 sectors
  switch (cmd) {
    case kCmdReadSectors:
    case kCmdReadSectors + 1:
    case kCmdWriteSectors:
    case kCmdWriteSectors + 1: {
      if (!(drive_head_ & 0x40))
        return abort(ctx, kErrorAbrt, "error: CHS addressing not supported, set LBA", drive_head_);
      if (!image_ || !image_->in_range(lba(), n))
        return abort(ctx, kErrorIdnf, "error: sector beyond the end of the image", lba());
      // A write-protected disk refuses the command (ABRT), as a drive does.
      if (cmd >= kCmdWriteSectors && image_->read_only())
        return abort(ctx, kErrorAbrt, "error: write to a read-only disk image", lba());
      next_lba_ = lba();
      remaining_ = n;
      pos_ = 0;
      if (cmd <= kCmdReadSectors + 1) {
        transfer_ = Transfer::Read;
        if (!load_next_sector(ctx)) return;
      } else {
        transfer_ = Transfer::Write;
      }
      status_ = kStatusDrdy | kStatusDsc | kStatusDrq;
      return;
    }
    case kCmdIdentify: {
      // 256 words; the ones a driver looks at: 0 (general config: fixed
      // disk), 27..46 model string (byte-swapped pairs), 49 (LBA supported),
      // 60..61 total LBA28 sectors.
      std::memset(buf_, 0, sizeof buf_);
      auto word = [&](int i, uint16_t v) { std::memcpy(buf_ + 2 * i, &v, 2); };
      word(0, 0x0040);
      const char model[] = "RINGSCOPE ATA DISK                      ";  // 40 chars
      for (int i = 0; i < 20; i++) word(27 + i, uint16_t((uint8_t(model[2 * i]) << 8) | uint8_t(model[2 * i + 1])));
      word(49, 1u << 9);
      uint64_t total = image_ ? std::min<uint64_t>(image_->sectors(), 0x0fffffff) : 0;
      word(60, uint16_t(total & 0xffff));
      word(61, uint16_t(total >> 16));
      transfer_ = Transfer::Identify;
      remaining_ = 1;
      pos_ = 0;
      status_ = kStatusDrdy | kStatusDsc | kStatusDrq;
      return;
    }
    case kCmdFlushCache:
      if (image_ && !image_->flush()) return abort(ctx, kErrorAbrt, "error: host flush failed", 0);
      status_ = kStatusDrdy | kStatusDsc;
      return;
    default: return abort(ctx, kErrorAbrt, "error: unsupported ATA command", cmd);
  }
}

bool AtaDisk::load_next_sector(DeviceContext& ctx) {
  if (!image_->read(next_lba_, buf_, 1)) {
    abort(ctx, kErrorIdnf, "error: host read failed", next_lba_);
    return false;
  }
  pos_ = 0;
  return true;
}

uint16_t AtaDisk::data_in() {
  if (transfer_ != Transfer::Read && transfer_ != Transfer::Identify) return 0xffff;
  uint16_t w;
  std::memcpy(&w, buf_ + pos_, 2);
  pos_ += 2;
  if (pos_ == kSectorSize) {
    next_lba_++;
    if (--remaining_ == 0 || transfer_ == Transfer::Identify) {
      transfer_ = Transfer::None;
      status_ = kStatusDrdy | kStatusDsc;
    } else {
      DeviceContext none;
      load_next_sector(none);
    }
  }
  return w;
}

void AtaDisk::data_out(uint16_t w) {
  if (pos_ >= kSectorSize) return;
  std::memcpy(buf_ + pos_, &w, 2);
  pos_ += 2;
}

void AtaDisk::sector_written(DeviceContext& ctx) {
  if (!image_->write(next_lba_, buf_, 1)) return abort(ctx, kErrorIdnf, "error: host write failed", next_lba_);
  trace(ctx, "sector written", Direction::Out, next_lba_, 0);
  next_lba_++;
  pos_ = 0;
  if (--remaining_ == 0) {
    transfer_ = Transfer::None;
    status_ = kStatusDrdy | kStatusDsc;
  }
}

}  // namespace ringscope
