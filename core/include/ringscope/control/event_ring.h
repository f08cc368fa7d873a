// event_ring.h — the latest events of a run, in a fixed number of slots.
//
// What `__org.ringscope_query-events` answers from: a run's memory must not
// grow with its length, so the ring keeps the last `capacity` events and
// overwrites the oldest. Each slot owns copies of its event's strings (an
// Event's strings are views, valid only during emit()) and of its
// registers; the strings of one slot are capped (kMaxText) so a burst of
// console output cannot grow a slot without bound. push() is on the exit
// path: a copy into a slot whose buffers are reused, under a short lock
// (the control socket's thread reads the ring).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ringscope/event.h"

namespace ringscope::control {

class EventRing {
 public:
  static constexpr size_t kDefaultCapacity = 1024;
  static constexpr size_t kMaxText = 4096;  // bytes kept of a slot's text (output, step bytes, messages)

  explicit EventRing(size_t capacity = kDefaultCapacity);

  void push(const Event& e);
  // The latest min(n, held) events, oldest first, as `show --json` prints them.
  std::vector<std::string> latest_json(size_t n) const;
  uint64_t total() const;  // events pushed since the start
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    Event event;
    std::string device, reg, name, text;
    GuestRegs regs{};
  };
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  uint64_t total_ = 0;
};

}  // namespace ringscope::control
