// view_settings.h — everything about how the viewer looks that survives a
// restart, in one plain struct (STYLE.md, from Tracy). Saved as key=value
// lines in $XDG_CONFIG_HOME/ringscope/viewer.ini (~/.config/... by default);
// unknown keys are ignored so older and newer viewers share the file.
#pragma once

#include <string>
#include <string_view>

namespace ringscope::viewer {

enum class BottomTab : int { Events = 0, Statistics, Compare };
// What "next" in the playback bar jumps to.
enum class NextKind : int { Exit = 0, RingTransition, Trap, Hypercall, Device, Marker, AnyEvent };
inline constexpr int kNextKindCount = 7;
const char* next_kind_label(NextKind k);

struct ViewSettings {
  bool show_timeline = true;
  bool show_events = true;  // the event list tab
  bool show_inspector = true;
  bool show_ring = true;
  bool show_playback = true;
  bool show_stats = true;
  bool show_compare = true;
  BottomTab tab = BottomTab::Events;
  NextKind next_kind = NextKind::Exit;
  int play_speed = 10;  // events per second while playing
  bool stats_visible_range = false;
  bool show_steps_in_list = true;
  float font_size = 15.0f;
  int window_w = 1600, window_h = 1000;
  bool animate = true;  // the ring diagram's arrow; off for screenshots
};

std::string settings_path();
// Missing or unreadable file: the defaults (a viewer must always open).
ViewSettings load_settings(const std::string& path);
// Returns false (and says why in `error`) when the file cannot be written.
bool save_settings(const ViewSettings& s, const std::string& path, std::string& error);

// `--panels timeline,events,inspector,ring,playback,stats,compare` (or
// "all"): shows exactly those. The first of events/stats/compare named is
// the open tab. False, with a sentence in `error`, for an unknown name.
bool apply_panels(std::string_view list, ViewSettings& s, std::string& error);

}  // namespace ringscope::viewer
