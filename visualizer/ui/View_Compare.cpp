// View_Compare.cpp — two or more traces of the same work side by side
// (e.g. the full-virt, paravirt and emulation runs `ringscope compare`
// records): events by kind and exits by reason as tables, exits and time
// per marker-delimited operation as a table and a grouped bar chart, and a
// choice of marker to align the timelines on, so the same operation starts
// at 0 in every lane. A range selected on the timeline is compared too, in
// every trace at once.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"
#include "ui/range_stats.h"

namespace ringscope::viewer {

namespace {

const ImU32 kTraceColours[] = {IM_COL32(66, 133, 214, 255), IM_COL32(232, 168, 48, 255), IM_COL32(64, 160, 96, 255),
                               IM_COL32(214, 82, 66, 255), IM_COL32(170, 110, 200, 255)};
ImU32 trace_colour(size_t t) { return kTraceColours[t % std::size(kTraceColours)]; }

// The first phase with this label in a trace's stats, or nullptr.
const PhaseStats* phase(const TraceStats& s, const std::string& label) {
  for (const auto& p : s.phases)
    if (p.label == label) return &p;
  return nullptr;
}

}  // namespace

bool View::align_on(const std::string& label) {
  for (const auto& t : traces_)
    if (!phase(t.model->stats(), label)) return false;
  align_label_ = label;
  for (auto& t : traces_)
    t.align_ns = static_cast<int64_t>(phase(t.model->stats(), label)->begin_ns - t.model->origin_ns());
  return true;
}

void View::draw_compare() {
  if (traces_.size() < 2) {
    ImGui::TextWrapped(
        tr("Load two or more traces of the same scenario to compare them, for example "
           "`ringscope view hello.full-virt.rtrace hello.paravirt.rtrace hello.emulation.rtrace`."));
    return;
  }
  // Phase labels common to every trace, in the first trace's order.
  std::vector<std::string> labels;
  for (const auto& p : traces_[0].model->stats().phases) {
    if (std::find(labels.begin(), labels.end(), p.label) != labels.end()) continue;
    bool everywhere = true;
    for (const auto& t : traces_) everywhere &= phase(t.model->stats(), p.label) != nullptr;
    if (everywhere) labels.push_back(p.label);
  }

  ImGui::SetNextItemWidth(220);
  if (ImGui::BeginCombo(tr("align timelines on"), align_label_.empty() ? tr("run start") : align_label_.c_str())) {
    if (ImGui::Selectable(tr("run start"), align_label_.empty())) {
      align_label_.clear();
      for (auto& t : traces_) t.align_ns = 0;
    }
    for (const auto& l : labels) {
      if (ImGui::Selectable(l.c_str(), l == align_label_)) {
        align_on(l);
        zoom_to_fit();
      }
    }
    ImGui::EndCombo();
  }

  const int cols = static_cast<int>(traces_.size()) + 1;
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  // Columns are named by mode, and by file too where two traces share a
  // mode (the same mode with two irqchips, two VT-x profiles, ...).
  std::vector<std::string> column_names;
  for (const auto& t : traces_) {
    const std::string& mode = t.model->header().mode;
    size_t same = 0;
    for (const auto& u : traces_) same += u.model->header().mode == mode;
    const std::string file = std::filesystem::path(t.model->name()).stem().string();
    column_names.push_back(mode.empty() ? file : same > 1 ? mode + " " + file : mode);
  }
  auto header = [&](const char* first) {
    ImGui::TableSetupColumn(first, ImGuiTableColumnFlags_WidthFixed, 190);
    for (const auto& name : column_names) ImGui::TableSetupColumn(name.c_str(), ImGuiTableColumnFlags_WidthFixed, 160);
    ImGui::TableHeadersRow();
  };
  // One row: a value per trace, from that trace's statistics in `of`.
  std::vector<const TraceStats*> whole;
  for (const auto& t : traces_) whole.push_back(&t.model->stats());
  const std::vector<const TraceStats*>* of = &whole;
  auto row = [&](const std::string& name, auto value_of) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(name.c_str());
    for (const TraceStats* s : *of) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(value_of(*s).c_str());
    }
  };
  // The counts both tables show: exits (and where they were handled),
  // transitions, hypercalls, events by kind, exits by reason.
  auto count_rows = [&] {
    row(tr("VM exits (reached VMM)"), [](const TraceStats& s) { return fmt::format("{}", s.vm_exits); });
    // No kvm-stats at all (emulation, or a range between two samples): not known, not 0.
    row(tr("exits inside KVM"), [](const TraceStats& s) {
      return s.kvm_stats.empty() ? std::string(tr("n/a (no sample)")) : fmt::format("{}", s.kernel_only_exits);
    });
    row(tr("time in exits"), [](const TraceStats& s) { return format_duration(s.exit_duration.total_ns); });
    row(tr("ring transitions"), [](const TraceStats& s) { return fmt::format("{}", s.ring_transitions); });
    row(tr("hypercalls"), [](const TraceStats& s) { return fmt::format("{}", s.hypercalls); });
    for (int k = 0; k < event_kind_count(); ++k) {
      bool any = false;
      for (const TraceStats* s : *of) any |= s->by_kind[k] != 0;
      if (any)
        row(trf("{} events", kind_name(static_cast<EventKind>(k))),
            [k](const TraceStats& s) { return fmt::format("{}", s.by_kind[k]); });
    }
    std::set<uint16_t> reasons;
    for (const TraceStats* s : *of)
      for (const auto& r : s->exits) reasons.insert(r.reason);
    for (uint16_t reason : reasons)
      row("exit " + exit_reason_name(reason), [reason](const TraceStats& s) {
        for (const auto& r : s.exits)
          if (r.reason == reason) return fmt::format("{} ({})", r.count, format_duration(r.duration.mean_ns()));
        return std::string("0");
      });
  };

  // The range selected on the timeline (right- or shift-drag), in every
  // trace at once: the times are the aligned ones the lanes show, so with
  // the timelines aligned on a marker the same stretch of work is compared.
  shown_compare_range_.clear();
  if (range_) {
    compare_range_stats_.resize(traces_.size());
    std::vector<const TraceStats*> in_range;
    bool capped_any = false;
    for (size_t t = 0; t < traces_.size(); ++t) {
      bool capped = false;
      in_range.push_back(
          &stats_for_range(static_cast<int>(t), range_->first, range_->second, compare_range_stats_[t], capped));
      capped_any |= capped;
    }
    shown_compare_range_ = in_range;
    ImGui::TextColored(palette::vec(palette::kWarning), tr("Selected range %s .. %s (%s)%s"),
                       time_label(range_->first).c_str(), time_label(range_->second).c_str(),
                       format_duration(static_cast<uint64_t>(std::max(0.0, range_->second - range_->first))).c_str(),
                       capped_any ? tr(", first 2 M events only") : "");
    ImGui::SameLine();
    if (ImGui::SmallButton(tr("clear range##cmp"))) range_.reset();
    of = &in_range;
    if (ImGui::BeginTable("cmp_range", cols, tf)) {
      header("");
      count_rows();
      ImGui::EndTable();
    }
    of = &whole;
    ImGui::Spacing();
  } else {
    ImGui::TextDisabled(tr("(right- or shift-drag on the timeline to compare a range of every trace)"));
  }

  ImGui::TextColored(palette::vec(palette::kWarning), tr("Whole run"));
  if (ImGui::BeginTable("cmp_total", cols, tf)) {
    header("");
    row(tr("scenario"), [](const TraceStats& s) { return s.header.scenario + " " + s.header.params; });
    row(tr("duration"), [](const TraceStats& s) { return format_duration(s.duration_ns()); });
    count_rows();
    ImGui::EndTable();
  }

  if (labels.empty()) {
    ImGui::TextDisabled(tr("No marker-delimited operation appears in every trace."));
    return;
  }
  ImGui::Spacing();
  ImGui::TextColored(palette::vec(palette::kWarning), tr("Per operation (marker begin .. end): exits / time"));
  if (ImGui::BeginTable("cmp_phase", cols, tf)) {
    header(tr("operation"));
    for (const auto& l : labels)
      row(l, [&](const TraceStats& s) {
        const PhaseStats* p = phase(s, l);
        return fmt::format("{} / {}", p->vm_exits, format_duration(p->duration_ns()));
      });
    ImGui::EndTable();
  }

  // Grouped bars: exits per operation, one colour per trace.
  uint64_t most = 1;
  for (const auto& l : labels)
    for (const auto& t : traces_) most = std::max(most, phase(t.model->stats(), l)->vm_exits);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float bar_h = 10, group_h = bar_h * traces_.size() + 8, label_w = 190;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = std::max(50.0f, ImGui::GetContentRegionAvail().x - label_w - 60);
  for (size_t g = 0; g < labels.size(); ++g) {
    const float y = p.y + g * group_h;
    dl->AddText({p.x, y}, IM_COL32(220, 220, 225, 255), labels[g].c_str());
    for (size_t t = 0; t < traces_.size(); ++t) {
      const uint64_t n = phase(traces_[t].model->stats(), labels[g])->vm_exits;
      const float x0 = p.x + label_w, yy = y + t * bar_h;
      dl->AddRectFilled({x0, yy}, {x0 + std::max(1.0f, w * n / most), yy + bar_h - 2}, trace_colour(t), 2);
      dl->AddText(ImGui::GetFont(), ImGui::GetFontSize() * 0.8f, {x0 + w * n / most + 4, yy - 2},
                  IM_COL32(200, 200, 200, 255), fmt::format("{}", n).c_str());
    }
  }
  ImGui::Dummy({label_w + w, group_h * labels.size()});
  for (size_t t = 0; t < traces_.size(); ++t) {
    ImGui::TextColored(palette::vec(trace_colour(t)), "■ %s", traces_[t].model->name().c_str());
    if (t + 1 < traces_.size()) ImGui::SameLine();
  }
}

}  // namespace ringscope::viewer
