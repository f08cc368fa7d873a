// fold.inl — the folding walks declared in trace_model.h. Templates, so the
// timeline's per-mark drawing inlines into the walk.
#pragma once

#include <algorithm>

namespace ringscope::viewer {

template <typename Emit>
void fold_marks(const TraceModel& m, std::span<const uint32_t> list, uint64_t t0, uint64_t t1, uint64_t min_gap_ns,
                Emit&& emit) {
  auto time_of = [&](uint32_t idx) { return m.time(idx); };
  auto it = std::partition_point(list.begin(), list.end(), [&](uint32_t idx) { return time_of(idx) < t0; });
  while (it != list.end() && time_of(*it) < t1) {
    const uint64_t group_end = time_of(*it) + std::max<uint64_t>(min_gap_ns, 1);
    // Everything before group_end joins this mark: one binary search
    // instead of a walk, so a pixel holding a million exits costs log n.
    auto next = std::partition_point(it + 1, list.end(), [&](uint32_t idx) { return time_of(idx) < group_end; });
    emit(static_cast<size_t>(it - list.begin()), static_cast<size_t>(next - it));
    it = next;
  }
}

template <typename Emit>
void fold_cpl(const VcpuTrack& tr, uint64_t t0, uint64_t t1, uint64_t end_ns, uint64_t px_ns, Emit&& emit) {
  const auto& c = tr.cpl;
  if (t1 <= t0) return;
  if (c.empty()) {
    emit(t0, t1, -1, size_t{0});
    return;
  }
  // The change in force at t0 (or "unknown" before the first one).
  auto it = std::partition_point(c.begin(), c.end(), [&](const CplChange& x) { return x.time_ns <= t0; });
  uint64_t cursor = t0;
  if (it == c.begin()) {
    if (c.front().time_ns >= t1) return emit(t0, t1, -1, size_t{0});
    emit(t0, c.front().time_ns, -1, size_t{0});
    cursor = c.front().time_ns;
  } else {
    --it;
  }
  const uint64_t step = std::max<uint64_t>(px_ns, 1);
  while (it != c.end() && cursor < t1) {
    const uint64_t begin = std::max(it->time_ns, cursor);
    const auto next = it + 1;
    const uint64_t end = std::max(begin, next == c.end() ? end_ns : next->time_ns);
    if (end - begin >= step || next == c.end()) {
      if (end > begin) emit(begin, std::min(end, t1), static_cast<int>(it->cpl), size_t{1});
      cursor = end;
      it = next;
      continue;
    }
    // Several changes inside one pixel: jump over all of them with one
    // binary search and draw them as one mixed span.
    const uint64_t limit = begin + step;
    const auto after = std::partition_point(next, c.end(), [&](const CplChange& x) { return x.time_ns < limit; });
    emit(begin, std::min(limit, t1), static_cast<int>((after - 1)->cpl), static_cast<size_t>(after - it));
    cursor = limit;
    it = after - 1;  // the last change folded in stays in force after the pixel
  }
}

template <typename Emit>
void fold_root(const VcpuTrack& tr, uint64_t t0, uint64_t t1, uint64_t px_ns, Emit&& emit) {
  const auto& r = tr.root;
  // Spans do not overlap on one vCPU, so ends are sorted like begins.
  auto it = std::partition_point(r.begin(), r.end(), [&](const RootSpan& s) { return s.end_ns < t0; });
  const uint64_t step = std::max<uint64_t>(px_ns, 1);
  while (it != r.end() && it->begin_ns < t1) {
    const uint64_t limit = it->begin_ns + step;
    auto next = std::partition_point(it + 1, r.end(), [&](const RootSpan& s) { return s.begin_ns < limit; });
    uint64_t end = (next - 1)->end_ns;
    end = std::max(end, it->end_ns);
    emit(it->begin_ns, end, static_cast<size_t>(it - r.begin()), static_cast<size_t>(next - it));
    it = next;
  }
}

template <typename Span, typename Emit>
void fold_spans(std::span<const Span> r, uint64_t t0, uint64_t t1, uint64_t px_ns, Emit&& emit) {
  auto it = std::partition_point(r.begin(), r.end(), [&](const Span& s) { return s.end_ns < t0; });
  const uint64_t step = std::max<uint64_t>(px_ns, 1);
  while (it != r.end() && it->begin_ns <= t1) {
    const uint64_t limit = it->begin_ns + step;
    auto next = std::partition_point(it + 1, r.end(), [&](const Span& s) { return s.begin_ns < limit; });
    emit(it->begin_ns, std::max(it->end_ns, (next - 1)->end_ns), static_cast<size_t>(it - r.begin()),
         static_cast<size_t>(next - it));
    it = next;
  }
}

}  // namespace ringscope::viewer
