// trace_stats_json.cpp — TraceStats as one JSON object.
//
// The key names are the event vocabulary's (docs/trace-format.md: snake_case, the same
// names everywhere): `reason` and `reason_name`, `vector`, `cause`,
// `duration_ns`. Numbers are JSON numbers; durations are nanoseconds.
#include <nlohmann/json.hpp>

#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace_stats.h"

namespace ringscope {

namespace {

using nlohmann::json;

json duration_json(const DurationStats& d) {
  return {{"count", d.count},
          {"total_ns", d.total_ns},
          {"mean_ns", d.mean_ns()},
          {"min_ns", d.min_ns},
          {"max_ns", d.max_ns}};
}

// The bt mode's counters (bt_stats.h), keyed by the vocabulary's names.
json bt_json(const BtStats& b) {
  json by_insn = json::object();
  for (int i = 1; i < kBtInsnCount; ++i)
    if (b.callouts_by_insn[static_cast<size_t>(i)])
      by_insn[std::string(bt_insn_name(static_cast<BtInsn>(i)))] = {
          {"count", b.callouts_by_insn[static_cast<size_t>(i)]},
          {"time_ns", b.callout_ns_by_insn[static_cast<size_t>(i)]}};
  json hottest = json::array();
  for (const BtCalloutSite& site : b.hottest)
    hottest.push_back({{"rip", site.rip},
                       {"instruction", bt_insn_name(site.insn)},
                       {"count", site.count},
                       {"time_ns", site.time_ns}});
  json causes = json::array();
  for (const BtSwitchCause& c : b.causes) {
    json o = {{"cause", cause_name(c.cause)}, {"to_world", world_name(c.to)}, {"count", c.count}};
    if (c.cause == TrapCause::Exception || c.cause == TrapCause::Interrupt || c.cause == TrapCause::SoftInt)
      o["vector"] = c.vector;
    causes.push_back(o);
  }
  return {{"translation_cache",
           {{"blocks", b.blocks},
            {"bytes", b.block_bytes},
            {"instructions", b.block_instructions},
            {"blocks_with_callouts", b.blocks_with_callouts},
            {"sensitive_found", b.sensitive_found},
            {"translate_ns", b.translate_ns}}},
          {"callouts",
           {{"count", b.callouts},
            {"time_ns", b.callout_ns},
            {"by_instruction", by_insn},
            {"sites", b.callout_sites},
            {"unplaced", b.callouts_unplaced},
            {"hottest", hottest}}},
          {"world_switches",
           {{"count", b.world_switches},
            {"to_translated", b.to_translated},
            {"to_direct", b.to_direct},
            {"time_ns", b.switch_ns},
            {"by_cause", causes}}},
          {"time", {{"direct_ns", b.direct_ns}, {"translated_ns", b.translated_ns}, {"monitor_ns", b.monitor_ns}}}};
}

json reasons_json(const std::map<uint16_t, uint64_t>& by_reason) {
  json a = json::array();
  for (auto& [reason, count] : by_reason)
    a.push_back({{"reason", reason}, {"reason_name", exit_reason_name(reason)}, {"count", count}});
  return a;
}

}  // namespace

std::string stats_to_json(const TraceStats& st) {
  json j;
  const TraceHeader& h = st.header;
  j["header"] = {{"scenario", h.scenario},
                 {"mode", h.mode},
                 {"level", h.level},
                 {"params", h.params},
                 {"host_kernel", h.host_kernel},
                 {"kvm_flavour", h.kvm_flavour},
                 {"cpu_model", h.cpu_model},
                 {"tool_version", h.tool_version},
                 {"vcpus", h.vcpus},
                 {"disk_cache", h.disk_cache},
                 {"start_unix_ns", h.start_unix_ns}};
  j["complete"] = st.complete;
  if (!st.warning.empty()) j["warning"] = st.warning;
  j["events"] = st.events;
  j["duration_ns"] = st.duration_ns();

  json kinds = json::object();
  for (int k = 0; k < event_kind_count(); ++k)
    kinds[std::string(kind_name(static_cast<EventKind>(k)))] = st.by_kind[static_cast<size_t>(k)];
  j["by_kind"] = kinds;

  j["vm_exits"] = st.vm_exits;
  j["exits_vmm"] = st.exits_vmm;
  j["exits_kernel"] = st.exits_kernel;
  j["kernel_only_exits"] = st.kernel_only_exits;
  j["exit_duration"] = duration_json(st.exit_duration);
  json exits = json::array();
  for (const ExitReasonStats& r : st.exits) {
    exits.push_back({{"reason", r.reason},
                     {"reason_name", exit_reason_name(r.reason)},
                     {"count", r.count},
                     {"share", st.vm_exits ? static_cast<double>(r.count) / static_cast<double>(st.vm_exits) : 0.0},
                     {"vmm", r.vmm},
                     {"kernel", r.kernel},
                     {"duration", duration_json(r.duration)}});
  }
  j["exits"] = exits;
  j["kvm_stats"] = st.kvm_stats;

  json traps = json::array();
  for (const TrapStats& t : st.traps) {
    json o = {{"cause", cause_name(t.cause)},
              {"vector", t.vector},
              {"count", t.count},
              {"ring_transitions", t.ring_transitions}};
    if (t.cause == TrapCause::Exception) o["name"] = exception_name(t.vector);
    traps.push_back(o);
  }
  j["traps"] = traps;
  j["trap_count"] = st.trap_count;
  j["ring_transitions"] = {{"total", st.ring_transitions}, {"to_kernel", st.to_kernel}, {"to_user", st.to_user}};
  j["hypercalls"] = st.hypercalls;
  j["output_bytes"] = st.output_bytes;

  const bool bt = st.bt.any();
  if (bt) j["bt"] = bt_json(st.bt);

  json vcpus = json::array();
  for (const VcpuStats& v : st.vcpus)
    vcpus.push_back({{"vcpu", v.vcpu},
                     {"events", v.events},
                     {"vm_exits", v.vm_exits},
                     {"exits_vmm", v.exits_vmm},
                     {"exits_kernel", v.exits_kernel},
                     {"exit_time_ns", v.exit_time_ns},
                     {"traps", v.traps},
                     {"interrupts", v.interrupts},
                     {"ring_transitions", v.ring_transitions},
                     {"ipis_sent", v.ipis_sent},
                     {"ipis_taken", v.ipis_taken},
                     {"ipi_latency_ns", v.ipi_latency_ns},
                     {"first_ns", v.first_ns},
                     {"last_ns", v.last_ns},
                     {"instructions", v.instructions},
                     {"thread_cpu_ns", v.thread_cpu_ns}});
  j["vcpus"] = vcpus;

  json phases = json::array();
  for (const PhaseStats& p : st.phases) {
    phases.push_back({{"label", p.label},
                      {"vcpu", p.vcpu},
                      {"closed", p.closed},
                      {"begin_seq", p.begin_seq},
                      {"end_seq", p.end_seq},
                      {"duration_ns", p.duration_ns()},
                      {"events", p.events},
                      {"vm_exits", p.vm_exits},
                      {"exits", reasons_json(p.exits_by_reason)},
                      {"exit_time_ns", p.exit_time_ns},
                      {"traps", p.traps},
                      {"ring_transitions", p.ring_transitions},
                      {"hypercalls", p.hypercalls},
                      {"kvm_stats", p.kvm_stats}});
    if (bt) {
      phases.back()["world_switches"] = p.by_kind[static_cast<size_t>(EventKind::WorldSwitch)];
      phases.back()["callouts"] = p.by_kind[static_cast<size_t>(EventKind::BtCallout)];
    }
  }
  j["phases"] = phases;
  if (st.unmatched_end_markers) j["unmatched_end_markers"] = st.unmatched_end_markers;
  if (st.phases_dropped) j["phases_dropped"] = st.phases_dropped;
  if (st.counters_dropped) j["counters_dropped"] = st.counters_dropped;

  if (st.end_reason) {
    j["run_end"] = {{"reason", run_end_name(*st.end_reason)}, {"status", st.guest_status}, {"message", st.end_message}};
  }
  // Replace invalid UTF-8 from guest-provided labels instead of throwing.
  return json_terminal_safe(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace ringscope
