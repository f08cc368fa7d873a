// View_VcpuStats.cpp — the statistics panel's per-vCPU table: for each
// lane of a trace with several vCPUs, its events, exits (and how many
// reached the VMM), time in exits, traps and interrupts, IPIs sent and
// taken, instructions (emulation) and the span it was active. The numbers
// are TraceStats::vcpus (core/include/ringscope/vcpu_stats.h), the same
// `ringscope stats` prints.
#include <fmt/format.h>

#include <algorithm>

#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ui/View.h"
#include "ui/palette.h"

namespace ringscope::viewer {

void View::draw_vcpu_statistics(const TraceStats& st) {
  if (st.vcpus.size() < 2) return;
  ImGui::Spacing();
  ImGui::TextColored(palette::vec(palette::kWarning), "%s", tr("Per vCPU"));
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("vcpus", 10, tf)) return;
  const char* heads[] = {N_("vCPU"),  N_("events"),     N_("VM exits"), N_("to VMM"),  N_("exit time"),
                         N_("traps"), N_("interrupts"), N_("IPIs out"), N_("IPIs in"), N_("instructions")};
  for (const char* h : heads) ImGui::TableSetupColumn(tr(h));
  ImGui::TableHeadersRow();
  for (const VcpuStats& v : st.vcpus) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("vCPU %u", v.vcpu);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip(
          "%s", trf("active from {} to {} after the trace began ({})", format_duration(v.first_ns - st.first_ns),
                    format_duration(v.last_ns - st.first_ns), format_duration(v.span_ns()))
                    .c_str());
    for (uint64_t n : {v.events, v.vm_exits, v.exits_vmm}) {
      ImGui::TableNextColumn();
      ImGui::Text("%llu", static_cast<unsigned long long>(n));
    }
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(format_duration(v.exit_time_ns).c_str());
    for (uint64_t n : {v.traps, v.interrupts, v.ipis_sent, v.ipis_taken}) {
      ImGui::TableNextColumn();
      ImGui::Text("%llu", static_cast<unsigned long long>(n));
    }
    ImGui::TableNextColumn();
    if (v.instructions)
      ImGui::Text("%llu", static_cast<unsigned long long>(v.instructions));
    else
      ImGui::TextDisabled("-");
  }
  ImGui::EndTable();
  uint64_t taken = 0, latency = 0;
  for (const VcpuStats& v : st.vcpus) taken += v.ipis_taken, latency += v.ipi_latency_ns;
  if (taken)
    ImGui::TextDisabled("%s", trf("{} IPIs, {} on average from the ICR write to the target taking it (the pink "
                                  "arrows on the timeline)",
                                  taken, format_duration(latency / taken))
                                  .c_str());
}

}  // namespace ringscope::viewer
