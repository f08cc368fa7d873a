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

EventRing::Window EventRing::query(std::optional<uint64_t> since, size_t n) const {
  std::lock_guard<std::mutex> g(mu_);
  const uint64_t held = std::min<uint64_t>(total_, slots_.size());
  const uint64_t first = total_ - held;  // push number of the oldest held
  Window w;
  if (!since) {
    w.oldest = held ? slots_[first % slots_.size()].event.seq : total_;
    const uint64_t from = total_ - std::min<uint64_t>(n, held);
    w.events.reserve(static_cast<size_t>(total_ - from));
    for (uint64_t i = from; i < total_; i++) w.events.push_back(event_to_json(slots_[i % slots_.size()].event));
    return w;
  }
  // seq is dense from 0; with several vCPUs two events may reach the ring in
  // the other order than their seqs, so look at each held event's seq.
  uint64_t oldest = UINT64_MAX;
  for (uint64_t i = first; i < total_; i++) oldest = std::min(oldest, slots_[i % slots_.size()].event.seq);
  w.oldest = held ? oldest : total_;
  if (w.oldest > *since + 1) w.dropped = w.oldest - (*since + 1);
  for (uint64_t i = first; i < total_ && w.events.size() < n; i++) {
    const Event& e = slots_[i % slots_.size()].event;
    if (e.seq > *since) w.events.push_back(event_to_json(e));
  }
  return w;
}

uint64_t EventRing::total() const {
  std::lock_guard<std::mutex> g(mu_);
  return total_;
}

}  // namespace ringscope::control
