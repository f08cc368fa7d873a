// deferred_sink.h — holds the events a device emits while an exit is being
// handled, so the run loop can record the exit first and the device work it
// caused after it (the order a student reads them in). Strings are copied,
// because the device may reuse its buffers as soon as emit() returns.
#pragma once

#include <string>
#include <vector>

#include "ringscope/event.h"

namespace ringscope {

class DeferredSink final : public EventSink {
 public:
  void emit(Event& e) override {
    if (count_ == held_.size()) {
      held_.emplace_back();
    }
    Held& h = held_[count_++];
    h.event = e;
    h.device.assign(e.device);
    h.reg.assign(e.reg);
    h.name.assign(e.name);
    h.text.assign(e.text);
  }
  // Passes every held event on to `sink`, in order, and empties the buffer.
  void drain(EventSink& sink) {
    for (size_t i = 0; i < count_; i++) {
      Held& h = held_[i];
      h.event.device = h.device;
      h.event.reg = h.reg;
      h.event.name = h.name;
      h.event.text = h.text;
      sink.emit(h.event);
    }
    count_ = 0;
  }
  bool empty() const { return count_ == 0; }

 private:
  struct Held {
    Event event;
    std::string device, reg, name, text;
  };
  std::vector<Held> held_;  // grows to the largest burst, then is reused
  size_t count_ = 0;
};

}  // namespace ringscope
