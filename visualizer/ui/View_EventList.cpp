// View_EventList.cpp — every event of one trace in a virtualised table
// (ImGuiListClipper: only the rows on screen are formatted), with filters by
// kind, exit reason, vCPU, CPL and text, and the selection shared with the
// timeline.
//
// Filtering runs on the compact records (no decoding) except for text,
// which needs each event's summary line; on millions of events that is
// seconds of work, so the filter advances a slice per frame (a time budget)
// and shows its progress instead of freezing the window.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "ringscope/event_filter.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

namespace {

bool contains_nocase(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

// The list's choices as the one event filter (ringscope/event_filter.h):
// kind, exit reason, vCPU and CPL mean what they mean to `show` and the lab
// checker (a trap is at the CPL it left and at the one it entered).
EventFilter event_filter_of(const ListFilter& f) {
  EventFilter ef;
  for (int k = 0; k < event_kind_count(); ++k)
    if (f.kinds[k]) ef.add_kind(static_cast<EventKind>(k));
  if (f.reason >= 0) ef.reason = static_cast<uint16_t>(f.reason);
  if (f.vcpu >= 0) ef.vcpu = static_cast<uint32_t>(f.vcpu);
  if (f.cpl >= 0) ef.cpl = static_cast<uint8_t>(f.cpl);
  return ef;
}

}  // namespace

bool View::matches(const TraceModel& m, size_t i, const EventFilter& f, const char* text) const {
  const CompactEvent& c = m.at(i);
  const auto kind = static_cast<EventKind>(c.kind);
  if (f.any_kind() && !settings_.show_steps_in_list && kind == EventKind::Step) return false;
  // The compact record holds what the list filters on (only_keys()): no decoding.
  if (!f.matches_keys({kind, c.vcpu, kind == EventKind::VmExit ? c.code : uint16_t{0},
                       static_cast<uint8_t>(c.flags & kCplMask), c.to_cpl}))
    return false;
  if (text && text[0]) {
    const Event e = m.event(i);
    if (!contains_nocase(summarize_event(e), text) && !contains_nocase(kind_name(e.kind), text)) return false;
  }
  return true;
}

void View::refilter_step() {
  if (traces_.empty()) return;
  list_trace_ = std::clamp(list_trace_, 0, static_cast<int>(traces_.size()) - 1);
  if (!(filter_ == applied_filter_) || applied_trace_ != list_trace_ ||
      applied_steps_ != settings_.show_steps_in_list) {
    applied_filter_ = filter_;
    applied_trace_ = list_trace_;
    applied_steps_ = settings_.show_steps_in_list;
    list_rows_.clear();
    list_scan_ = 0;
    list_done_ = false;
  }
  if (list_done_) return;
  const TraceModel& m = *traces_[list_trace_].model;
  const bool text = applied_filter_.text[0] != 0;
  const EventFilter filter = event_filter_of(applied_filter_);
  // Without text the whole pass is a scan of 24-byte records (~10 ms for
  // 10 M); with text, a budget of 12 ms per frame.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(12);
  while (list_scan_ < m.size()) {
    const size_t end = std::min(m.size(), list_scan_ + (text ? 2048 : size_t{1} << 22));
    for (size_t i = list_scan_; i < end; ++i)
      if (matches(m, i, filter, applied_filter_.text)) list_rows_.push_back(static_cast<uint32_t>(i));
    list_scan_ = end;
    if (text && std::chrono::steady_clock::now() > deadline) break;
  }
  list_done_ = list_scan_ >= m.size();
}

void View::draw_event_list() {
  if (traces_.empty()) {
    ImGui::TextDisabled(tr("No trace loaded."));
    return;
  }
  // ---- filters ----
  if (traces_.size() > 1) {
    ImGui::SetNextItemWidth(160);
    if (ImGui::BeginCombo("##trace", traces_[list_trace_].model->name().c_str())) {
      for (size_t t = 0; t < traces_.size(); ++t)
        if (ImGui::Selectable(traces_[t].model->name().c_str(), static_cast<int>(t) == list_trace_))
          list_trace_ = static_cast<int>(t);
      ImGui::EndCombo();
    }
    ImGui::SameLine();
  }
  int kinds_on = 0;
  for (bool k : filter_.kinds) kinds_on += k;
  ImGui::SetNextItemWidth(150);
  const std::string kinds_label =
      kinds_on == 0 ? tr("all kinds") : (kinds_on > 1 ? trf("{} kinds", kinds_on) : trf("{} kind", kinds_on));
  if (ImGui::BeginCombo("##kinds", kinds_label.c_str())) {
    for (int k = 0; k < event_kind_count(); ++k)
      ImGui::Checkbox(std::string(kind_name(static_cast<EventKind>(k))).c_str(), &filter_.kinds[k]);
    ImGui::Separator();
    ImGui::Checkbox(tr("steps when no kind is chosen"), &settings_.show_steps_in_list);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(150);
  const std::string reason_label =
      filter_.reason < 0 ? tr("any exit reason") : exit_reason_name(static_cast<uint16_t>(filter_.reason));
  if (ImGui::BeginCombo("##reason", reason_label.c_str())) {
    if (ImGui::Selectable(tr("any exit reason"), filter_.reason < 0)) filter_.reason = -1;
    for (const auto& r : traces_[list_trace_].model->stats().exits)
      if (ImGui::Selectable(fmt::format("{} ({})", exit_reason_name(r.reason), r.count).c_str(),
                            filter_.reason == r.reason))
        filter_.reason = r.reason;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  const char* cpls[] = {tr("any CPL"), "CPL 0", "CPL 1", "CPL 2", "CPL 3"};
  int cpl_item = filter_.cpl + 1;
  if (ImGui::Combo("##cpl", &cpl_item, cpls, 5)) filter_.cpl = cpl_item - 1;
  if (traces_[list_trace_].model->tracks().size() > 1) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    ImGui::InputInt("vCPU", &filter_.vcpu);
    filter_.vcpu = std::max(-1, filter_.vcpu);
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(std::max(80.0f, ImGui::GetContentRegionAvail().x - 150));
  ImGui::InputTextWithHint("##text", tr("text (e.g. 0x3f8, #PF, iretq)"), filter_.text, sizeof filter_.text);
  ImGui::SameLine();
  if (ImGui::Button(tr("clear"))) filter_ = ListFilter{};

  refilter_step();
  const TraceModel& m = *traces_[list_trace_].model;
  if (list_done_)
    ImGui::TextDisabled(tr("%zu of %zu events"), list_rows_.size(), m.size());
  else
    ImGui::TextDisabled(tr("filtering... %.0f%% (%zu found so far)"),
                        100.0 * list_scan_ / std::max<size_t>(1, m.size()), list_rows_.size());

  // ---- the table ----
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("events", 5, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, 64);
  ImGui::TableSetupColumn(tr("time"), ImGuiTableColumnFlags_WidthFixed, 100);
  ImGui::TableSetupColumn(tr("vCPU"), ImGuiTableColumnFlags_WidthFixed, 38);
  ImGui::TableSetupColumn(tr("kind"), ImGuiTableColumnFlags_WidthFixed, 90);
  ImGui::TableSetupColumn(tr("what happened"), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  if (scroll_list_to_selection_ && selection_.trace == list_trace_) {
    auto it = std::lower_bound(list_rows_.begin(), list_rows_.end(), static_cast<uint32_t>(selection_.event));
    if (it != list_rows_.end() && *it == selection_.event) {
      const float y = static_cast<float>(it - list_rows_.begin()) * row_h;
      const float h = ImGui::GetWindowHeight();
      if (y < ImGui::GetScrollY() || y > ImGui::GetScrollY() + h - 3 * row_h) ImGui::SetScrollY(y - h / 3);
    }
    scroll_list_to_selection_ = false;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(list_rows_.size()), row_h);
  while (clipper.Step()) {
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const size_t i = list_rows_[r];
      const Event e = m.event(i);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool sel = selection_.trace == list_trace_ && selection_.event == i;
      const std::string id = fmt::format("{}##row{}", e.seq, i);
      if (ImGui::Selectable(id.c_str(), sel, ImGuiSelectableFlags_SpanAllColumns)) select(list_trace_, i, false);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(time_label(rel(list_trace_, i)).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%u", e.vcpu);
      ImGui::TableNextColumn();
      const uint16_t code = m.at(i).code;
      ImGui::PushStyleColor(ImGuiCol_Text, e.kind == EventKind::Step ? IM_COL32(170, 170, 180, 255)
                                                                     : palette::kind(e.kind, code, e.cause));
      ImGui::TextUnformatted(std::string(kind_name(e.kind)).c_str());
      ImGui::PopStyleColor();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(summarize_event(e).c_str());
    }
  }
  ImGui::EndTable();
}

}  // namespace ringscope::viewer
