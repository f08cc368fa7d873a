// event_ring.h — the latest events of a run, in a fixed number of slots.
//
// What `__org.ringscope_query-events` answers from: a run's memory must not
// grow with its length, so the ring keeps the last `capacity` events and
// overwrites the oldest. It is filled from the run's first event whether or
// not a client is connected, so a client that connects late still gets the
// recent history (docs/qmp.md). Each slot owns copies of its event's strings (an
// Event's strings are views, valid only during emit()) and of its
// registers; the strings of one slot are capped (kMaxText) so a burst of
// console output cannot grow a slot without bound. push() is on the exit
// path: a copy into a slot whose buffers are reused, under a short lock
// (the control socket's thread reads the ring).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
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

  // What query-events answers: without `since`, the latest `n` events held;
  // with it, the first `n` held whose seq is above `since` (a client pages
  // forward from the last seq it saw). Oldest first, as `show --json`
  // prints them.
  struct Window {
    std::vector<std::string> events;
    uint64_t oldest = 0;   // the seq of the oldest event held (the next seq to come when none is)
    uint64_t dropped = 0;  // with `since`: events after it that the ring no longer holds
  };
  Window query(std::optional<uint64_t> since, size_t n) const;
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
