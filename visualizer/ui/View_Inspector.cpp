// View_Inspector.cpp — the selected event in full: every recorded field,
// registers where the trace has them, the guest instruction disassembled,
// and the plain-language explanation `ringscope show --explain` prints (one
// table in core/src/explain.cpp serves both).
//
// Fields come from event_to_json, the trace's own JSON form, so the names
// here are the names in the file format and `show --json`.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ringscope/explain.h"
#include "ringscope/exit_reasons.h"
#include "ui/View.h"
#include "ui/disasm.h"
#include "ui/palette.h"
#include "ringscope/i18n.h"

namespace ringscope::viewer {

namespace {

// Keys whose numbers read better in hex.
bool hex_key(const std::string& k) {
  return k == "rip" || k == "rip_to" || k == "gpa" || k == "cr2" || k == "port" || k.rfind("cr", 0) == 0 ||
         k.find("efer") != std::string::npos || k.rfind("prev_", 0) == 0 || k == "error_code";
}

}  // namespace

void View::draw_inspector() {
  const TraceModel* m = selected_model();
  auto text = [&](const std::string& s) {
    ImGui::TextUnformatted(s.c_str());
    inspector_text_ += s;
    inspector_text_ += '\n';
  };
  if (!m) {
    ImGui::TextDisabled(tr("Click an event in the timeline or the list to see it here."));
    return;
  }
  const size_t i = selection_.event;
  const Event e = m->event(i);
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kind(e.kind, m->at(i).code));
  text(fmt::format("#{}  {}  {}  vCPU {}", e.seq, kind_name(e.kind), time_label(rel(selection_.trace, i)), e.vcpu));
  ImGui::PopStyleColor();
  if (traces_.size() > 1) ImGui::TextDisabled("%s", m->name().c_str());
  text(summarize_event(e));

  ImGui::Separator();
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(palette::vec(palette::kWarning), tr("Why"));
  const std::string why = explain_event(e);
  text(why);
  ImGui::PopTextWrapPos();

  // The instruction: a step's own bytes, or for an exit/trap the bytes of
  // the nearest step at the same RIP (traces at level "full" have them).
  uint64_t rip = e.rip;
  std::string_view bytes;
  if (e.kind == EventKind::Step) {
    bytes = e.text;
  } else if (e.kind == EventKind::VmExit) {
    // KVM reports an I/O exit with RIP already past the instruction, and
    // single-stepping reports that instruction only after the exit: the
    // first step after the exit whose bytes end at the exit's RIP is it.
    for (size_t j = i + 1; j < std::min(m->size(), i + 64); ++j) {
      if (m->kind(j) != EventKind::Step) continue;
      const Event s = m->event(j);
      if (s.rip + s.text.size() == e.rip) {
        rip = s.rip;
        bytes = s.text;
      }
      break;
    }
  }
  if (bytes.empty() && e.kind != EventKind::Step) bytes = m->instruction_bytes_near(i, rip);
  if (rip != 0 || !bytes.empty()) {
    ImGui::Separator();
    ImGui::TextColored(palette::vec(palette::kWarning), tr("Instruction"));
    const size_t mc = m->mode_change_before(i);
    CpuMode mode = CpuMode::Long64;  // the teaching kernel's mode after boot
    if (mc < m->size()) {
      const Event c = m->event(mc);
      mode = cpu_mode(c.cr0, c.efer);
    }
    if (bytes.empty()) {
      text(m->header().level == "full"
               ? trf("at rip 0x{:x}: no single step at this address nearby, so its bytes are not in the trace", rip)
               : trf("at rip 0x{:x}: bytes not recorded (record with --level full to see the instruction)", rip));
    } else {
      std::string hex;
      for (unsigned char b : bytes) hex += fmt::format("{:02x} ", b);
      const std::string asm_text = disassemble(bytes, rip, mode);
      text(fmt::format("0x{:x}:  {:<24} {}", rip, hex, asm_text.empty() ? tr("(not decodable)") : asm_text));
      ImGui::TextDisabled("%s", cpu_mode_name(mode));
    }
  }

  ImGui::Separator();
  ImGui::TextColored(palette::vec(palette::kWarning), tr("Fields"));
  const auto j = nlohmann::json::parse(event_to_json(e), nullptr, false);
  if (ImGui::BeginTable("fields", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn(tr("field"), ImGuiTableColumnFlags_WidthFixed, 120);
    ImGui::TableSetupColumn(tr("value"), ImGuiTableColumnFlags_WidthStretch);
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        std::string value;
        if (v.is_number_unsigned() && hex_key(k)) value = fmt::format("0x{:x}", v.get<uint64_t>());
        else if (v.is_string()) value = v.get<std::string>();
        else value = v.dump();
        if (k == "duration_ns" && v.is_number()) value += "  (" + format_duration(v.get<uint64_t>()) + ")";
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextDisabled("%s", k.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(value.c_str());
        inspector_text_ += k + " = " + value + "\n";
      }
    }
    ImGui::EndTable();
  }
  if (e.regs) {
    ImGui::TextColored(palette::vec(palette::kWarning), tr("Registers at the end of the run"));
    const GuestRegs& r = *e.regs;
    const std::pair<const char*, uint64_t> regs[] = {
        {"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx}, {"rdx", r.rdx}, {"rsi", r.rsi}, {"rdi", r.rdi},
        {"rbp", r.rbp}, {"rsp", r.rsp}, {"rip", r.rip}, {"rflags", r.rflags}, {"cr0", r.cr0}, {"cr2", r.cr2},
        {"cr3", r.cr3}, {"cr4", r.cr4}, {"efer", r.efer}};
    for (size_t k = 0; k < std::size(regs); ++k) {
      text(fmt::format("{:>6} {:016x}", regs[k].first, regs[k].second));
    }
    text(fmt::format("    cs {:04x}  ss {:04x}  cpl {}", r.cs, r.ss, r.cpl));
  }
}

}  // namespace ringscope::viewer
