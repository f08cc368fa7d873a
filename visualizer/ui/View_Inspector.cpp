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

#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/disasm.h"
#include "ui/palette.h"

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
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kind(e.kind, m->at(i).code, e.cause));
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

  // The instruction that caused the event (the `int`, `syscall`, faulting
  // instruction or `out`), not the one at the address the trace records
  // for it, which for int n, syscall and KVM's I/O exits is the next one.
  using Where = TraceModel::CauseInstruction::Where;
  const TraceModel::CauseInstruction ci = m->causing_instruction(i);
  const bool traced = m->header().level == "full";
  if (ci.where != Where::None || (e.kind == EventKind::Trap && e.cause == TrapCause::Interrupt)) {
    ImGui::Separator();
    ImGui::TextColored(palette::vec(palette::kWarning), tr("Instruction"));
    const size_t mc = m->mode_change_before(i);
    CpuMode mode = CpuMode::Long64;  // the teaching kernel's mode after boot
    if (mc < m->size()) {
      const Event c = m->event(mc);
      mode = cpu_mode(c.cr0, c.efer);
    }
    const bool user = (e.kind == EventKind::Trap ? e.from_cpl : e.cpl) == 3;
    const char* how =
        !traced ? tr("record with --level full to see it")
        : user && m->unstepped_runs() > 0
            ? tr("ring 3 ran natively on this host, not single-stepped, so its instructions were not recorded")
            : tr("no single step of it is near this event");
    if (ci.where == Where::None) {
      text(
          trf("none: an external interrupt arrives between instructions; the guest was about to run the "
              "instruction at rip 0x{:x}",
              e.rip));
    } else if (ci.where == Where::EndsAt) {
      text(
          trf("the instruction just before rip 0x{:x} (the trace records the address after it); its bytes "
              "are not in this trace: {}",
              ci.rip, how));
    } else if (ci.bytes.empty()) {
      text(trf("at rip 0x{:x}; its bytes are not in this trace: {}", ci.rip, how));
    } else {
      std::string hex;
      for (unsigned char b : ci.bytes) hex += fmt::format("{:02x} ", b);
      const std::string asm_text = disassemble(ci.bytes, ci.rip, mode);
      text(fmt::format("0x{:x}:  {:<24} {}", ci.rip, hex, asm_text.empty() ? tr("(not decodable)") : asm_text));
      if (ci.rip != e.rip && e.kind != EventKind::Step)
        ImGui::TextDisabled(tr("the event records rip 0x%llx, the address after this instruction"),
                            static_cast<unsigned long long>(e.rip));
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
        if (v.is_number_unsigned() && hex_key(k))
          value = fmt::format("0x{:x}", v.get<uint64_t>());
        else if (v.is_string())
          value = v.get<std::string>();
        else
          value = v.dump();
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
        {"rax", r.rax}, {"rbx", r.rbx}, {"rcx", r.rcx}, {"rdx", r.rdx}, {"rsi", r.rsi},
        {"rdi", r.rdi}, {"rbp", r.rbp}, {"rsp", r.rsp}, {"rip", r.rip}, {"rflags", r.rflags},
        {"cr0", r.cr0}, {"cr2", r.cr2}, {"cr3", r.cr3}, {"cr4", r.cr4}, {"efer", r.efer}};
    for (size_t k = 0; k < std::size(regs); ++k) {
      text(fmt::format("{:>6} {:016x}", regs[k].first, regs[k].second));
    }
    text(fmt::format("    cs {:04x}  ss {:04x}  cpl {}", r.cs, r.ss, r.cpl));
  }
}

}  // namespace ringscope::viewer
