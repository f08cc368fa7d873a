// console_output.h — what a console device does with the bytes a guest
// transmits, whichever device it is (the 16550 UART, virtio-console): keep
// them all, echo each one live, and report them in the trace as `output`
// events a line at a time (or every kMaxLine bytes), so a trace holds the
// console text without one event per byte.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "ringscope/device.h"

namespace ringscope {

class ConsoleOutput {
 public:
  static constexpr size_t kMaxLine = 256;  // report output at least this often

  explicit ConsoleOutput(std::string_view device) : device_(device) {}

  // A byte past the run's output limit is dropped (ctx.limit_hit says so).
  void put(DeviceContext& ctx, char c) {
    if (!ctx.take_output_byte()) return;
    all_.push_back(c);
    line_.push_back(c);
    if (echo_) echo_(c);
    if (c == '\n' || line_.size() >= kMaxLine) flush(ctx);
  }
  // Reports the unterminated rest (at the end of a run).
  void flush(DeviceContext& ctx) {
    if (line_.empty()) return;
    if (ctx.sink) {
      Event e = events::output({ctx.event_time(), ctx.vcpu, Source::Vmm}, device_, line_);
      ctx.sink->emit(e);
    }
    line_.clear();
  }
  void set_echo(std::function<void(char)> echo) { echo_ = std::move(echo); }
  const std::string& all() const { return all_; }

 private:
  std::string_view device_;
  std::string line_;  // bytes not yet reported as an output event
  std::string all_;
  std::function<void(char)> echo_;
};

}  // namespace ringscope
