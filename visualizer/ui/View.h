// View.h — the viewer's UI: one class, one file per panel (STYLE.md, as
// Tracy does it). View.cpp holds loading, layout, selection, keyboard and
// the frame; View_<Panel>.cpp draws one panel each.
//
// The View knows nothing about windows or GL: a platform (platform/) makes
// an ImGui context and calls draw() once per frame between NewFrame() and
// Render(). That is what lets the tests and the benchmark run frames with no
// display at all, and the screenshot mode render one under Xvfb.
//
// Time on screen is relative: each trace's events are shown at
// (time - trace origin - alignment), so traces of the same scenario line up,
// and aligning on a marker shifts each trace so that marker begins at 0.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "machines/machine_manager.h"
#include "model/trace_model.h"
#include "ringscope/event_filter.h"
#include "ui/view_settings.h"

namespace ringscope::viewer {

struct LoadedTrace {
  std::unique_ptr<TraceModel> model;
  std::string path;
  int64_t align_ns = 0;        // subtracted from relative times (Compare: align on a marker)
  uint64_t colours = 0;        // bit per palette::Colour this trace's timeline can show (the legend)
  bool followed = false;       // opened with follow_file(): a live run (model->live() says if it still is)
  size_t colours_events = 0;   // events when `colours` was last worked out (a live trace's grow)
  double colours_time_s = -1;  // and when
};

// A file that could not be read at all, shown in the window and on stderr.
struct LoadProblem {
  std::string path;
  std::string message;
};

// What the Statistics panel covers.
enum class StatsScope { WholeTrace, VisibleRange, SelectedRange };

// The New VM dialog's fields, as its widgets hold them (View_Machines.cpp).
struct NewVmForm {
  machines::VmSpec spec;
  int scenario = 0;  // index into the catalogue
  char path[512] = "";
  char disk[512] = "";
  char input[512] = "";
  char params[256] = "";
  std::string error;  // validate()'s sentence after a refused Create
};

// What the UI keeps per VM beside the manager: its slot in traces() while
// its trace is followed (TraceModel::follow), for which run, and the event a
// step paused at, to select once the trace has it.
struct MachineTrace {
  int trace = -1;            // index into traces(); -1: not followed yet
  uint64_t runs_seen = 0;    // Machine::runs it follows (a new run writes the file anew)
  uint64_t breaks_seen = 0;  // Machine::breaks at the last look
  int64_t pending_seq = -1;  // select this event once it is loaded (paused at an exit)
  bool fitted = false;       // the ended run was fitted to the window
};

// The Breakpoints tab's form: what a new breakpoint matches (empty: any).
struct BreakForm {
  std::string kind;  // an event kind's name, "" for any
  char reason[48] = "", port[16] = "", vector[16] = "";
};

struct Selection {
  int trace = -1;    // index into traces(); -1: nothing selected
  size_t event = 0;  // index in that trace's model
  bool valid() const { return trace >= 0; }
};

// The event list's filter, as the list's widgets hold it; matched as the one
// EventFilter (ringscope/event_filter.h). Empty kinds = every kind.
struct ListFilter {
  bool kinds[kMaxEventKinds] = {};  // by EventKind; event_kind_count() are defined
  int reason = -1;                  // exit reason, -1: any
  int vcpu = -1;
  int cpl = -1;  // the guest's CPL at the event (a trap: either end), -1: any
  char text[128] = "";
  bool operator==(const ListFilter&) const = default;
};

class View {
 public:
  explicit View(ViewSettings settings = {});
  ~View();

  // Loads a trace. A file that is unreadable is kept as a LoadProblem (shown
  // in the window) and reported on stderr; a partly readable one loads with
  // its warning shown too. Returns false only for an unreadable file.
  bool open_file(const std::string& path);
  void add_trace(std::unique_ptr<TraceModel> model, std::string path);
  // Opens a trace that a running `ringscope run` is still writing
  // (`--follow`): what is there now, then, every frame, what the writer adds
  // (TraceModel::poll). Turns Follow on. False, as open_file, when the file
  // cannot be followed (no such file, not a trace).
  bool follow_file(const std::string& path);
  void add_followed(std::unique_ptr<TraceModel> model, std::string path);
  // Reads what the writers of followed traces added since the last frame
  // (draw() calls it first thing); returns how many events arrived.
  size_t poll_live();
  // Follow: the timeline keeps the newest events in view and the newest
  // event selected while a followed run is live. Panning the timeline turns
  // it off; the "Follow" box (or `--follow`) turns it on again.
  void set_follow(bool on);
  bool follow() const { return follow_; }
  // Some trace was opened with follow_file() / still live.
  bool any_followed() const;
  bool any_live() const;

  // Machines (issue 14, virt-manager's role): a panel of VMs run as child
  // processes, each with a console, a Host view and its live trace on the
  // timeline. Off until enable_machines() (`ringscope view --machines`, or
  // `ringscope view` with no file).
  void enable_machines(std::unique_ptr<machines::MachineManager> manager = {});
  machines::MachineManager* machines() { return machines_.get(); }
  int selected_machine() const { return selected_machine_; }
  void select_machine(int id);
  void open_new_vm_dialog() { new_vm_open_pending_ = true; }
  NewVmForm& new_vm_form() { return new_vm_form_; }
  // The trace slot of a VM (-1 while none is loaded).
  int machine_trace(int id) const;
  // Screen rectangle of a labelled widget drawn last frame ("run", "pause",
  // "new-vm", "create", ...: the keys View_Machines.cpp records), for the
  // tests that click through the UI as a person would; {0,0},{0,0} if not drawn.
  std::pair<ImVec2, ImVec2> widget_rect(const std::string& key) const;
  // What the console pane and the Host view of the selected VM showed last
  // frame, for the tests.
  const std::string& machines_text() const { return machines_text_; }

  // One frame of UI, inside an ImGui frame. `now_s` drives playback and the
  // ring diagram's animation (the platform passes ImGui::GetTime()).
  void draw();

  // ---- state, for the CLI options and the tests -------------------------
  ViewSettings& settings() { return settings_; }
  const std::vector<LoadedTrace>& traces() const { return traces_; }
  const std::vector<LoadProblem>& problems() const { return problems_; }
  const Selection& selection() const { return selection_; }
  // Selects the event with this seq in trace 0 (--select); false if none.
  bool select_seq(uint64_t seq, int trace = 0);
  void select(int trace, size_t event, bool center_timeline);
  // Visible time range in ns relative to the origin (--zoom).
  void set_zoom(double from_ns, double to_ns);
  double zoom_from() const { return view_t0_; }
  double zoom_to() const { return view_t1_; }
  void zoom_to_fit();
  // The selected time range (right- or shift-drag on the timeline, --range),
  // ns relative to the origin; the Statistics panel covers it while set.
  void set_range(double from_ns, double to_ns);
  void clear_range() { range_.reset(); }
  const std::optional<std::pair<double, double>>& range() const { return range_; }
  // What the Statistics panel showed last frame, and over what.
  const TraceStats* shown_stats() const { return shown_stats_; }
  // What the Compare panel's "selected range" table showed last frame, one
  // per trace (empty without a range).
  const std::vector<const TraceStats*>& shown_compare_range() const { return shown_compare_range_; }
  StatsScope stats_scope() const;
  ListFilter& filter() { return filter_; }
  // Rows the event list holds after its filter (once the filter finished).
  size_t list_rows() const { return list_rows_.size(); }
  bool list_filter_done() const { return list_done_; }
  // Everything the inspector wrote last frame, for the tests.
  const std::string& inspector_text() const { return inspector_text_; }
  // The ring diagram's words at the last frame: its two boxes' titles and
  // the selected event's transition, one per line (what tests read).
  const std::string& ring_diagram_text() const { return ring_diagram_text_; }
  // Geometry of the last frame's timeline, for the tests: the screen x of a
  // relative time and the y middle of a lane's ring and VMX bands.
  float timeline_x(double rel_ns) const;
  std::optional<float> ring_band_y(int trace, uint32_t vcpu) const;
  std::optional<float> vmx_band_y(int trace, uint32_t vcpu) const;
  // The host rows (View_HostTracks.cpp) last frame: the top of a lane's
  // host CPU row and of the host memory row (none: not shown), their
  // heights, and the value the memory row's top line stands for (its scale,
  // the largest level plotted), for the tests.
  static constexpr float kHostCpuRowH = 26, kHostMemRowH = 30;
  std::optional<float> host_cpu_row_y(int trace, uint32_t vcpu) const;
  std::optional<float> host_mem_row_y(int trace) const;
  uint64_t host_mem_scale_bytes() const { return host_mem_scale_bytes_; }
  // Last frame's timeline panel and legend (screen rectangles), for the
  // layout tests: the legend must lie inside the panel at every window size.
  std::pair<ImVec2, ImVec2> timeline_rect() const {
    return {pos_timeline_, {pos_timeline_.x + size_timeline_.x, pos_timeline_.y + size_timeline_.y}};
  }
  std::pair<ImVec2, ImVec2> legend_rect() const { return legend_rect_; }
  // Timeline marks drawn last frame (after folding), for the benchmark.
  size_t marks_drawn() const { return marks_drawn_; }
  void toggle_bookmark();
  const std::vector<std::pair<int, size_t>>& bookmarks() const { return bookmarks_; }
  void set_playing(bool on) { playing_ = on; }
  bool playing() const { return playing_; }
  void step(int direction);          // one event back or forward
  void step_to_next(int direction);  // next/previous of settings().next_kind
  bool help_open() const { return help_open_; }
  void set_help_open(bool on) { help_open_ = on; }
  void open_tab(BottomTab t) {
    settings_.tab = t;
    tab_pending_ = true;
  }
  // Which palette::Colour bits a trace's timeline can show (the legend lists them).
  static uint64_t colours_used(const TraceModel& m);
  // Aligns every trace's timeline so the phase `label` (a marker's begin)
  // is at 0, as Compare's "align timelines on" does (--align); false, and
  // nothing changed, when some trace has no such phase.
  bool align_on(const std::string& label);
  // Relative time of event i of trace t.
  double rel(int t, size_t i) const;

 private:
  // [SECTION] panels (View_<Panel>.cpp)
  void draw_timeline();
  void draw_event_list();
  void draw_inspector();
  void draw_ring_diagram();
  void draw_playback();
  void draw_statistics();
  void draw_compare();
  void draw_help();
  void draw_problems();
  void draw_machines();
  void draw_machine_row(machines::Machine& m, float width);
  void draw_machine_buttons(machines::Machine& m);
  void draw_new_vm_dialog();
  void draw_console(machines::Machine& m);
  void draw_host_view(machines::Machine& m);
  void draw_breakpoints(machines::Machine& m);
  void draw_remove_vm_dialog();
  // Forgets the VM (MachineManager::remove) and the trace the timeline follows for it.
  void remove_machine(int id, bool delete_trace);
  // Follows each VM's trace file: loads what is new into its trace slot.
  void follow_machine_traces();
  void remove_trace(int index);
  void note_widget(const char* key);

  // [SECTION] helpers shared by panels (View.cpp)
  void handle_keys();
  void advance_playback();
  void layout();
  std::string time_label(double rel_ns) const;
  const TraceModel* selected_model() const;
  bool matches(const TraceModel& m, size_t i, const EventFilter& f, const char* text) const;
  void refilter_step();
  // Statistics of trace `t` over [t0, t1] (ns relative to its origin and
  // alignment), kept in `cache` until the range or trace changes.
  struct RangeStats;
  const TraceStats& stats_for_range(int t, double t0, double t1, std::unique_ptr<RangeStats>& cache, bool& capped);

  // Timeline helpers (View_Timeline.cpp)
  struct LaneGeom {
    int trace;
    uint32_t vcpu;
    float y0, ring_y0, ring_y1, vmx_y0, vmx_y1, y1;
    float row_y[kMarkRowCount];    // top of each mark row (0: row hidden)
    float row_h[kMarkRowCount];    // its height (markers: one sub-row per phase depth)
    float host_cpu_y, host_mem_y;  // top of the host rows (View_HostTracks.cpp; 0: none)
  };
  void draw_lane(ImDrawList* dl, const LaneGeom& g, float x0, float x1);
  // The host counters' rows under a lane (View_HostTracks.cpp): host_rows
  // places them from `y` and returns the lane's new bottom.
  float host_rows(LaneGeom& g, const TraceModel& m, float y) const;
  void draw_host_rows(ImDrawList* dl, const LaneGeom& g, float x0, float x1);
  // The ring and VMX bands of one lane over [b0, b1] (absolute ns), one
  // pixel column at a time, each column stacked by the share of its time
  // in each state.
  void draw_bands(ImDrawList* dl, const LaneGeom& g, const TraceModel& m, uint32_t vcpu, int64_t base, uint64_t b0,
                  uint64_t b1, float x0, float x1);
  // The legend: every colour the loaded traces' timelines can show, wrapped
  // to `width`; returns its height (draw=false: only measures).
  float legend(float width, bool draw);
  void bt_band_tooltip(const TraceModel& m, std::optional<uint32_t> monitor_event, uint32_t vcpu, uint64_t t);

  void draw_ruler(ImDrawList* dl, float x0, float x1, float y0, float y1);

  // IPIs as arrows between vCPU lanes (View_IpiArrows.cpp): from the
  // sender's ICR write to the target's irq_inject (via ipi).
 public:
  struct IpiArrow {
    uint32_t from = 0, to = 0;
    uint64_t sent_ns = 0, taken_ns = 0;  // absolute
    uint8_t vector = 0;
    std::string delivery;
    size_t event = 0;  // the irq_inject
  };
  // The IPIs of trace t (cached until the trace grows).
  const std::vector<IpiArrow>& ipi_arrows(int trace);
  // The IPI arrow under the mouse last frame, if any (tests).
  std::optional<IpiArrow> hovered_ipi() const { return ipi_hover_; }
  size_t ipi_arrows_drawn() const { return ipi_drawn_; }

 private:
  void draw_ipi_arrows(ImDrawList* dl, float x0, float x1);
  void ipi_tooltip();
  bool any_ipis();
  struct IpiCache {
    const TraceModel* model = nullptr;
    size_t events = 0;
    std::vector<IpiArrow> arrows;
  };
  std::vector<IpiCache> ipi_cache_;
  uint64_t host_mem_scale_bytes_ = 0;
  std::optional<IpiArrow> ipi_hover_;
  size_t ipi_drawn_ = 0;
  // Per-vCPU statistics (View_VcpuStats.cpp), below the statistics panel's tables.
  void draw_vcpu_statistics(const TraceStats& st);
  // The Follow box in the ruler's label column and the live / ended badge
  // at the ruler's right end (only with a followed trace).
  void draw_live_controls(ImDrawList* dl, float x_label, float x0, float x1, float y0);
  void follow_newest();
  void timeline_input(float x0, float x1, float y0, float y1);

  ViewSettings settings_;
  std::vector<LoadedTrace> traces_;
  std::vector<LoadProblem> problems_;
  Selection selection_;
  double selection_time_s_ = -100;  // when the selection last changed (animation)
  double view_t0_ = 0, view_t1_ = 1e6;
  std::vector<std::pair<int, size_t>> bookmarks_;
  bool playing_ = false;
  double play_accum_ = 0;
  bool help_open_ = false;
  bool tab_pending_ = true;
  bool follow_ = false;
  bool follow_user_width_ = false;  // the user zoomed while following: keep that width

  // Panel rectangles, computed by layout() every frame.
  ImVec2 pos_playback_, size_playback_, pos_timeline_, size_timeline_, pos_bottom_, size_bottom_, pos_ring_, size_ring_,
      pos_inspector_, size_inspector_;

  // Timeline state of the last frame.
  std::vector<LaneGeom> lanes_;
  float tl_x0_ = 0, tl_x1_ = 1;
  size_t marks_drawn_ = 0;
  std::pair<ImVec2, ImVec2> legend_rect_{};
  bool dragging_ = false;
  float drag_start_x_ = 0;
  bool range_dragging_ = false;  // this drag selects a range instead of panning
  double range_anchor_ = 0;
  std::optional<std::pair<double, double>> range_;
  bool stats_ignore_range_ = false;  // the user chose another scope while a range is set
  const TraceStats* shown_stats_ = nullptr;

  // Event list state.
  int list_trace_ = 0;
  ListFilter filter_, applied_filter_;
  int applied_trace_ = -1;
  bool applied_steps_ = true;
  std::vector<uint32_t> list_rows_;
  size_t list_scan_ = 0;
  bool list_done_ = false;
  bool scroll_list_to_selection_ = false;

  std::string inspector_text_;
  std::string ring_diagram_text_;

  // Statistics over the visible or selected range, cached by range: the
  // Statistics panel's (selected trace), and the Compare panel's (one per trace).
  std::unique_ptr<RangeStats> range_stats_;
  std::vector<std::unique_ptr<RangeStats>> compare_range_stats_;
  std::vector<const TraceStats*> shown_compare_range_;
  std::string align_label_;

  // Machines (View_Machines.cpp).
  std::unique_ptr<machines::MachineManager> machines_;
  std::map<int, MachineTrace> machine_traces_;
  int selected_machine_ = -1;
  bool new_vm_open_pending_ = false;
  NewVmForm new_vm_form_;
  std::vector<std::string> scenario_names_;
  char console_line_[256] = "";
  BreakForm break_form_;
  int remove_vm_pending_ = -1;  // the VM whose Remove VM dialog is to open
  int remove_vm_id_ = -1;       // the VM the open dialog is about
  bool remove_vm_delete_trace_ = false;
  size_t console_shown_ = 0;  // console bytes shown last frame (scroll to the end when it grows)
  std::map<std::string, std::pair<ImVec2, ImVec2>> widget_rects_;
  std::string machines_text_;
  ImVec2 pos_machines_, size_machines_;
};

}  // namespace ringscope::viewer
