// ata.h — a legacy IDE/ATA disk, PIO only, on the primary channel
// (command block I/O ports 0x1f0..0x1f7, control block 0x3f6).
//
// The full-virt counterpart of virtio-blk: the driver writes the task-file
// registers one port at a time, polls the status register, and moves every
// 512-byte sector through the 16-bit data port. Under trap-and-emulate each
// of those accesses is a VM exit, which is the cost being compared.
#pragma once

#include <cstdint>

#include "ringscope/device.h"
#include "ringscope/devices/disk_image.h"

namespace ringscope {

inline constexpr uint16_t kAtaCommandBase = 0x1f0;
inline constexpr uint16_t kAtaCommandWindow = 8;
inline constexpr uint16_t kAtaControlBase = 0x3f6;
inline constexpr uint16_t kAtaControlWindow = 1;

class AtaDisk final : public Device {
 public:
  // Task-file registers (offsets from 0x1f0).
  enum Reg : uint8_t {
    kData = 0,
    kErrorFeatures = 1,
    kSectorCount = 2,
    kLbaLow = 3,
    kLbaMid = 4,
    kLbaHigh = 5,
    kDriveHead = 6,
    kStatusCommand = 7
  };
  static constexpr uint8_t kStatusErr = 0x01, kStatusDrq = 0x08, kStatusDsc = 0x10, kStatusDf = 0x20,
                           kStatusDrdy = 0x40, kStatusBsy = 0x80;
  static constexpr uint8_t kErrorAbrt = 0x04, kErrorIdnf = 0x10;
  static constexpr uint8_t kCmdReadSectors = 0x20, kCmdWriteSectors = 0x30, kCmdFlushCache = 0xe7, kCmdIdentify = 0xec;

  explicit AtaDisk(DiskImage* image) : image_(image) {}
  std::string_view name() const override { return "ata"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // The control block (0x3f6: alternate status / device control) is a
  // second window on the bus; it forwards here.
  class Control final : public Device {
   public:
    explicit Control(AtaDisk* disk) : disk_(disk) {}
    std::string_view name() const override { return "ata"; }
    uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
    void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
    std::string_view register_name(uint64_t, Direction dir) const override {
      return dir == Direction::In ? "AltStatus" : "DevControl";
    }

   private:
    AtaDisk* disk_;
  };
  Control& control() { return control_; }
  uint8_t status() const { return status_; }
  uint8_t error() const { return error_; }

 private:
  void command(DeviceContext& ctx, uint8_t cmd);
  void abort(DeviceContext& ctx, uint8_t error, std::string_view what, uint64_t value);
  bool load_next_sector(DeviceContext& ctx);
  void sector_written(DeviceContext& ctx);
  uint64_t lba() const;
  uint16_t data_in();
  void data_out(uint16_t w);
  void trace(DeviceContext& ctx, std::string_view reg, Direction dir, uint64_t value, uint8_t width) const;

  enum class Transfer : uint8_t { None, Read, Write, Identify };
  DiskImage* image_;
  Control control_{this};
  uint8_t features_ = 0, count_ = 0, lba_low_ = 0, lba_mid_ = 0, lba_high_ = 0, drive_head_ = 0xa0;
  uint8_t status_ = kStatusDrdy | kStatusDsc, error_ = 0, control_reg_ = 0;
  Transfer transfer_ = Transfer::None;
  uint64_t next_lba_ = 0;     // sector the transfer is at
  uint32_t remaining_ = 0;    // sectors left in the command, this one included
  uint8_t buf_[kSectorSize];  // the sector being moved through the data port
  uint32_t pos_ = 0;          // byte position in buf_
};

}  // namespace ringscope
