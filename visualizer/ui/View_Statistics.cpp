// View_Statistics.cpp — exits by reason with count, share and min / mean /
// max handling time (the table `perf kvm stat` prints, made visual), for the
// whole trace or the visible time range, plus events by kind and traps.
//
// The numbers come from compute_stats (core/include/ringscope/trace_stats.h),
// the same function `ringscope stats` prints, so the two always agree. For
// a range the viewer decodes the range's events into a temporary Trace and
// runs compute_stats on it (capped, and cached until the range changes).
#include <fmt/format.h>

#include <algorithm>

#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"
#include "ui/range_stats.h"

namespace ringscope::viewer {

namespace {

constexpr size_t kRangeCap = 2'000'000;

// A horizontal bar inside a table cell: share of the largest value.
void bar(float fraction, ImU32 col, const char* text) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetTextLineHeight();
  ImGui::GetWindowDrawList()->AddRectFilled({p.x, p.y + 1}, {p.x + std::max(1.0f, w * fraction), p.y + h - 1}, col, 2);
  ImGui::TextUnformatted(text);
}

}  // namespace

// compute_stats over [t0, t1] (relative ns) of the selected trace, cached
// until the range or trace changes; not recomputed while the mouse drags
// the timeline (the range changes every frame then), when the last result
// is shown instead.
const TraceStats& View::stats_for_range(int t, double t0, double t1, std::unique_ptr<RangeStats>& cache, bool& capped) {
  const TraceModel& m = *traces_[t].model;
  const bool stale = !cache || cache->trace != t || cache->t0 != t0 || cache->t1 != t1;
  if (stale && (!dragging_ || !cache)) {
    auto rs = std::make_unique<RangeStats>();
    rs->trace = t;
    rs->t0 = t0;
    rs->t1 = t1;
    const int64_t base = static_cast<int64_t>(m.origin_ns()) + traces_[t].align_ns;
    const double a = std::max(0.0, t0 + base), b = std::max(0.0, t1 + base);
    size_t i0 = m.lower_bound(static_cast<uint64_t>(a)), i1 = m.upper_bound(static_cast<uint64_t>(b));
    if (i1 - i0 > kRangeCap) {
      i1 = i0 + kRangeCap;
      rs->capped = true;
    }
    Trace sub;  // string views point into the model, which outlives this Trace
    sub.header = m.header();
    sub.complete = true;
    sub.events.reserve(i1 - i0);
    // kvm-stats counters hold running totals since the vCPU was made; over a
    // range what counts is how much they grew, so each sample becomes its
    // value less the counter's value before the range.
    const uint64_t from = static_cast<uint64_t>(a), to = static_cast<uint64_t>(b);
    for (size_t i = i0; i < i1; ++i) {
      Event e = m.event(i);
      if (e.kind == EventKind::Counter && e.source == Source::KvmStats) {
        const uint64_t before = m.stat_before(e.vcpu, m.stat_id(e.name), from);
        e.value = e.value > before ? e.value - before : 0;
      }
      sub.events.push_back(e);
    }
    rs->stats = compute_stats(sub);
    const int kernel_exits = m.stat_id("kernel_exits");
    for (const VcpuTrack& tr : m.tracks()) {
      rs->samples += m.stat_samples_in(tr.vcpu, from, to);
      const auto [before, after] = m.stat_samples_around(tr.vcpu, from, to);
      rs->before_ns = std::max(rs->before_ns, before);
      rs->after_ns = std::min(rs->after_ns, after);
      if (after != UINT64_MAX) {
        const uint64_t v0 = m.stat_before(tr.vcpu, kernel_exits, from),
                       v1 = m.stat_before(tr.vcpu, kernel_exits, after + 1);
        rs->around += v1 > v0 ? v1 - v0 : 0;
      }
    }
    cache = std::move(rs);
  }
  capped = cache->capped;
  return cache->stats;
}

void View::draw_statistics() {
  shown_stats_ = nullptr;
  const TraceModel* m = selected_model();
  if (!m) {
    ImGui::TextDisabled(tr("No trace loaded."));
    return;
  }
  ImGui::TextUnformatted(trf("{}: {} in mode {}", m->name(), m->header().scenario, m->header().mode).c_str());
  // Scope: the whole trace, the visible range, or the range selected by
  // dragging (right- or shift-drag on the timeline, --range).
  StatsScope scope = stats_scope();
  if (ImGui::RadioButton(tr("whole trace"), scope == StatsScope::WholeTrace)) {
    settings_.stats_visible_range = false;
    stats_ignore_range_ = true;
  }
  ImGui::SameLine();
  if (ImGui::RadioButton(tr("visible range"), scope == StatsScope::VisibleRange)) {
    settings_.stats_visible_range = true;
    stats_ignore_range_ = true;
  }
  ImGui::SameLine();
  if (range_) {
    if (ImGui::RadioButton(tr("selected range"), scope == StatsScope::SelectedRange)) stats_ignore_range_ = false;
    ImGui::SameLine();
    if (ImGui::SmallButton(tr("clear range"))) range_.reset();
  } else {
    ImGui::TextDisabled(tr("(right- or shift-drag on the timeline selects a range)"));
  }
  scope = stats_scope();

  const TraceStats* st = &m->stats();
  if (scope != StatsScope::WholeTrace) {
    const double t0 = scope == StatsScope::SelectedRange ? range_->first : view_t0_;
    const double t1 = scope == StatsScope::SelectedRange ? range_->second : view_t1_;
    bool capped = false;
    st = &stats_for_range(selection_.trace, t0, t1, range_stats_, capped);
    ImGui::TextDisabled("%s: %s .. %s (%s)%s",
                        scope == StatsScope::SelectedRange ? tr("selected range") : tr("visible range"),
                        time_label(t0).c_str(), time_label(t1).c_str(),
                        format_duration(static_cast<uint64_t>(std::max(0.0, t1 - t0))).c_str(),
                        capped ? tr(" (first 2 M events only)") : "");
  } else {
    ImGui::TextDisabled(tr("whole trace"));
  }
  shown_stats_ = st;
  ImGui::TextDisabled(tr("%llu events over %s; %llu VM exits reached the VMM, %llu ring transitions"),
                      static_cast<unsigned long long>(st->events), format_duration(st->duration_ns()).c_str(),
                      static_cast<unsigned long long>(st->vm_exits),
                      static_cast<unsigned long long>(st->ring_transitions));

  ImGui::TextColored(palette::vec(palette::kWarning), tr("VM exits by reason"));
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("exits", 8, tf)) {
    ImGui::TableSetupColumn(tr("reason"), ImGuiTableColumnFlags_WidthFixed, 170);
    ImGui::TableSetupColumn(tr("count"), ImGuiTableColumnFlags_WidthFixed, 70);
    ImGui::TableSetupColumn(tr("share"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(tr("vmm / kernel"), ImGuiTableColumnFlags_WidthFixed, 100);
    ImGui::TableSetupColumn(tr("min"), ImGuiTableColumnFlags_WidthFixed, 70);
    ImGui::TableSetupColumn(tr("mean"), ImGuiTableColumnFlags_WidthFixed, 70);
    ImGui::TableSetupColumn(tr("max"), ImGuiTableColumnFlags_WidthFixed, 70);
    ImGui::TableSetupColumn(tr("total"), ImGuiTableColumnFlags_WidthFixed, 80);
    ImGui::TableHeadersRow();
    for (const ExitReasonStats& r : st->exits) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(palette::vec(palette::exit_reason(r.reason)), "%s (%u)", exit_reason_name(r.reason).c_str(),
                         r.reason);
      if (ImGui::IsItemHovered())
        if (const ExitReasonInfo* info = find_exit_reason(r.reason))
          ImGui::SetTooltip("%s", std::string(info->explanation).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%llu", static_cast<unsigned long long>(r.count));
      ImGui::TableNextColumn();
      const float share = st->vm_exits ? static_cast<float>(r.count) / static_cast<float>(st->vm_exits) : 0;
      bar(share, (palette::exit_reason(r.reason) & 0x00ffffff) | 0x90000000,
          fmt::format("{:.1f}%", share * 100).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%llu / %llu", static_cast<unsigned long long>(r.vmm), static_cast<unsigned long long>(r.kernel));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_duration(r.duration.min_ns).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_duration(r.duration.mean_ns()).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_duration(r.duration.max_ns).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_duration(r.duration.total_ns).c_str());
    }
    ImGui::EndTable();
  }
  if (st->exits.empty()) ImGui::TextDisabled(tr("no VM exits in this range"));
  if (scope != StatsScope::WholeTrace && m->has_stat_samples() && range_stats_) {
    // KVM's own counters are read only at a user-space exit, at most every
    // 100 µs: a range can fall between two readings.
    const RangeStats& rs = *range_stats_;
    const auto at = [&](uint64_t abs) {
      return time_label(
          static_cast<double>(static_cast<int64_t>(abs - m->origin_ns()) - traces_[selection_.trace].align_ns));
    };
    if (rs.samples == 0) {
      ImGui::TextWrapped(
          tr("No sample of KVM's counters falls inside this range (they are read at a user-space exit, at "
             "most every 100 µs), so the exits KVM handled inside the kernel here are not known."));
      if (rs.before_ns != 0 && rs.after_ns != UINT64_MAX)
        ImGui::TextDisabled(tr("Between the samples around it, at %s and %s: %llu exits handled inside the kernel."),
                            at(rs.before_ns).c_str(), at(rs.after_ns).c_str(),
                            static_cast<unsigned long long>(rs.around));
    } else {
      ImGui::TextDisabled(tr("plus %llu exits KVM handled inside the kernel (never reached the VMM): what its counters "
                             "grew by from their sample before the range%s to the last one inside it"),
                          static_cast<unsigned long long>(st->kernel_only_exits),
                          rs.before_ns ? fmt::format(" ({})", at(rs.before_ns)).c_str() : "");
    }
  } else if (st->kernel_only_exits) {
    ImGui::TextDisabled(tr("plus %llu exits KVM handled inside the kernel (never reached the VMM)"),
                        static_cast<unsigned long long>(st->kernel_only_exits));
  }

  ImGui::Spacing();
  ImGui::TextColored(palette::vec(palette::kWarning), tr("Events by kind"));
  uint64_t most = 1;
  for (uint64_t n : st->by_kind) most = std::max(most, n);
  if (ImGui::BeginTable("kinds", 2, tf)) {
    ImGui::TableSetupColumn(tr("kind"), ImGuiTableColumnFlags_WidthFixed, 170);
    ImGui::TableSetupColumn(tr("count"), ImGuiTableColumnFlags_WidthStretch);
    for (int k = 0; k < event_kind_count(); ++k) {
      if (!st->by_kind[k]) continue;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(std::string(kind_name(static_cast<EventKind>(k))).c_str());
      ImGui::TableNextColumn();
      bar(static_cast<float>(st->by_kind[k]) / static_cast<float>(most),
          (palette::kind(static_cast<EventKind>(k), 30) & 0x00ffffff) | 0x80000000,
          fmt::format("{}", st->by_kind[k]).c_str());
    }
    ImGui::EndTable();
  }
  draw_vcpu_statistics(*st);
  if (!st->traps.empty()) {
    ImGui::TextColored(palette::vec(palette::kWarning), tr("Traps"));
    for (const TrapStats& t : st->traps) {
      const std::string name = t.cause == TrapCause::Exception ? std::string(exception_name(t.vector))
                                                               : fmt::format("{} {}", cause_name(t.cause), t.vector);
      ImGui::BulletText("%s: %llu (%llu changed ring)", name.c_str(), static_cast<unsigned long long>(t.count),
                        static_cast<unsigned long long>(t.ring_transitions));
    }
  }
}

}  // namespace ringscope::viewer
