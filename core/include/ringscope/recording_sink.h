// recording_sink.h — keeps every event in memory, strings and registers
// copied, for tests and for tools that want a run's events without a file.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "ringscope/event.h"

namespace ringscope {

class RecordingSink final : public EventSink {
 public:
  void emit(Event& e) override {
    e.seq = events_.size();
    Event copy = e;
    copy.device = keep(e.device);
    copy.reg = keep(e.reg);
    copy.name = keep(e.name);
    copy.text = keep(e.text);
    if (e.regs) {
      regs_.push_back(*e.regs);
      copy.regs = &regs_.back();
    }
    events_.push_back(copy);
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  std::string_view keep(std::string_view s) {
    if (s.empty()) return {};
    strings_.emplace_back(s);
    return strings_.back();
  }
  std::vector<Event> events_;
  std::deque<std::string> strings_;
  std::deque<GuestRegs> regs_;
};

}  // namespace ringscope
