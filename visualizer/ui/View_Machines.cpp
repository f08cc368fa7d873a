// View_Machines.cpp — the Machines panel (issue 14: the viewer in
// virt-manager's role). The VMs are child processes owned by a
// machines::MachineManager (visualizer/machines/, no ImGui); this file draws
// them: a row per VM with its state and two 120-sample sparklines (host CPU
// and exits per second), the buttons, the New VM dialog, the console pane
// and the Host view, and it follows each VM's trace file onto the timeline.
//
// [SECTION] following the traces
// [SECTION] the panel and its rows
// [SECTION] the New VM dialog
// [SECTION] console and Host view
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ringscope/event_schema.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/mode.h"
#include "ringscope/scenario.h"
#include "ui/View.h"
#include "ui/range_stats.h"

namespace ringscope::viewer {

using machines::Machine;
using machines::VmState;

void View::enable_machines(std::unique_ptr<machines::MachineManager> manager) {
  machines_ = manager ? std::move(manager) : std::make_unique<machines::MachineManager>();
}

void View::select_machine(int id) {
  selected_machine_ = id;
  const int t = machine_trace(id);
  if (t >= 0 && traces_[t].model->size() > 0) select(t, traces_[t].model->size() - 1, false);
}

int View::machine_trace(int id) const {
  auto it = machine_traces_.find(id);
  return it == machine_traces_.end() ? -1 : it->second.trace;
}

std::pair<ImVec2, ImVec2> View::widget_rect(const std::string& key) const {
  auto it = widget_rects_.find(key);
  return it == widget_rects_.end() ? std::pair<ImVec2, ImVec2>{} : it->second;
}

void View::note_widget(const char* key) { widget_rects_[key] = {ImGui::GetItemRectMin(), ImGui::GetItemRectMax()}; }

// ---- [SECTION] following the traces ---------------------------------------------

void View::remove_trace(int index) {
  if (index < 0 || index >= static_cast<int>(traces_.size())) return;
  traces_.erase(traces_.begin() + index);
  for (auto& [id, mt] : machine_traces_) {
    if (mt.trace == index)
      mt = MachineTrace{};
    else if (mt.trace > index)
      --mt.trace;
  }
  std::erase_if(bookmarks_, [&](const auto& b) { return b.first == index; });
  for (auto& b : bookmarks_)
    if (b.first > index) --b.first;
  selection_ = {};
  if (!traces_.empty()) selection_ = {0, 0};
  list_trace_ = 0;
  applied_trace_ = -1;
  compare_range_stats_.clear();
  range_stats_.reset();
}

// Each VM's trace is followed as it is written (TraceModel::follow, and
// poll_live() every frame, as `ringscope view --follow` does): the writer
// seals a chunk at least every ~100 ms and at every pause, so the timeline
// is a frame or two behind the guest. A step's exit is selected once the
// trace holds it; a run that ended is fitted to the window once.
void View::follow_machine_traces() {
  for (auto& mp : machines_->machines()) {
    Machine& m = *mp;
    MachineTrace& mt = machine_traces_[m.id];
    if (m.trace_deleted || m.runs != mt.runs_seen) {
      if (mt.trace >= 0) remove_trace(mt.trace);
      mt = MachineTrace{};
      mt.runs_seen = m.runs;  // breaks_seen 0: a step this run made before the trace was there still counts
      if (m.trace_deleted) continue;
    }
    if (m.breaks != mt.breaks_seen) {
      mt.breaks_seen = m.breaks;
      mt.pending_seq = m.break_seq;
    }
    if (mt.trace < 0) {
      if (m.runs == 0 || m.state == VmState::Building) continue;
      auto model = TraceModel::follow(m.trace_path);
      if (!model) continue;  // the VM has not created it yet
      add_followed(std::move(model).value(), m.name);
      mt.trace = static_cast<int>(traces_.size() - 1);
    }
    const TraceModel& model = *traces_[mt.trace].model;
    m.exits_total = model.stats().vm_exits;
    if (mt.pending_seq >= 0 && mt.pending_seq < static_cast<int64_t>(model.size()) &&
        select_seq(static_cast<uint64_t>(mt.pending_seq), mt.trace)) {
      mt.pending_seq = -1;
      // Keep the zoom if the exit is in view, else centre it.
      const double t = rel(mt.trace, selection_.event);
      if (t < view_t0_ || t > view_t1_) select(mt.trace, selection_.event, true);
    }
    if (!mt.fitted && !model.live() && m.state == VmState::ShutOff && model.size() > 0 && m.id == selected_machine_ &&
        follow_) {
      zoom_to_fit();
      select(mt.trace, model.size() - 1, false);
      mt.fitted = true;
    }
  }
}

// ---- [SECTION] the panel and its rows ---------------------------------------------

void View::draw_machines() {
  machines_->poll();
  machines_text_.clear();
  if (ImGui::Button(tr("New VM..."))) new_vm_open_pending_ = true;
  note_widget("new-vm");
  ImGui::SameLine();
  bool on = follow_;
  if (ImGui::Checkbox(tr("Follow"), &on)) set_follow(on);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", tr("The timeline scrolls with the selected VM's trace as events arrive."));
  draw_new_vm_dialog();

  auto& vms = machines_->machines();
  if (vms.empty()) {
    ImGui::TextWrapped("%s", tr("No virtual machines. \"New VM...\" defines one from a scenario, your own program "
                                "or a kernel image; each runs as its own `ringscope run` process."));
    return;
  }
  if (selected_machine_ < 0 || !machines_->find(selected_machine_)) selected_machine_ = vms.front()->id;
  const float row_h = ImGui::GetTextLineHeightWithSpacing() * 2 + 36 + 4 + ImGui::GetStyle().ItemSpacing.y;
  const float list_h = std::min(ImGui::GetContentRegionAvail().y * 0.45f, static_cast<float>(vms.size()) * row_h + 18);
  ImGui::BeginChild("vms", {0, list_h}, true);
  for (auto& m : vms) draw_machine_row(*m, ImGui::GetContentRegionAvail().x);
  ImGui::EndChild();

  Machine* sel = machines_->find(selected_machine_);
  if (!sel) return;
  draw_machine_buttons(*sel);
  draw_remove_vm_dialog();
  sel = machines_->find(selected_machine_);  // Remove VM may have taken it
  if (!sel) return;
  if (ImGui::BeginTabBar("vm-tabs")) {
    if (ImGui::BeginTabItem(tr("Console"))) {
      draw_console(*sel);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr("Host"))) {
      draw_host_view(*sel);
      ImGui::EndTabItem();
    }
    const bool bp_tab = ImGui::BeginTabItem(tr("Breakpoints"));
    note_widget("tab-breakpoints");
    if (bp_tab) {
      draw_breakpoints(*sel);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
}

void View::remove_machine(int id, bool delete_trace) {
  if (auto it = machine_traces_.find(id); it != machine_traces_.end()) {
    if (it->second.trace >= 0) remove_trace(it->second.trace);
    machine_traces_.erase(it);
  }
  machines_->remove(id, delete_trace);
  if (selected_machine_ == id) selected_machine_ = -1;
}

// "Remove VM": virt-manager's Delete. The VM stops if it runs and leaves the
// list; its trace file stays unless the user ticks the box.
void View::draw_remove_vm_dialog() {
  if (remove_vm_pending_ >= 0) {
    remove_vm_id_ = remove_vm_pending_;
    remove_vm_pending_ = -1;
    remove_vm_delete_trace_ = false;
    ImGui::OpenPopup("###remove-vm");
  }
  if (!ImGui::BeginPopupModal(fmt::format("{}###remove-vm", tr("Remove VM")).c_str(), nullptr,
                              ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings))
    return;
  Machine* m = machines_->find(remove_vm_id_);
  if (!m) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  ImGui::TextUnformatted(
      (m->alive() ? trf("Stop {} and remove it from the list?", m->name) : trf("Remove {} from the list?", m->name))
          .c_str());
  machines_text_ += trf("Remove {} from the list?", m->name) + "\n";
  ImGui::Checkbox(trf("Also delete its trace file ({})", m->trace_path).c_str(), &remove_vm_delete_trace_);
  note_widget("remove-delete-trace");
  ImGui::Separator();
  const bool remove = ImGui::Button(fmt::format("{}###remove-yes", tr("Remove")).c_str());
  note_widget("remove-yes");
  ImGui::SameLine();
  const bool cancel = ImGui::Button(fmt::format("{}###remove-no", tr("Cancel")).c_str());
  note_widget("remove-no");
  if (remove) {
    remove_machine(remove_vm_id_, remove_vm_delete_trace_);
    remove_vm_id_ = -1;
    ImGui::CloseCurrentPopup();
  }
  if (cancel) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

// Breakpoints on events, through QMP: what a new one matches, the VM's list
// (each with its Remove), and the last time one paused the guest.
void View::draw_breakpoints(Machine& m) {
  ImGui::TextWrapped("%s", tr("Pause the guest when an event matches (QMP __org.ringscope_break-add): every key "
                              "given must match; reason only matches VM exits, port I/O exits, vector traps, "
                              "exception exits and interrupt injections."));
  const bool connected = m.alive() && m.qmp;
  if (!connected) ImGui::BeginDisabled();
  BreakForm& f = break_form_;
  const char* shown = f.kind.empty() ? tr("any kind") : f.kind.c_str();
  // Two short rows, so the form fits the panel's narrow column.
  const float w = std::max(60.0f, (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2);
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo("##bp-kind", shown)) {
    if (ImGui::Selectable(tr("any kind"), f.kind.empty())) f.kind.clear();
    for (int k = 0; k < event_kind_count(); ++k) {
      const std::string n(kind_name(static_cast<EventKind>(k)));
      if (ImGui::Selectable(n.c_str(), f.kind == n)) f.kind = n;
    }
    ImGui::EndCombo();
  }
  note_widget("bp-kind");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(w);
  ImGui::InputTextWithHint("##bp-reason", tr("exit reason"), f.reason, sizeof f.reason);
  note_widget("bp-reason");
  ImGui::SetNextItemWidth(w);
  ImGui::InputTextWithHint("##bp-port", tr("port"), f.port, sizeof f.port);
  note_widget("bp-port");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(w);
  ImGui::InputTextWithHint("##bp-vector", tr("vector"), f.vector, sizeof f.vector);
  note_widget("bp-vector");
  const bool add = ImGui::Button(fmt::format("{}###bp-add", tr("Add breakpoint")).c_str());
  note_widget("bp-add");
  if (!connected) ImGui::EndDisabled();
  if (add && connected) {
    std::string why;
    if (auto filter = machines::break_filter(f.kind, f.reason, f.port, f.vector, &why)) {
      if (machines_->break_add(m.id, *filter)) f = BreakForm{};
    } else {
      m.problem = why;
    }
  }
  if (!connected) {
    ImGui::TextDisabled("%s", tr("The VM is not running: breakpoints belong to a running VM."));
    return;
  }
  if (m.breakpoints.empty()) ImGui::TextDisabled("%s", tr("No breakpoints."));
  int64_t remove_id = -1;
  for (const auto& bp : m.breakpoints) {
    const int64_t id = bp.value("id", int64_t{-1});
    ImGui::PushID(static_cast<int>(id));
    if (ImGui::SmallButton(tr("Remove"))) remove_id = id;
    note_widget(("bp-remove-" + std::to_string(id)).c_str());
    ImGui::PopID();
    ImGui::SameLine();
    const std::string line = machines::describe_breakpoint(bp);
    ImGui::TextUnformatted(line.c_str());
    machines_text_ += tr("breakpoint") + std::string(" ") + line + "\n";
  }
  if (remove_id >= 0) machines_->break_remove(m.id, remove_id);
  // The last BREAK: which breakpoint (or step) paused the guest, at which event.
  if (m.last_break.is_object() && m.last_break.contains("event")) {
    const nlohmann::json& ev = m.last_break["event"];
    const std::string reason = m.last_break.value("reason", std::string());
    std::string s = reason == "breakpoint"
                        ? trf("BREAK: breakpoint #{} hit at event #{} ({})", m.last_break.value("id", int64_t{-1}),
                              m.break_seq, ev.value("kind", std::string("?")))
                        : trf("BREAK: {} at event #{} ({})", reason, m.break_seq, ev.value("kind", std::string("?")));
    ImGui::Separator();
    ImGui::TextColored({0.95f, 0.75f, 0.3f, 1}, "%s", s.c_str());
    machines_text_ += s + "\n";
  }
}

void View::draw_machine_row(Machine& m, float width) {
  ImGui::PushID(m.id);
  const bool selected = m.id == selected_machine_;
  const ImVec2 top = ImGui::GetCursorScreenPos();
  const float row_h = ImGui::GetTextLineHeightWithSpacing() * 2 + 36;
  if (ImGui::Selectable("##row", selected, 0, {width, row_h})) select_machine(m.id);
  note_widget(("vm-" + std::to_string(m.id)).c_str());
  ImGui::SetCursorScreenPos({top.x + 4, top.y + 2});
  ImGui::TextUnformatted(m.name.c_str());
  ImGui::SameLine();
  const std::string mode = m.spec.mode.empty() ? std::string(tr("default mode")) : m.spec.mode;
  ImGui::TextDisabled("%s, %s", mode.c_str(), m.spec.level.c_str());
  // The state, coloured as virt-manager does (running green, paused amber).
  ImVec4 col{0.6f, 0.6f, 0.6f, 1};
  if (m.state == VmState::Running) col = {0.4f, 0.85f, 0.4f, 1};
  if (m.state == VmState::Paused) col = {0.95f, 0.75f, 0.3f, 1};
  std::string state = machines::state_label(m.state);
  if (m.state == VmState::ShutOff && m.exit) state += " (" + m.exit->describe() + ")";
  if (m.proc && m.proc->running()) state += trf(", pid {}", m.proc->pid());
  if (m.state == VmState::Paused && m.break_seq >= 0 && m.last_break.is_object()) {
    const nlohmann::json& ev = m.last_break.contains("event") ? m.last_break["event"] : m.last_break;
    state += trf(" at event #{} ({})", m.break_seq, ev.value("kind", std::string("?")));
  }
  ImGui::SetCursorScreenPos({top.x + 4, top.y + 2 + ImGui::GetTextLineHeightWithSpacing()});
  ImGui::TextColored(col, "%s", state.c_str());
  if (selected) machines_text_ += m.name + ": " + state + "\n";
  // Sparklines: the last 120 samples, one a second.
  const float w = (width - 16) / 2;
  ImGui::SetCursorScreenPos({top.x + 4, top.y + 4 + 2 * ImGui::GetTextLineHeightWithSpacing()});
  const std::string cpu = trf("CPU {:.0f} %", m.cpu_percent.last());
  ImGui::PlotLines("##cpu", machines::SampleHistory::get, &m.cpu_percent, static_cast<int>(m.cpu_percent.size()), 0,
                   cpu.c_str(), 0, std::max(100.0f, m.cpu_percent.max()), {w, 28});
  ImGui::SameLine();
  const std::string exits = trf("{:.0f} exits/s", m.exits_per_second.last());
  ImGui::PlotHistogram("##exits", machines::SampleHistory::get, &m.exits_per_second,
                       static_cast<int>(m.exits_per_second.size()), 0, exits.c_str(), 0,
                       std::max(10.0f, m.exits_per_second.max()), {w, 28});
  ImGui::SetCursorScreenPos({top.x, top.y + row_h + 4});
  ImGui::Dummy({0, 0});
  ImGui::PopID();
}

void View::draw_machine_buttons(Machine& m) {
  const bool alive = m.alive();
  const bool off = m.state == VmState::ShutOff;
  auto button = [&](const char* label, const char* key, bool enabled, const char* tip) {
    if (!enabled) ImGui::BeginDisabled();
    const bool pressed = ImGui::Button(fmt::format("{}###{}", label, key).c_str());
    if (!enabled) ImGui::EndDisabled();
    note_widget(key);
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("%s", tip);
    ImGui::SameLine();
    return pressed && enabled;
  };
  const bool paused = m.state == VmState::Paused;
  if (button(tr("Run"), "run", off || paused, tr("Start the VM (a new `ringscope run` process), or continue it")))
    machines_->run(m.id);
  if (button(tr("Pause"), "pause", m.state == VmState::Running, tr("Pause the guest (QMP stop)")))
    machines_->pause(m.id);
  if (button(tr("Step exit"), "step", paused, tr("Run until the next VM exit, then pause again")))
    machines_->step_exit(m.id);
  if (button(tr("Stop"), "stop", alive, tr("End the VM (SIGTERM); its trace keeps what it recorded")))
    machines_->stop(m.id);
  if (button(tr("Reset"), "reset", alive && m.qmp, tr("Reset the machine (QMP system_reset)"))) machines_->reset(m.id);
  if (button(tr("Delete trace"), "delete", off && !m.trace_deleted, tr("Delete this VM's trace file")))
    machines_->delete_trace(m.id);
  if (button(tr("Remove VM"), "remove", true,
             tr("Stop the VM if it runs and remove it from the list (asks whether to delete its trace)")))
    remove_vm_pending_ = m.id;
  ImGui::NewLine();
  if (!m.problem.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4{1, 0.45f, 0.4f, 1});
    ImGui::TextWrapped("%s", m.problem.c_str());
    ImGui::PopStyleColor();
    machines_text_ += m.problem + "\n";
  }
}

// ---- [SECTION] the New VM dialog --------------------------------------------------

namespace {
// Combo over a list of (value, label) pairs; returns true on change.
bool combo(const char* label, std::string& value, std::initializer_list<std::pair<const char*, const char*>> items) {
  const char* shown = value.c_str();
  for (const auto& [v, l] : items)
    if (value == v) shown = l;
  bool changed = false;
  if (ImGui::BeginCombo(label, shown)) {
    for (const auto& [v, l] : items) {
      if (ImGui::Selectable(l, value == v)) {
        value = v;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  return changed;
}
}  // namespace

void View::draw_new_vm_dialog() {
  NewVmForm& f = new_vm_form_;
  if (new_vm_open_pending_) {
    new_vm_open_pending_ = false;
    if (scenario_names_.empty())
      for (const Scenario& s : builtin_scenarios()) scenario_names_.push_back(s.name);
    // Without KVM (none, no access, RINGSCOPE_NO_KVM) the VM runs in emulation.
    if (f.spec.mode.empty() && !probe_host().kvm_openable) f.spec.mode = "emulation";
    f.error.clear();
    ImGui::OpenPopup("###new-vm");
  }
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos({d.x / 2, d.y / 2}, ImGuiCond_Appearing, {0.5f, 0.5f});
  ImGui::SetNextWindowSize({std::min(640.0f, d.x - 40), 0}, ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal(fmt::format("{}###new-vm", tr("New VM")).c_str(), nullptr,
                              ImGuiWindowFlags_NoSavedSettings))
    return;
  ImGui::TextWrapped("%s", tr("What the VM runs; the VM is a `ringscope run` process the viewer starts and "
                              "controls over QMP."));
  int src = static_cast<int>(f.spec.source);
  ImGui::RadioButton(tr("Scenario"), &src, 0);
  ImGui::SameLine();
  ImGui::RadioButton(tr("User program (.c or .elf)"), &src, 1);
  ImGui::SameLine();
  ImGui::RadioButton(tr("Kernel image"), &src, 2);
  f.spec.source = static_cast<machines::VmSource>(src);
  if (f.spec.source == machines::VmSource::Scenario) {
    if (!scenario_names_.empty()) {
      auto it = std::find(scenario_names_.begin(), scenario_names_.end(), f.spec.scenario);
      f.scenario = it == scenario_names_.end() ? 0 : static_cast<int>(it - scenario_names_.begin());
      if (ImGui::BeginCombo(tr("Scenario"), scenario_names_[f.scenario].c_str())) {
        for (size_t i = 0; i < scenario_names_.size(); ++i)
          if (ImGui::Selectable(scenario_names_[i].c_str(), static_cast<int>(i) == f.scenario))
            f.spec.scenario = scenario_names_[i];
        ImGui::EndCombo();
      }
    }
    ImGui::InputText(tr("Parameters"), f.params, sizeof f.params);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("key=value, separated by spaces (run's --param)"));
  } else {
    ImGui::InputText(tr("Path"), f.path, sizeof f.path);
  }
  // The modes, from the one mode table (mode.h).
  std::vector<std::pair<std::string, std::string>> modes{{"", tr("default (the scenario's)")}};
  for (int i = 0; i < kModeCount; ++i) {
    const std::string n{mode_name(static_cast<Mode>(i))};
    modes.emplace_back(n, n);
  }
  const char* mode_shown = modes[0].second.c_str();
  for (const auto& [v, l] : modes)
    if (v == f.spec.mode) mode_shown = l.c_str();
  if (ImGui::BeginCombo(tr("Mode"), mode_shown)) {
    for (const auto& [v, l] : modes)
      if (ImGui::Selectable(l.c_str(), v == f.spec.mode)) f.spec.mode = v;
    ImGui::EndCombo();
  }
  combo(tr("Level"), f.spec.level,
        {{"exits", tr("exits (every VM exit)")}, {"full", tr("full (single-step every instruction)")}});
  combo(tr("Interrupt controller"), f.spec.irqchip,
        {{"", tr("default")}, {"vmm", tr("vmm (ringscope's PIC and PIT)")}, {"kernel", tr("kernel (KVM's)")}});
  combo(tr("Virtio I/O"), f.spec.io,
        {{"", tr("default")},
         {"vcpu", tr("vcpu (served during the notify's exit)")},
         {"offload", tr("offload (a device thread, KVM_IOEVENTFD)")}});
  ImGui::InputInt(tr("RAM (MiB, 0: default)"), &f.spec.ram_mib, 16, 64);
  ImGui::InputText(tr("Disk image"), f.disk, sizeof f.disk);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", tr("A raw image file, created if missing; empty: a scratch disk"));
  ImGui::InputText(tr("Console input"), f.input, sizeof f.input);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", tr("Text the guest's console has to read from the start; type more in the Console pane"));
  ImGui::Checkbox(tr("Start paused"), &f.spec.start_paused);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", tr("Stop before the first instruction, as QEMU's -S: then Step exit or Run"));
  if (!f.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4{1, 0.45f, 0.4f, 1});
    ImGui::TextWrapped("%s", f.error.c_str());
    ImGui::PopStyleColor();
  }
  ImGui::Separator();
  const bool create = ImGui::Button(fmt::format("{}###create", tr("Create and run")).c_str());
  note_widget("create");
  ImGui::SameLine();
  const bool define = ImGui::Button(fmt::format("{}###define", tr("Create")).c_str());
  note_widget("define");
  ImGui::SameLine();
  const bool cancel = ImGui::Button(fmt::format("{}###cancel", tr("Cancel")).c_str());
  note_widget("cancel");
  if (create || define) {
    f.spec.path = f.path;
    f.spec.disk = f.disk;
    f.spec.console_input = f.input;
    f.spec.params = f.spec.source == machines::VmSource::Scenario ? f.params : "";
    auto id = machines_->create(f.spec);
    if (!id) {
      f.error = id.error().message;
    } else {
      f.error.clear();
      select_machine(*id);
      if (create) machines_->run(*id);
      ImGui::CloseCurrentPopup();
    }
  }
  if (cancel) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

// ---- [SECTION] console and Host view -------------------------------------------------

void View::draw_console(Machine& m) {
  const float input_h = ImGui::GetFrameHeightWithSpacing() + 4;
  ImGui::BeginChild("console", {0, -input_h}, true, ImGuiWindowFlags_HorizontalScrollbar);
  // The newest 64 KiB: enough for a screen, cheap to draw every frame.
  const size_t from = m.console.size() > 65536 ? m.console.size() - 65536 : 0;
  ImGui::TextUnformatted(m.console.data() + from, m.console.data() + m.console.size());
  machines_text_ += m.console.substr(from);
  if (m.console.size() != console_shown_) {
    ImGui::SetScrollHereY(1.0f);  // new output: show the end
    console_shown_ = m.console.size();
  }
  ImGui::EndChild();
  const bool can_send = m.alive() && m.qmp;
  if (!can_send) ImGui::BeginDisabled();
  ImGui::SetNextItemWidth(-ImGui::CalcTextSize(tr("Send")).x - 24);
  const bool enter = ImGui::InputTextWithHint("##line", tr("type a line for the guest's console"), console_line_,
                                              sizeof console_line_, ImGuiInputTextFlags_EnterReturnsTrue);
  note_widget("console-input");
  ImGui::SameLine();
  const bool send = ImGui::Button(fmt::format("{}###send", tr("Send")).c_str());
  note_widget("send");
  if (!can_send) ImGui::EndDisabled();
  if ((enter || send) && can_send) {
    machines_->console_write(m.id, std::string(console_line_) + "\n");
    console_line_[0] = 0;
  }
}

void View::draw_host_view(Machine& m) {
  auto line = [&](const std::string& s) {
    ImGui::TextUnformatted(s.c_str());
    machines_text_ += s + "\n";
  };
  ImGui::TextWrapped("%s", tr("The VM as the host sees it: one process, one thread per vCPU (vcpu0, vcpu1, ...), "
                              "read from /proc every second."));
  if (!m.host) {
    line(m.alive() ? tr("Reading /proc...") : tr("The VM is not running: no process."));
    if (!m.argv.empty()) line("$ " + machines::shell_line(m.argv));
    return;
  }
  const machines::ProcessInfo& p = *m.host;
  line(trf("pid {}  ({})", p.pid, p.name));
  line(trf("resident memory (RSS) {:.1f} MiB, virtual {:.1f} MiB", p.rss_kib / 1024.0, p.vm_kib / 1024.0));
  line("$ " + machines::shell_line(m.argv));
  if (ImGui::BeginTable("threads", 4,
                        ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit)) {
    ImGui::TableSetupColumn(tr("thread id"));
    ImGui::TableSetupColumn(tr("name"));
    ImGui::TableSetupColumn(tr("state"));
    ImGui::TableSetupColumn(tr("CPU time"));
    ImGui::TableHeadersRow();
    for (const auto& t : p.threads) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%d", static_cast<int>(t.tid));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.name.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%c", t.state);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f s", t.cpu_seconds());
      machines_text_ += fmt::format("{} {} {} {:.2f}\n", t.tid, t.name, t.state, t.cpu_seconds());
    }
    ImGui::EndTable();
  }
  line(trf("open files ({})", p.files.size()));
  if (ImGui::BeginTable("fds", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit)) {
    for (const auto& f : p.files) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%d", f.fd);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(f.target.c_str());
      machines_text_ += fmt::format("{} {}\n", f.fd, f.target);
    }
    ImGui::EndTable();
  }
}

}  // namespace ringscope::viewer
