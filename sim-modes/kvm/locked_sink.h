// locked_sink.h — events from several host threads into one sink.
#pragma once

#include <memory>
#include <mutex>

#include "ringscope/event.h"
#include "ringscope/trace.h"

namespace ringscope::kvm {

// A sink that is not safe from several threads (a test's RecordingSink)
// gets one lock in front of it; the trace writer orders events from several
// threads itself (trace.h), with a short spin lock.
class LockedSink final : public EventSink {
 public:
  explicit LockedSink(EventSink& inner) : inner_(inner) {}
  void emit(Event& e) override {
    std::lock_guard<std::mutex> g(mu_);
    inner_.emit(e);
  }

 private:
  EventSink& inner_;
  std::mutex mu_;
};

// `sink` itself when several threads may emit into it, else a LockedSink
// in front of it, kept in `holder`.
inline EventSink* shareable_sink(EventSink& sink, std::unique_ptr<LockedSink>& holder) {
  if (dynamic_cast<TraceWriter*>(&sink)) return &sink;
  holder = std::make_unique<LockedSink>(sink);
  return holder.get();
}

}  // namespace ringscope::kvm
