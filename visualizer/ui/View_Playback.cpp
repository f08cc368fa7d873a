// View_Playback.cpp — the bar at the top: step back and forward one event,
// jump to the previous/next event of a chosen kind, play at a chosen speed,
// bookmarks, fit, and the help overlay with every keyboard shortcut.
#include <fmt/format.h>

#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

void View::draw_playback() {
  const TraceModel* m = selected_model();
  ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 2);
  if (ImGui::Button("|<")) {
    if (m) select(selection_.trace, 0, true);
  }
  ImGui::SameLine();
  if (ImGui::Button(tr("< prev"))) step_to_next(-1);
  ImGui::SameLine();
  if (ImGui::Button("<")) step(-1);
  ImGui::SameLine();
  if (ImGui::Button(playing_ ? tr("pause") : tr("play "))) playing_ = !playing_;
  ImGui::SameLine();
  if (ImGui::Button(">")) step(+1);
  ImGui::SameLine();
  if (ImGui::Button(tr("next >"))) step_to_next(+1);
  ImGui::SameLine();
  if (ImGui::Button(">|")) {
    if (m) select(selection_.trace, m->size() - 1, true);
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(150);
  int nk = static_cast<int>(settings_.next_kind);
  if (ImGui::BeginCombo("##nextkind", tr(next_kind_label(settings_.next_kind)))) {
    for (int k = 0; k < kNextKindCount; ++k)
      if (ImGui::Selectable(tr(next_kind_label(static_cast<NextKind>(k))), k == nk))
        settings_.next_kind = static_cast<NextKind>(k);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(110);
  ImGui::SliderInt("##speed", &settings_.play_speed, 1, 1000, tr("%d steps/s"), ImGuiSliderFlags_Logarithmic);
  ImGui::SameLine();
  if (ImGui::Button(tr("bookmark"))) toggle_bookmark();
  ImGui::SameLine();
  ImGui::SetNextItemWidth(130);
  if (ImGui::BeginCombo("##bookmarks",
                        bookmarks_.empty() ? tr("no bookmarks") : trf("{} bookmarks", bookmarks_.size()).c_str())) {
    for (const auto& [t, i] : bookmarks_) {
      const std::string label = fmt::format("#{} {} ({})", traces_[t].model->event(i).seq, time_label(rel(t, i)),
                                            kind_name(traces_[t].model->kind(i)));
      if (ImGui::Selectable(label.c_str())) select(t, i, true);
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button(tr("fit"))) zoom_to_fit();
  ImGui::SameLine();
  if (ImGui::Button(tr("help (H)"))) help_open_ = !help_open_;
  if (m) {
    ImGui::SameLine();
    // The seq, as the list, the inspector and `ringscope show` number events.
    ImGui::TextDisabled(tr("event #%llu (of %zu) at %s"),
                        static_cast<unsigned long long>(m->event(selection_.event).seq), m->size(),
                        time_label(rel(selection_.trace, selection_.event)).c_str());
  }
}

void View::draw_help() {
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos({d.x / 2, d.y / 2}, ImGuiCond_Always, {0.5f, 0.5f});
  ImGui::SetNextWindowBgAlpha(0.95f);
  ImGui::Begin(tr("Keyboard shortcuts"), &help_open_,
               ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse);
  static const char* rows[][2] = {
      {"Left / Right", N_("one event back / forward")},
      {"N / Shift+N", N_("next / previous event of the kind chosen in the bar")},
      {"Space", N_("play / pause (steps through events of that kind)")},
      {"B", N_("bookmark the selected event (again: remove)")},
      {"Home / End", N_("first / last event")},
      {N_("mouse wheel"), N_("zoom the timeline around the cursor")},
      {N_("drag"), N_("pan the timeline")},
      {N_("right-drag / Shift+drag"), N_("select a time range (Statistics covers it); Esc clears it")},
      {N_("click"), N_("select the mark or the time under the cursor")},
      {"= / -", N_("zoom in / out")},
      {"F", N_("fit the whole trace")},
      {"H, F1 or ?", N_("this help; Esc closes it")},
  };
  if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg)) {
    for (const auto& r : rows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(palette::vec(palette::kSelection), "%s", tr(r[0]));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(tr(r[1]));
    }
    ImGui::EndTable();
  }
  ImGui::Separator();
  ImGui::TextDisabled(tr("Colours: ring 3 blue, ring 0 red; guest green, hypervisor amber."));
  ImGui::End();
}

void View::draw_problems() {
  for (const LoadProblem& p : problems_) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped(tr("Could not open %s: %s"), p.path.c_str(), p.message.c_str());
    ImGui::PopStyleColor();
  }
  for (const LoadedTrace& t : traces_) {
    if (t.model->complete() || t.model->warning().empty()) continue;
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
    ImGui::TextWrapped(tr("%s is incomplete: %s. Showing the %zu events before that point."), t.path.c_str(),
                       t.model->warning().c_str(), t.model->size());
    ImGui::PopStyleColor();
  }
}

}  // namespace ringscope::viewer
