// virtio_console.h — virtio-console (virtio 1.2, 5.3), port 0 only.
//
// Queue 0 is port 0's receiveq (host -> guest: the driver posts empty,
// device-writable buffers; the device fills them with input), queue 1 its
// transmitq (guest -> host: device-readable buffers of output). A driver
// that queues a whole page of output and notifies once pays one exit for
// it, where the 16550 costs two per byte.
#pragma once

#include <functional>
#include <string>

#include "ringscope/devices/console_output.h"
#include "ringscope/devices/virtio_mmio.h"

namespace ringscope {

class VirtioConsole final : public VirtioMmioDevice {
 public:
  static constexpr uint32_t kDeviceId = 3;
  static constexpr uint64_t kFeatureSize = 1ull << 0;        // VIRTIO_CONSOLE_F_SIZE: cols/rows valid
  static constexpr uint64_t kFeatureEmergWrite = 1ull << 2;  // VIRTIO_CONSOLE_F_EMERG_WRITE
  static constexpr uint16_t kReceiveQ = 0, kTransmitQ = 1;
  static constexpr uint16_t kQueueMax = 128;

  explicit VirtioConsole(IrqLine* irq) : VirtioMmioDevice(2, kQueueMax, irq) {}
  std::string_view name() const override { return "virtio-console"; }
  void finish(DeviceContext& ctx) override;

  // Host side: bytes for the guest to read; delivered into posted receive
  // buffers now if there are any, else when the driver posts some.
  void push_input(DeviceContext& ctx, std::string_view bytes);
  // The same before the run: delivered once the driver posts buffers.
  void queue_input(std::string_view bytes) { input_.append(bytes); }
  // Output that reached the console by another path (the console-write
  // hypercall, emergency writes) joins the same stream.
  void host_output(DeviceContext& ctx, std::string_view bytes);

  void set_echo(std::function<void(char)> echo) { out_.set_echo(std::move(echo)); }
  const std::string& transmitted() const { return out_.all(); }
  uint64_t bytes_transmitted() const { return out_.all().size(); }
  uint64_t input_pending() const { return input_.size(); }

 protected:
  uint32_t device_id() const override { return kDeviceId; }
  uint64_t device_features() const override { return kFeatureSize | kFeatureEmergWrite; }
  std::vector<uint8_t> config_space() const override;
  void config_write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  uint32_t on_notify(DeviceContext& ctx, uint16_t q) override;
  void on_reset() override {}

 private:
  uint32_t transmit(DeviceContext& ctx);
  uint32_t receive(DeviceContext& ctx);

  ConsoleOutput out_{"virtio-console"};
  std::string input_;
};

}  // namespace ringscope
