// deferred_sink.h — holds the events a device emits while an exit is being
// handled, so the run loop can record the exit first and the device work it
// caused after it (the order a student reads them in). Strings are copied,
// because the device may reuse its buffers as soon as emit() returns.
//
// Bounded: one exit may make a burst of events (a rep string instruction, a
// virtqueue drain), and a guest chooses how big. Past kMaxHeld events the
// buffer passes what it holds on to its overflow sink (the trace) at once,
// so those events come before their exit's vm_exit event instead of after
// it; with no overflow sink it drops the rest, and the next drain records
// how many as a counter (device_events_dropped). After a burst, the memory
// it took is given back.
#pragma once

#include <string>
#include <vector>

#include "ringscope/event.h"

namespace ringscope {

class DeferredSink final : public EventSink {
 public:
  static constexpr size_t kMaxHeld = 4096;  // events held for one exit
  static constexpr size_t kKeepHeld = 256;  // buffer kept between exits
  // With no overflow sink, the counter recorded at the next drain after
  // events were dropped: the run's total so far.
  static constexpr const char* kDroppedCounter = "device_events_dropped";

  explicit DeferredSink(EventSink* overflow = nullptr, size_t max_held = kMaxHeld)
      : overflow_(overflow), max_held_(max_held ? max_held : 1) {}
  void set_overflow(EventSink* overflow) { overflow_ = overflow; }

  void emit(Event& e) override {
    if (count_ == max_held_) {
      if (!overflow_) {
        dropped_++;
        unreported_drops_++;
        last_time_ns_ = e.time_ns;
        last_vcpu_ = e.vcpu;
        return;
      }
      drain(*overflow_);
      overflows_++;
    }
    if (count_ == held_.size()) held_.emplace_back();
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
    if (unreported_drops_) {  // the trace says what it lacks
      emit_counter(sink, last_time_ns_, last_vcpu_, Source::Vmm, kDroppedCounter, dropped_);
      unreported_drops_ = 0;
    }
    if (held_.size() > kKeepHeld) {  // a burst: give its memory back
      held_.resize(kKeepHeld);
      held_.shrink_to_fit();
    }
  }
  bool empty() const { return count_ == 0; }
  size_t held() const { return count_; }
  size_t capacity() const { return held_.capacity(); }
  // Events dropped (no overflow sink), and times the bound was reached.
  uint64_t dropped() const { return dropped_; }
  uint64_t overflows() const { return overflows_; }

 private:
  struct Held {
    Event event;
    std::string device, reg, name, text;
  };
  EventSink* overflow_;
  size_t max_held_;
  std::vector<Held> held_;  // grows to the largest burst (at most max_held_), shrinks after one
  size_t count_ = 0;
  uint64_t dropped_ = 0, overflows_ = 0, unreported_drops_ = 0;
  uint64_t last_time_ns_ = 0;
  uint32_t last_vcpu_ = 0;
};

}  // namespace ringscope
