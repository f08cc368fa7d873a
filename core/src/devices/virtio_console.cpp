// virtio_console.cpp — virtio-console port 0: output and input (5.3).
//
// Config space (5.3.4): le16 cols; le16 rows; le32 max_nr_ports; le32 emerg_wr.
// A write to emerg_wr outputs one character without any queue: the early
// console of a driver that has not set its rings up yet (one exit per
// byte, like the UART, and visible as such in the trace).
#include "ringscope/devices/virtio_console.h"

#include <algorithm>
#include <cstring>

namespace ringscope {

namespace {
constexpr uint64_t kEmergWrOffset = 8;
}  // namespace

std::vector<uint8_t> VirtioConsole::config_space() const {
  std::vector<uint8_t> c(12, 0);
  uint16_t cols = 80, rows = 25;
  uint32_t ports = 1;
  std::memcpy(&c[0], &cols, 2);
  std::memcpy(&c[2], &rows, 2);
  std::memcpy(&c[4], &ports, 4);
  return c;
}

void VirtioConsole::config_write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  (void)width;
  if (offset == kEmergWrOffset) {
    char c = static_cast<char>(value & 0xff);
    host_output(ctx, std::string_view(&c, 1));
  }
}

uint32_t VirtioConsole::on_notify(DeviceContext& ctx, uint16_t q) {
  return q == kTransmitQ ? transmit(ctx) : receive(ctx);
}

// Drains the transmit queue: every chain's readable bytes are output. A
// run limit stops the drain between chains, and the output limit inside
// one: the chain that hit it is not handed back, the rest stay in the
// ring, and the backend ends the run.
uint32_t VirtioConsole::transmit(DeviceContext& ctx) {
  Virtqueue& vq = queue(kTransmitQ);
  uint32_t chains = 0;
  VirtqChain c;
  std::string bytes;
  while (!ctx.out_of_budget()) {
    VirtqError err = vq.pop(*ctx.memory, c);
    if (err == VirtqError::Empty) break;
    if (err != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(err), kTransmitQ);
      break;
    }
    // No more than the output budget (plus the byte that trips it) is read.
    uint64_t want =
        std::min<uint64_t>(c.readable_bytes, ctx.output_left == UINT64_MAX ? UINT64_MAX : ctx.output_left + 1);
    bytes.resize(want);
    uint64_t n = virtq_read(*ctx.memory, c, 0, bytes.data(), want);
    bytes.resize(n);
    host_output(ctx, bytes);
    if (ctx.limit_hit) break;
    // Nothing is written into a transmit buffer: used length 0.
    if (VirtqError e = vq.push_used(*ctx.memory, c.head, 0); e != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(e), kTransmitQ);
      break;
    }
    chains++;
  }
  if (chains) used_buffer_notify(ctx, kTransmitQ);
  return chains;
}

// Fills posted receive buffers with pending input.
uint32_t VirtioConsole::receive(DeviceContext& ctx) {
  if (!driver_ok() || !queue(kReceiveQ).ready() || input_.empty()) return 0;
  Virtqueue& vq = queue(kReceiveQ);
  uint32_t chains = 0;
  VirtqChain c;
  while (!input_.empty() && !ctx.out_of_budget()) {
    VirtqError err = vq.pop(*ctx.memory, c);
    if (err == VirtqError::Empty) break;
    if (err != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(err), kReceiveQ);
      break;
    }
    uint64_t n = virtq_write(*ctx.memory, c, 0, input_.data(), std::min<uint64_t>(input_.size(), c.writable_bytes));
    input_.erase(0, n);
    if (vq.push_used(*ctx.memory, c.head, static_cast<uint32_t>(n)) != VirtqError::None) {
      needs_reset(ctx, virtq_error_text(VirtqError::UsedOutsideRam), kReceiveQ);
      break;
    }
    trace(ctx, "receiveq", Direction::Write, n, 0, 1);
    chains++;
  }
  if (chains) used_buffer_notify(ctx, kReceiveQ);
  return chains;
}

void VirtioConsole::push_input(DeviceContext& ctx, std::string_view bytes) {
  input_.append(bytes);
  receive(ctx);
}

void VirtioConsole::host_output(DeviceContext& ctx, std::string_view bytes) {
  for (char ch : bytes) {
    if (ctx.limit_hit) return;
    out_.put(ctx, ch);
  }
}

void VirtioConsole::finish(DeviceContext& ctx) { out_.flush(ctx); }

}  // namespace ringscope
