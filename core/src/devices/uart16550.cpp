// uart16550.cpp — a 16550A UART model, enough for a polling driver.
//
// The guest driver (scenarios/kernel/uart.c) polls the Line Status Register
// until the transmitter is empty, then writes the Transmit Holding Register.
// Under trap-and-emulate each of those two port accesses is a VM exit, which
// is exactly what the io-burst scenario shows. This model transmits
// instantly, so LSR always reports THRE|TEMT and a polling loop needs one
// read per byte.
//
// Receiving: the bytes given with set_input (`ringscope run --input`) wait
// on the line; LSR.DR (data ready) is set while any are left and each read
// of RBR takes one, as a polling driver expects.
//
// Known shortcuts: no interrupts (IER is stored but never raises an IRQ),
// no loopback (MCR bit 4), no overrun (the line waits for the reader).
#include "ringscope/devices/uart16550.h"

namespace ringscope {

namespace {
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDr = 0x01;    // data ready: RBR holds a received byte
constexpr uint8_t kLsrThre = 0x20;  // transmit holding register empty
constexpr uint8_t kLsrTemt = 0x40;  // transmitter empty
constexpr uint8_t kIirNoInterrupt = 0x01;
constexpr uint8_t kIirFifoEnabled = 0xc0;
}  // namespace

std::string_view Uart16550::register_name(uint64_t offset, Direction dir) const {
  bool dlab = lcr_ & kLcrDlab;
  bool in = dir == Direction::In || dir == Direction::Read;
  switch (offset) {
    case kRbrThr: return dlab ? "DLL" : (in ? "RBR" : "THR");
    case kIer: return dlab ? "DLM" : "IER";
    case kIirFcr: return in ? "IIR" : "FCR";
    case kLcr: return "LCR";
    case kMcr: return "MCR";
    case kLsr: return "LSR";
    case kMsr: return "MSR";
    case kScr: return "SCR";
  }
  return "";
}

void Uart16550::trace_access(DeviceContext& ctx, uint64_t offset, Direction dir, uint64_t value, uint8_t width) {
  ctx.trace_device(name(), register_name(offset, dir), dir, value, width);
}

uint64_t Uart16550::read(DeviceContext& ctx, uint64_t offset, uint8_t width) {
  uint64_t v = 0;
  bool dlab = lcr_ & kLcrDlab;
  switch (offset) {
    case kRbrThr:
      if (dlab)
        v = divisor_ & 0xff;
      else if (input_pos_ < input_.size())
        v = static_cast<uint8_t>(input_[input_pos_++]);
      break;  // nothing (left) to receive: 0
    case kIer: v = dlab ? (divisor_ >> 8) : ier_; break;
    case kIirFcr: v = kIirNoInterrupt | ((fcr_ & 1) ? kIirFifoEnabled : 0); break;
    case kLcr: v = lcr_; break;
    case kMcr: v = mcr_; break;
    case kLsr: v = kLsrThre | kLsrTemt | (input_pos_ < input_.size() ? kLsrDr : 0); break;
    case kMsr: v = 0xb0; break;  // CTS, DSR, DCD asserted: a cable is plugged in
    case kScr: v = scr_; break;
  }
  trace_access(ctx, offset, Direction::In, v, width);
  return v;
}

void Uart16550::write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
  uint8_t b = static_cast<uint8_t>(value);
  bool dlab = lcr_ & kLcrDlab;
  trace_access(ctx, offset, Direction::Out, b, width);
  switch (offset) {
    case kRbrThr:
      if (dlab) {
        divisor_ = (divisor_ & 0xff00) | b;
        break;
      }
      out_.put(ctx, static_cast<char>(b));
      break;
    case kIer:
      if (dlab)
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (b << 8));
      else
        ier_ = b & 0x0f;
      break;
    case kIirFcr: fcr_ = b; break;
    case kLcr: lcr_ = b; break;
    case kMcr: mcr_ = b & 0x1f; break;
    case kScr: scr_ = b; break;
    default: break;  // LSR and MSR are read-only
  }
}

void Uart16550::finish(DeviceContext& ctx) { out_.flush(ctx); }

}  // namespace ringscope
