// pipelined_reader.cpp — a reader thread filling batches, the calling thread
// emptying them; a fixed set of batches goes round between the two.
#include "model/pipelined_reader.h"

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ringscope::viewer {

namespace {

constexpr size_t kBatchEvents = 2048;  // about 620 KiB of events
constexpr size_t kBatches = 4;
constexpr uint32_t kNone = UINT32_MAX;

// Events copied out of the reader's chunk: their string views and register
// pointers point into the chunk, which the reader reuses, so the bytes and
// registers are copied too and the event is pointed at the copies when it
// is taken.
struct Batch {
  std::vector<Event> events;
  std::vector<std::array<uint32_t, 4>> string_at;  // device, reg, name, text: offsets into `bytes`
  std::vector<char> bytes;
  std::vector<GuestRegs> regs;
  std::vector<uint32_t> regs_at;  // index into `regs`, or kNone

  void add(const Event& e) {
    events.push_back(e);
    auto& at = string_at.emplace_back();
    const std::string_view s[4] = {e.device, e.reg, e.name, e.text};
    for (size_t k = 0; k < 4; ++k) {
      at[k] = static_cast<uint32_t>(bytes.size());
      bytes.insert(bytes.end(), s[k].begin(), s[k].end());
    }
    if (e.regs != nullptr) {
      regs_at.push_back(static_cast<uint32_t>(regs.size()));
      regs.push_back(*e.regs);
    } else {
      regs_at.push_back(kNone);
    }
  }
  // Event k with its views on this batch's copies.
  Event& take(size_t k) {
    Event& e = events[k];
    const auto& at = string_at[k];
    auto view = [&](std::string_view& v, size_t i) {
      if (!v.empty()) v = std::string_view(bytes.data() + at[i], v.size());
    };
    view(e.device, 0);
    view(e.reg, 1);
    view(e.name, 2);
    view(e.text, 3);
    e.regs = regs_at[k] == kNone ? nullptr : &regs[regs_at[k]];
    return e;
  }
  void clear() {
    events.clear();
    string_at.clear();
    bytes.clear();
    regs.clear();
    regs_at.clear();
  }
};

class Pipe {
 public:
  Pipe() {
    for (auto& b : batches_) {
      b.events.reserve(kBatchEvents);
      b.string_at.reserve(kBatchEvents);
      b.regs_at.reserve(kBatchEvents);
      free_.push_back(&b);
    }
  }
  // The reader: a batch to fill (null when the consumer gave up).
  Batch* to_fill() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || stop_; });
    if (stop_) return nullptr;
    Batch* b = free_.back();
    free_.pop_back();
    return b;
  }
  void filled(Batch* b) {
    {
      std::lock_guard lock(mu_);
      full_.push_back(b);
    }
    cv_.notify_all();
  }
  void end() {
    {
      std::lock_guard lock(mu_);
      ended_ = true;
    }
    cv_.notify_all();
  }
  // The consumer: the next batch in order, null after the last.
  Batch* to_empty() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || ended_; });
    if (full_.empty()) return nullptr;
    Batch* b = full_.front();
    full_.pop_front();
    return b;
  }
  void emptied(Batch* b) {
    b->clear();
    {
      std::lock_guard lock(mu_);
      free_.push_back(b);
    }
    cv_.notify_all();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::array<Batch, kBatches> batches_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch*> free_;
  std::deque<Batch*> full_;
  bool ended_ = false, stop_ = false;
};

}  // namespace

Status read_pipelined(const std::string& path, const std::function<void(const Event&)>& consume, TraceHeader& header,
                      ReadSummary& summary) {
  Pipe pipe;
  Status status = ok_status();
  std::exception_ptr reader_error;
  std::thread reader([&] {
    Batch* b = nullptr;
    try {
      status = for_each_event(
          path, ReadOptions{},
          [&](const Event& e) {
            if (b == nullptr && (b = pipe.to_fill()) == nullptr) return false;
            b->add(e);
            if (b->events.size() == kBatchEvents) {
              pipe.filled(b);
              b = nullptr;
            }
            return true;
          },
          &header, &summary);
    } catch (...) {
      reader_error = std::current_exception();
    }
    if (b != nullptr) pipe.filled(b);
    pipe.end();
  });
  try {
    while (Batch* b = pipe.to_empty()) {
      for (size_t k = 0; k < b->events.size(); ++k) consume(b->take(k));
      pipe.emptied(b);
    }
  } catch (...) {
    pipe.stop();
    reader.join();
    throw;
  }
  reader.join();
  if (reader_error) std::rethrow_exception(reader_error);
  return status;
}

}  // namespace ringscope::viewer
