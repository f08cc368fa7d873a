// uart16550.h — the PC serial port, a 16550A UART at I/O port 0x3f8.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ringscope/device.h"
#include "ringscope/devices/console_output.h"

namespace ringscope {

inline constexpr uint16_t kCom1Base = 0x3f8;
inline constexpr uint16_t kUartWindow = 8;

class Uart16550 final : public Device {
 public:
  // Register offsets from the base port (DLAB = LCR bit 7 selects the
  // divisor latch at offsets 0 and 1).
  enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };

  std::string_view name() const override { return "uart"; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;
  void finish(DeviceContext& ctx) override;

  // Called with every byte transmitted, as it is transmitted (the live console).
  void set_echo(std::function<void(char)> echo) { out_.set_echo(std::move(echo)); }
  // The other end of the line: bytes the guest receives, one per RBR read,
  // LSR.DR set while any are left (a file's worth of typing, all there at
  // once; when it is used up the line stays quiet).
  void set_input(std::string bytes) { input_ = std::move(bytes), input_pos_ = 0; }
  // More bytes on the line while the guest runs (QMP console-write), after
  // the ones not read yet.
  void add_input(std::string_view bytes) {
    input_.erase(0, input_pos_);
    input_pos_ = 0;
    input_.append(bytes);
  }
  uint64_t input_pending() const { return input_.size() - input_pos_; }
  // Everything transmitted so far.
  const std::string& transmitted() const { return out_.all(); }
  uint64_t bytes_transmitted() const { return out_.all().size(); }
  uint16_t divisor() const { return divisor_; }

 private:
  void trace_access(DeviceContext& ctx, uint64_t offset, Direction dir, uint64_t value, uint8_t width);

  uint8_t ier_ = 0, lcr_ = 0x03, mcr_ = 0, scr_ = 0, fcr_ = 0;
  uint16_t divisor_ = 12;  // 9600 baud after reset
  ConsoleOutput out_{"uart"};
  std::string input_;  // received bytes; input_pos_ is the next one RBR returns
  size_t input_pos_ = 0;
};

}  // namespace ringscope
