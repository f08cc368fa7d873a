// view_settings.cpp — loading, saving and --panels for ViewSettings.
#include "ui/view_settings.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ringscope/i18n.h"

namespace ringscope::viewer {

const char* next_kind_label(NextKind k) {
  switch (k) {
    case NextKind::Exit: return N_("VM exit");
    case NextKind::RingTransition: return N_("ring transition");
    case NextKind::Trap: return N_("trap or return");
    case NextKind::Hypercall: return N_("hypercall");
    case NextKind::Device: return N_("device access");
    case NextKind::Marker: return N_("marker");
    case NextKind::AnyEvent: return N_("any event");
  }
  return "?";
}

std::string settings_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/ringscope/viewer.ini";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/ringscope/viewer.ini";
  return "ringscope-viewer.ini";
}

namespace {

// One table of keys: the same list loads and saves, so they cannot drift.
template <typename Visit>
void for_each_key(ViewSettings& s, Visit&& v) {
  v("show_timeline", s.show_timeline);
  v("show_events", s.show_events);
  v("show_inspector", s.show_inspector);
  v("show_ring", s.show_ring);
  v("show_playback", s.show_playback);
  v("show_stats", s.show_stats);
  v("show_compare", s.show_compare);
  v("tab", s.tab);
  v("next_kind", s.next_kind);
  v("play_speed", s.play_speed);
  v("stats_visible_range", s.stats_visible_range);
  v("show_steps_in_list", s.show_steps_in_list);
  v("font_size", s.font_size);
  v("window_w", s.window_w);
  v("window_h", s.window_h);
  v("animate", s.animate);
}

template <typename T>
void parse_into(const std::string& text, T& out) {
  std::istringstream in(text);
  if constexpr (std::is_enum_v<T>) {
    int v = 0;
    if (in >> v) out = static_cast<T>(v);
  } else {
    T v{};
    if (in >> v) out = v;
  }
}

template <typename T>
std::string to_text(const T& v) {
  if constexpr (std::is_enum_v<T>)
    return std::to_string(static_cast<int>(v));
  else {
    std::ostringstream o;
    o << v;
    return o.str();
  }
}

}  // namespace

ViewSettings load_settings(const std::string& path) {
  ViewSettings s;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || line[0] == '#') continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    for_each_key(s, [&](const char* k, auto& field) {
      if (key == k) parse_into(value, field);
    });
  }
  if (s.font_size < 8 || s.font_size > 40) s.font_size = 15;
  if (s.play_speed < 1) s.play_speed = 1;
  return s;
}

bool save_settings(const ViewSettings& settings, const std::string& path, std::string& error) {
  ViewSettings s = settings;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path);
  if (!out) {
    error = "cannot write the viewer settings to " + path + "; check that the directory is writable";
    return false;
  }
  out << "# ringscope viewer settings, written on exit\n";
  for_each_key(s, [&](const char* k, auto& field) { out << k << '=' << to_text(field) << '\n'; });
  return true;
}

bool apply_panels(std::string_view list, ViewSettings& s, std::string& error) {
  if (list == "all") {
    s.show_timeline = s.show_events = s.show_inspector = s.show_ring = s.show_playback = s.show_stats = s.show_compare =
        true;
    return true;
  }
  s.show_timeline = s.show_events = s.show_inspector = s.show_ring = s.show_playback = s.show_stats = s.show_compare =
      false;
  bool tab_chosen = false;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    auto tab = [&](BottomTab t) {
      if (!tab_chosen) s.tab = t;
      tab_chosen = true;
    };
    if (name == "timeline")
      s.show_timeline = true;
    else if (name == "events")
      s.show_events = true, tab(BottomTab::Events);
    else if (name == "inspector")
      s.show_inspector = true;
    else if (name == "ring")
      s.show_ring = true;
    else if (name == "playback")
      s.show_playback = true;
    else if (name == "stats")
      s.show_stats = true, tab(BottomTab::Statistics);
    else if (name == "compare")
      s.show_compare = true, tab(BottomTab::Compare);
    else if (!name.empty()) {
      error = "unknown panel '" + std::string(name) +
              "'; use a comma-separated list of timeline, events, inspector, ring, playback, stats, compare (or all)";
      return false;
    }
  }
  return true;
}

}  // namespace ringscope::viewer
