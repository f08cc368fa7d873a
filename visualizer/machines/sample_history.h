// sample_history.h — the last N samples of a figure, oldest first, for a
// sparkline. virt-manager keeps 120 (its "stats history"), one per update.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

namespace ringscope::machines {

inline constexpr size_t kHistorySamples = 120;

class SampleHistory {
 public:
  void push(float v) {
    data_[(start_ + count_) % kHistorySamples] = v;
    if (count_ < kHistorySamples)
      ++count_;
    else
      start_ = (start_ + 1) % kHistorySamples;
  }
  size_t size() const { return count_; }
  // i-th oldest sample.
  float operator[](size_t i) const { return data_[(start_ + i) % kHistorySamples]; }
  float last() const { return count_ ? (*this)[count_ - 1] : 0.0f; }
  float max() const {
    float m = 0;
    for (size_t i = 0; i < count_; ++i) m = std::max(m, (*this)[i]);
    return m;
  }
  // For ImGui::PlotLines' values_getter.
  static float get(void* self, int i) { return (*static_cast<const SampleHistory*>(self))[static_cast<size_t>(i)]; }

 private:
  std::array<float, kHistorySamples> data_{};
  size_t start_ = 0, count_ = 0;
};

}  // namespace ringscope::machines
