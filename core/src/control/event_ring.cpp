// event_ring.cpp — EventRing (event_ring.h).
#include "ringscope/control/event_ring.h"

#include <algorithm>

#include "ringscope/trace.h"

namespace ringscope::control {

EventRing::EventRing(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {}

void EventRing::push(const Event& e) {
  std::lock_guard<std::mutex> g(mu_);
  Slot& s = slots_[total_ % slots_.size()];
  s.event = e;
  // assign() reuses the slot's buffers: no allocation once they have grown.
  auto keep = [](std::string& into, std::string_view from) {
    into.assign(from.data(), std::min(from.size(), kMaxText));
    return std::string_view(into);
  };
  s.event.device = keep(s.device, e.device);
  s.event.reg = keep(s.reg, e.reg);
  s.event.name = keep(s.name, e.name);
  s.event.text = keep(s.text, e.text);
  if (e.regs) {
    s.regs = *e.regs;
    s.event.regs = &s.regs;
  }
  total_++;
}

std::vector<std::string> EventRing::latest_json(size_t n) const {
  std::lock_guard<std::mutex> g(mu_);
  size_t held = static_cast<size_t>(std::min<uint64_t>(total_, slots_.size()));
  n = std::min(n, held);
  std::vector<std::string> out;
  out.reserve(n);
  for (uint64_t i = total_ - n; i < total_; i++) out.push_back(event_to_json(slots_[i % slots_.size()].event));
  return out;
}

uint64_t EventRing::total() const {
  std::lock_guard<std::mutex> g(mu_);
  return total_;
}

}  // namespace ringscope::control
