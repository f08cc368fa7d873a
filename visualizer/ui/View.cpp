// View.cpp — the frame, the layout, selection, zoom, keyboard and playback.
// Panels live in View_<Panel>.cpp.
//
// [SECTION] loading
// [SECTION] following a live trace
// [SECTION] the frame and its layout
// [SECTION] selection and zoom
// [SECTION] playback and keyboard
#include "ui/View.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ringscope/i18n.h"
#include "ui/range_stats.h"

namespace ringscope::viewer {

View::View(ViewSettings settings) : settings_(settings) {}
View::~View() = default;

// ---- [SECTION] loading ------------------------------------------------------

bool View::open_file(const std::string& path) {
  auto m = TraceModel::open(path);
  if (!m) {
    // The window shows the same sentence; stderr gets it for scripts.
    std::fprintf(stderr, "ringscope view: %s\n", m.error().message.c_str());
    problems_.push_back({path, m.error().message});
    return false;
  }
  if (!m.value()->complete() && !m.value()->warning().empty())
    std::fprintf(stderr, "ringscope view: warning: %s: %s; showing the %zu events before that point\n", path.c_str(),
                 m.value()->warning().c_str(), m.value()->size());
  add_trace(std::move(m).value(), path);
  return true;
}

void View::add_trace(std::unique_ptr<TraceModel> model, std::string path) {
  const uint64_t colours = colours_used(*model);
  traces_.push_back({std::move(model), std::move(path), 0, colours});
  if (traces_.size() == 1) zoom_to_fit();
  if (!selection_.valid() && traces_.back().model->size() > 0) {
    selection_ = {static_cast<int>(traces_.size() - 1), 0};
  }
}

// ---- [SECTION] following a live trace ------------------------------------------

bool View::follow_file(const std::string& path) {
  auto m = TraceModel::follow(path);
  if (!m) {
    std::fprintf(stderr, "ringscope view: %s\n", m.error().message.c_str());
    problems_.push_back({path, m.error().message});
    return false;
  }
  add_followed(std::move(m).value(), path);
  return true;
}

void View::add_followed(std::unique_ptr<TraceModel> model, std::string path) {
  add_trace(std::move(model), std::move(path));
  traces_.back().followed = true;
  traces_.back().colours_events = traces_.back().model->size();
  set_follow(true);
}

bool View::any_followed() const {
  return std::any_of(traces_.begin(), traces_.end(), [](const LoadedTrace& t) { return t.followed; });
}

bool View::any_live() const {
  return std::any_of(traces_.begin(), traces_.end(), [](const LoadedTrace& t) { return t.model->live(); });
}

void View::set_follow(bool on) {
  follow_ = on;
  follow_user_width_ = false;
  if (on) follow_newest();
}

size_t View::poll_live() {
  size_t total = 0;
  const double now = ImGui::GetCurrentContext() ? ImGui::GetTime() : 0;
  for (size_t t = 0; t < traces_.size(); ++t) {
    LoadedTrace& lt = traces_[t];
    if (!lt.model->following()) continue;
    auto n = lt.model->poll();
    if (!n) std::fprintf(stderr, "ringscope view: %s\n", n.error().message.c_str());
    const size_t got = n ? n.value() : 0;
    const bool ended = !lt.model->following();
    if (ended && n && !lt.model->complete() && !lt.model->warning().empty())
      std::fprintf(stderr, "ringscope view: warning: %s: %s\n", lt.path.c_str(), lt.model->warning().c_str());
    if (got == 0 && !ended) continue;
    total += got;
    // The legend's colours only grow: worked out again when the trace has
    // doubled, a second has passed, or the run ended (it walks the tracks).
    if (ended || lt.model->size() >= 2 * lt.colours_events || now - lt.colours_time_s >= 1.0) {
      lt.colours = colours_used(*lt.model);
      lt.colours_events = lt.model->size();
      lt.colours_time_s = now;
    }
    if (static_cast<int>(t) == list_trace_) list_done_ = false;  // the list scans on from where it was
    if (!selection_.valid() && lt.model->size() > 0) selection_ = {static_cast<int>(t), 0};
  }
  if (total && follow_) follow_newest();
  return total;
}

void View::follow_newest() {
  // The newest event of the followed traces, and where their runs began.
  double newest = 0, first = 0;
  int sel_trace = -1;
  for (size_t t = 0; t < traces_.size(); ++t) {
    const TraceModel& m = *traces_[t].model;
    if (!traces_[t].followed || m.size() == 0) continue;
    const double r = rel(static_cast<int>(t), m.size() - 1), f = rel(static_cast<int>(t), 0);
    first = sel_trace < 0 ? f : std::min(first, f);
    if (sel_trace < 0 || r > newest) {
      newest = r;
      sel_trace = static_cast<int>(t);
    }
  }
  if (sel_trace < 0) return;
  // Without a zoom of the user's the window shows the whole run so far, at
  // most its last two seconds; with one, that width, ending at the newest event.
  constexpr double kAutoSpanNs = 2e9;
  const double w = follow_user_width_ ? view_t1_ - view_t0_ : std::clamp(newest - first, 1e3, kAutoSpanNs);
  const double pad = w * 0.03;
  set_zoom(newest + pad - w - (follow_user_width_ ? 0 : pad), newest + pad);
  select(sel_trace, traces_[sel_trace].model->size() - 1, false);
}

double View::rel(int t, size_t i) const {
  const auto& lt = traces_[t];
  return static_cast<double>(static_cast<int64_t>(lt.model->time(i) - lt.model->origin_ns()) - lt.align_ns);
}

const TraceModel* View::selected_model() const {
  return selection_.valid() ? traces_[selection_.trace].model.get() : nullptr;
}

std::string View::time_label(double ns) const {
  const double a = std::fabs(ns);
  const char* sign = ns < 0 ? "-" : "+";
  if (a < 1e3) return fmt::format("{}{:.0f} ns", sign, a);
  if (a < 1e6) return fmt::format("{}{:.3f} µs", sign, a / 1e3);
  if (a < 1e9) return fmt::format("{}{:.3f} ms", sign, a / 1e6);
  return fmt::format("{}{:.4f} s", sign, a / 1e9);
}

// ---- [SECTION] the frame and its layout ---------------------------------------

void View::layout() {
  ImVec2 d = ImGui::GetIO().DisplaySize;
  // The Machines panel takes a column on the left; the trace panels share the rest.
  const float x0 = machines_ ? std::floor(std::clamp(d.x * 0.3f, 360.0f, 560.0f)) : 0;
  pos_machines_ = {0, 0};
  size_machines_ = {x0, d.y};
  d.x -= x0;
  float y = 0;
  const float bar_h = settings_.show_playback ? ImGui::GetFrameHeight() + 16 : 0;
  pos_playback_ = {0, 0};
  size_playback_ = {d.x, bar_h};
  y += bar_h;
  const bool bottom = (settings_.show_events || settings_.show_stats || settings_.show_compare);
  const bool right = settings_.show_ring || settings_.show_inspector;
  float tl_h = 0;
  if (settings_.show_timeline) {
    size_t lanes = 0;
    size_t extra_rows = 0;  // phase sub-rows beyond the first
    for (const auto& t : traces_) {
      lanes += std::max<size_t>(1, t.model->tracks().size());
      for (const auto& tr : t.model->tracks()) extra_rows += tr.phase_rows.empty() ? 0 : tr.phase_rows.size() - 1;
    }
    const float want =
        60.0f + static_cast<float>(std::max<size_t>(lanes, 1)) * 118.0f + 14.0f * static_cast<float>(extra_rows) + 70;
    tl_h = (bottom || right) ? std::clamp(want, 200.0f, (d.y - y) * 0.5f) : d.y - y;
  }
  pos_timeline_ = {0, y};
  size_timeline_ = {d.x, tl_h};
  y += tl_h;
  const float rest = d.y - y;
  const float right_w = right ? (bottom ? std::floor(d.x * 0.42f) : d.x) : 0;
  pos_bottom_ = {0, y};
  size_bottom_ = {d.x - right_w, rest};
  const float ring_h = settings_.show_ring ? (settings_.show_inspector ? std::floor(rest * 0.5f) : rest) : 0;
  pos_ring_ = {d.x - right_w, y};
  size_ring_ = {right_w, ring_h};
  pos_inspector_ = {d.x - right_w, y + ring_h};
  size_inspector_ = {right_w, rest - ring_h};
  for (ImVec2* p : {&pos_playback_, &pos_timeline_, &pos_bottom_, &pos_ring_, &pos_inspector_}) p->x += x0;
}

void View::draw() {
  shown_stats_ = nullptr;  // set again if the Statistics tab draws this frame
  poll_live();
  layout();
  handle_keys();
  advance_playback();
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  auto place = [&](ImVec2 pos, ImVec2 size) {
    ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
    ImGui::SetNextWindowSize(size, ImGuiCond_Always);
  };
  if (machines_) {
    follow_machine_traces();
    place(pos_machines_, size_machines_);
    ImGui::Begin(tr("Machines"), nullptr, fixed);
    draw_machines();
    ImGui::End();
  }
  if (settings_.show_playback) {
    place(pos_playback_, size_playback_);
    ImGui::Begin(tr("Playback"), nullptr, fixed | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
    draw_playback();
    ImGui::End();
  }
  if (settings_.show_timeline && size_timeline_.y > 0) {
    place(pos_timeline_, size_timeline_);
    ImGui::Begin(tr("Timeline"), nullptr, fixed | ImGuiWindowFlags_NoScrollWithMouse);
    draw_problems();
    draw_timeline();
    ImGui::End();
  } else {
    lanes_.clear();
  }
  if (size_bottom_.x > 0 && size_bottom_.y > 0 &&
      (settings_.show_events || settings_.show_stats || settings_.show_compare)) {
    place(pos_bottom_, size_bottom_);
    ImGui::Begin(tr("Trace"), nullptr, fixed | ImGuiWindowFlags_NoTitleBar);
    if (!settings_.show_timeline) draw_problems();
    if (ImGui::BeginTabBar("bottom")) {
      auto tab = [&](bool shown, const char* label, BottomTab which, void (View::*fn)()) {
        if (!shown) return;
        // The tab chosen by --panels, open_tab() or the last session opens
        // once; after that the user's clicks decide.
        const ImGuiTabItemFlags f = (tab_pending_ && settings_.tab == which) ? ImGuiTabItemFlags_SetSelected : 0;
        if (ImGui::BeginTabItem(label, nullptr, f)) {
          if (!tab_pending_) settings_.tab = which;
          (this->*fn)();
          ImGui::EndTabItem();
        }
      };
      tab(settings_.show_events, tr("Events"), BottomTab::Events, &View::draw_event_list);
      tab(settings_.show_stats, tr("Statistics"), BottomTab::Statistics, &View::draw_statistics);
      tab(settings_.show_compare, tr("Compare"), BottomTab::Compare, &View::draw_compare);
      ImGui::EndTabBar();
      tab_pending_ = false;
    }
    ImGui::End();
  }
  if (settings_.show_ring && size_ring_.y > 0) {
    place(pos_ring_, size_ring_);
    ImGui::Begin(tr("Where the CPU is"), nullptr, fixed);
    draw_ring_diagram();
    ImGui::End();
  }
  inspector_text_.clear();
  if (settings_.show_inspector && size_inspector_.y > 0) {
    place(pos_inspector_, size_inspector_);
    ImGui::Begin(tr("Inspector"), nullptr, fixed);
    draw_inspector();
    ImGui::End();
  }
  if (help_open_) draw_help();
}

// ---- [SECTION] selection and zoom ----------------------------------------------

void View::select(int trace, size_t event, bool center_timeline) {
  if (trace < 0 || trace >= static_cast<int>(traces_.size()) || event >= traces_[trace].model->size()) return;
  const bool changed = selection_.trace != trace || selection_.event != event;
  selection_ = {trace, event};
  if (changed) selection_time_s_ = ImGui::GetCurrentContext() ? ImGui::GetTime() : 0;
  scroll_list_to_selection_ = true;
  if (list_trace_ != trace) list_trace_ = trace;
  const double t = rel(trace, event);
  const double w = view_t1_ - view_t0_;
  if (center_timeline || t < view_t0_ || t > view_t1_) {
    // Keep the zoom, move the window so the event is in view.
    if (t < view_t0_ || t > view_t1_ || center_timeline) {
      view_t0_ = t - w / 2;
      view_t1_ = t + w / 2;
    }
  }
}

bool View::select_seq(uint64_t seq, int trace) {
  if (trace < 0 || trace >= static_cast<int>(traces_.size())) return false;
  const TraceModel& m = *traces_[trace].model;
  // seq is the index for any trace the writer produced; check to be sure.
  if (seq < m.size() && m.event(seq).seq == seq) {
    select(trace, seq, true);
    return true;
  }
  return false;
}

void View::set_zoom(double from_ns, double to_ns) {
  if (to_ns <= from_ns) to_ns = from_ns + 1;
  view_t0_ = from_ns;
  view_t1_ = to_ns;
}

void View::set_range(double from_ns, double to_ns) {
  if (to_ns < from_ns) std::swap(from_ns, to_ns);
  range_ = {from_ns, to_ns};
  stats_ignore_range_ = false;  // a new range is what the statistics show
}

StatsScope View::stats_scope() const {
  if (range_ && !stats_ignore_range_) return StatsScope::SelectedRange;
  return settings_.stats_visible_range ? StatsScope::VisibleRange : StatsScope::WholeTrace;
}

void View::zoom_to_fit() {
  double lo = 0, hi = 1;
  bool any = false;
  for (size_t t = 0; t < traces_.size(); ++t) {
    const TraceModel& m = *traces_[t].model;
    if (m.size() == 0) continue;
    const double a = rel(static_cast<int>(t), 0), b = rel(static_cast<int>(t), m.size() - 1);
    lo = any ? std::min(lo, a) : a;
    hi = any ? std::max(hi, b) : b;
    any = true;
  }
  const double pad = std::max(1.0, (hi - lo) * 0.02);
  set_zoom(lo - pad, hi + pad);
}

// ---- [SECTION] playback and keyboard ---------------------------------------------

void View::step(int direction) {
  const TraceModel* m = selected_model();
  if (!m) return;
  const size_t i = selection_.event;
  if (direction > 0 && i + 1 < m->size()) select(selection_.trace, i + 1, false);
  if (direction < 0 && i > 0) select(selection_.trace, i - 1, false);
}

void View::step_to_next(int direction) {
  const TraceModel* m = selected_model();
  if (!m) return;
  const size_t i = selection_.event;
  size_t j = m->size();
  auto of_kind = [&](EventKind k) { return direction > 0 ? m->next_of(i, k) : m->prev_of(i, k); };
  auto first_of = [&](std::initializer_list<EventKind> kinds) {
    size_t best = m->size();
    for (EventKind k : kinds) {
      const size_t c = of_kind(k);
      if (c == m->size()) continue;
      if (best == m->size() || (direction > 0 ? c < best : c > best)) best = c;
    }
    return best;
  };
  switch (settings_.next_kind) {
    case NextKind::Exit: j = of_kind(EventKind::VmExit); break;
    case NextKind::RingTransition: j = direction > 0 ? m->next_transition(i) : m->prev_transition(i); break;
    case NextKind::Trap: j = first_of({EventKind::Trap, EventKind::TrapReturn}); break;
    case NextKind::Hypercall: j = of_kind(EventKind::Hypercall); break;
    case NextKind::Device: j = of_kind(EventKind::Device); break;
    case NextKind::Marker: j = of_kind(EventKind::Marker); break;
    case NextKind::AnyEvent: j = direction > 0 ? i + 1 : (i ? i - 1 : m->size()); break;
  }
  if (j < m->size())
    select(selection_.trace, j, false);
  else if (direction > 0)
    playing_ = false;  // nothing more of that kind: stop playing
}

void View::toggle_bookmark() {
  if (!selection_.valid()) return;
  const std::pair<int, size_t> b{selection_.trace, selection_.event};
  auto it = std::find(bookmarks_.begin(), bookmarks_.end(), b);
  if (it != bookmarks_.end())
    bookmarks_.erase(it);
  else
    bookmarks_.push_back(b);
  std::sort(bookmarks_.begin(), bookmarks_.end());
}

void View::advance_playback() {
  if (!playing_) return;
  play_accum_ += ImGui::GetIO().DeltaTime * static_cast<float>(settings_.play_speed);
  // Several steps per frame at high speeds; never more than 1000 per frame.
  int n = 0;
  while (play_accum_ >= 1.0 && playing_ && n++ < 1000) {
    play_accum_ -= 1.0;
    step_to_next(+1);
  }
}

namespace {
// GLFW's key numbers, which Dear ImGui 1.86 uses as key indices for keys
// outside its ImGuiKey_ list (letters are their upper-case ASCII codes).
constexpr int kKeyF1 = 290, kKeySlash = 47, kKeyEqual = 61, kKeyMinus = 45, kKeyPadAdd = 334, kKeyPadSub = 333;
}  // namespace

void View::handle_keys() {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;  // typing in a filter: keys are text
  auto pressed = [](ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k)); };
  if (pressed(ImGuiKey_RightArrow)) step(+1);
  if (pressed(ImGuiKey_LeftArrow)) step(-1);
  if (ImGui::IsKeyPressed('N')) step_to_next(io.KeyShift ? -1 : +1);
  if (pressed(ImGuiKey_Space)) playing_ = !playing_;
  if (ImGui::IsKeyPressed('B')) toggle_bookmark();
  if (ImGui::IsKeyPressed('F')) zoom_to_fit();
  if (ImGui::IsKeyPressed('H') || ImGui::IsKeyPressed(kKeyF1) || (io.KeyShift && ImGui::IsKeyPressed(kKeySlash)))
    help_open_ = !help_open_;
  if (pressed(ImGuiKey_Escape)) {
    // Escape closes the help first, then clears the selected range.
    if (help_open_)
      help_open_ = false;
    else
      range_.reset();
  }
  if (pressed(ImGuiKey_Home) && selected_model()) select(selection_.trace, 0, true);
  if (pressed(ImGuiKey_End) && selected_model()) select(selection_.trace, selected_model()->size() - 1, true);
  const double mid = (view_t0_ + view_t1_) / 2, half = (view_t1_ - view_t0_) / 2;
  if (ImGui::IsKeyPressed(kKeyEqual) || ImGui::IsKeyPressed(kKeyPadAdd)) set_zoom(mid - half / 2, mid + half / 2);
  if (ImGui::IsKeyPressed(kKeyMinus) || ImGui::IsKeyPressed(kKeyPadSub)) set_zoom(mid - half * 2, mid + half * 2);
}

}  // namespace ringscope::viewer
