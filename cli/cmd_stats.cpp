// cmd_stats.cpp — `ringscope stats FILE`: what a trace adds up to.
//
// All the arithmetic is in core (trace_stats.h) so the viewer and the lab
// checkers get the same numbers; this file only lays the tables out for a
// terminal, or prints stats_to_json for scripts.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include <algorithm>
#include <vector>

#include "commands.h"
#include "ringscope/bt_insns.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/host_stats.h"
#include "ringscope/i18n.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace_stats.h"
#include "trace_input.h"

namespace ringscope::cli {

namespace {

struct StatsOptions {
  std::string file;
  bool json = false;
};

std::string percent(uint64_t part, uint64_t whole) {
  return whole ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) : "-";
}

// Strings from the trace file (the header, labels, messages, counter names)
// are chosen by a guest or by whoever wrote the file: escaped for the terminal.
std::string or_dash(const std::string& s) { return s.empty() ? "-" : escape_terminal(s); }

std::string trap_label(const TrapStats& t) {
  if (t.cause == TrapCause::Exception) {
    std::string_view n = exception_name(t.vector);
    return n.empty() ? trf("exception {}", t.vector) : std::string(n);
  }
  if (t.cause == TrapCause::Syscall) return "syscall";
  return fmt::format("{} 0x{:x}", cause_name(t.cause), t.vector);
}

void print_header(std::string& o, const TraceStats& st, const std::string& file) {
  const TraceHeader& h = st.header;
  o += trf("trace       {}  ({})\n", escape_terminal(file), st.complete ? tr("complete") : tr("incomplete"));
  o += trf("scenario    {}  mode {}  level {}{}\n", or_dash(h.scenario), or_dash(h.mode), or_dash(h.level),
           h.params.empty() ? "" : tr("  params ") + escape_terminal(h.params));
  o += trf("host        KVM flavour {}  kernel {}  cpu {}\n", or_dash(h.kvm_flavour), or_dash(h.host_kernel),
           or_dash(h.cpu_model));
  o += trf("recorded by ringscope {}  vcpus {}  disk cache {}\n", or_dash(h.tool_version), h.vcpus,
           or_dash(h.disk_cache));
  o += trf("span        {}, {} events\n", format_duration(st.duration_ns()), st.events);
  if (st.end_reason)
    o += trf("run end     {}{}{}\n", run_end_name(*st.end_reason),
             *st.end_reason == RunEndReason::GuestExit ? trf(" status {}", st.guest_status) : "",
             st.end_message.empty() ? "" : "  (" + escape_terminal(st.end_message) + ")");
}

void print_kinds(std::string& o, const TraceStats& st) {
  o += tr("\nevents by kind\n");
  if (st.events == 0) o += tr("  none\n");
  for (int k = 0; k < event_kind_count(); ++k)
    if (uint64_t n = st.by_kind[static_cast<size_t>(k)])
      o += fmt::format("  {:<12} {:>10}  {:>6}\n", kind_name(static_cast<EventKind>(k)), n, percent(n, st.events));
}

void print_exits(std::string& o, const TraceStats& st) {
  o += trf("\nexits by reason ({} recorded; vmm = returned to user space, kernel = handled inside KVM)\n", st.vm_exits);
  if (st.exits.empty()) {
    o += tr("  none\n");
    return;
  }
  o += fmt::format("  {:<26} {:>8} {:>7} {:>8} {:>8} {:>11} {:>10} {:>10} {:>10}\n", tr("reason"), tr("count"),
                   tr("share"), "vmm", "kernel", tr("total"), tr("mean"), tr("min"), tr("max"));
  for (const ExitReasonStats& r : st.exits) {
    const DurationStats& d = r.duration;
    bool timed = d.count > 0;
    o += fmt::format("  {:<26} {:>8} {:>7} {:>8} {:>8} {:>11} {:>10} {:>10} {:>10}\n",
                     fmt::format("{} ({})", exit_reason_name(r.reason), r.reason), r.count,
                     percent(r.count, st.vm_exits), r.vmm, r.kernel, timed ? format_duration(d.total_ns) : "-",
                     timed ? format_duration(d.mean_ns()) : "-", timed ? format_duration(d.min_ns) : "-",
                     timed ? format_duration(d.max_ns) : "-");
  }
  const DurationStats& d = st.exit_duration;
  o += fmt::format("  {:<26} {:>8} {:>7} {:>8} {:>8} {:>11} {:>10} {:>10} {:>10}\n", tr("all"), st.vm_exits, "100%",
                   st.exits_vmm, st.exits_kernel, d.count ? format_duration(d.total_ns) : "-",
                   d.count ? format_duration(d.mean_ns()) : "-", d.count ? format_duration(d.min_ns) : "-",
                   d.count ? format_duration(d.max_ns) : "-");
  if (st.duration_ns() && d.total_ns)
    o += trf("  time between exit and re-entry: {} of the run's {}\n", percent(d.total_ns, st.duration_ns()),
             format_duration(st.duration_ns()));
}

void print_kvm_stats(std::string& o, const TraceStats& st) {
  if (st.kvm_stats.empty()) return;
  o += tr("\nKVM per-vCPU stats over the run (source kvm-stats)\n");
  for (auto& [name, value] : st.kvm_stats) o += fmt::format("  {:<26} {:>12}\n", escape_terminal(name), value);
  if (auto it = st.kvm_stats.find("exits"); it != st.kvm_stats.end())
    o += trf("  of KVM's {} exits, {} reached the VMM and {} were handled inside the kernel\n", it->second,
             st.exits_vmm, st.kernel_only_exits);
}

void print_traps(std::string& o, const TraceStats& st) {
  o += trf("\ntraps ({}) by vector\n", st.trap_count);
  if (st.traps.empty()) o += tr("  none\n");
  for (const TrapStats& t : st.traps)
    o += trf("  {:<30} {:>8}  ring transitions {:>8}\n", trap_label(t), t.count, t.ring_transitions);
  o += trf("ring transitions: {} ({} into a more privileged ring, {} back out)\n", st.ring_transitions, st.to_kernel,
           st.to_user);
  o += trf("hypercalls: {}   console output: {} bytes\n", st.hypercalls, st.output_bytes);
}

std::string switch_label(const BtSwitchCause& c) {
  std::string cause;
  switch (c.cause) {
    case TrapCause::Exception: {
      std::string_view n = exception_name(c.vector);
      cause = n.empty() ? fmt::format("exception {}", c.vector) : std::string(n);
      break;
    }
    case TrapCause::Interrupt:
    case TrapCause::SoftInt: cause = fmt::format("{} 0x{:x}", cause_name(c.cause), c.vector); break;
    case TrapCause::None: cause = "start"; break;
    default: cause = std::string(cause_name(c.cause)); break;
  }
  return fmt::format("{} -> {}", cause, world_name(c.to));
}

// The bt mode's counters, laid out like VirtualBox's statistics: the
// translation cache, where the time went, world switches, callouts per
// instruction and the hottest callout sites.
void print_bt(std::string& o, const TraceStats& st) {
  const BtStats& b = st.bt;
  if (!b.any()) return;
  o += tr("\nbinary translation\n");
  o +=
      trf("  translation cache  {} blocks, {} bytes of guest kernel code, {} instructions; {} blocks hold "
          "callouts ({} sensitive or privileged instructions found); translating took {}\n",
          b.blocks, b.block_bytes, b.block_instructions, b.blocks_with_callouts, b.sensitive_found,
          format_duration(b.translate_ns));
  const uint64_t worlds = b.direct_ns + b.translated_ns;
  o += trf("  time               direct execution {} ({}), translator {} ({}); in the monitor {}\n",
           format_duration(b.direct_ns), percent(b.direct_ns, worlds), format_duration(b.translated_ns),
           percent(b.translated_ns, worlds), format_duration(b.monitor_ns));
  o += trf("  world switches     {} ({} into the translator, {} back to direct execution), {} in the monitor\n",
           b.world_switches, b.to_translated, b.to_direct, format_duration(b.switch_ns));
  for (const BtSwitchCause& c : b.causes)
    o += fmt::format("    {:<32} {:>10}  {:>6}\n", switch_label(c), c.count, percent(c.count, b.world_switches));
  // A backend that does not time its callouts records no duration: say "-",
  // not "0 ns", so nobody reads them as free.
  const bool timed = b.callout_ns != 0;
  auto monitor_time = [timed](uint64_t ns) { return timed ? format_duration(ns) : std::string("-"); };
  o += trf("  callouts           {} at {} sites, {} in the monitor\n", b.callouts, b.callout_sites,
           monitor_time(b.callout_ns));
  if (b.callouts) {
    o += fmt::format("    {:<12} {:>10} {:>7} {:>11} {:>10}\n", tr("instruction"), tr("count"), tr("share"),
                     tr("total"), tr("mean"));
    std::vector<int> order;
    for (int i = 1; i < kBtInsnCount; ++i)
      if (b.callouts_by_insn[static_cast<size_t>(i)]) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
      return b.callouts_by_insn[static_cast<size_t>(x)] > b.callouts_by_insn[static_cast<size_t>(y)];
    });
    for (int i : order) {
      const uint64_t n = b.callouts_by_insn[static_cast<size_t>(i)], ns = b.callout_ns_by_insn[static_cast<size_t>(i)];
      o += fmt::format("    {:<12} {:>10} {:>7} {:>11} {:>10}\n", bt_insn_name(static_cast<BtInsn>(i)), n,
                       percent(n, b.callouts), monitor_time(ns), monitor_time(ns / n));
    }
    o += tr("  hottest callout sites\n");
    o += fmt::format("    {:<20} {:<12} {:>10} {:>7} {:>11}\n", "rip", tr("instruction"), tr("count"), tr("share"),
                     tr("total"));
    for (const BtCalloutSite& site : b.hottest)
      o +=
          fmt::format("    {:<20} {:<12} {:>10} {:>7} {:>11}\n", fmt::format("0x{:x}", site.rip),
                      bt_insn_name(site.insn), site.count, percent(site.count, b.callouts), monitor_time(site.time_ns));
    if (b.callouts_unplaced)
      o += trf("    ({} callouts at sites past the first {} were counted but not placed)\n", b.callouts_unplaced,
               kMaxBtSites);
  }
}

// One row per vCPU lane (several vCPUs only): what each did, and its time.
void print_vcpus(std::string& o, const TraceStats& st) {
  if (st.vcpus.size() < 2) return;
  o += tr("\nper vCPU (each lane of the trace)\n");
  o += fmt::format("  {:<6} {:>8} {:>9} {:>8} {:>10} {:>7} {:>10} {:>6} {:>6} {:>12} {:>10} {:>10}\n", tr("vcpu"),
                   tr("events"), "vm_exits", tr("to VMM"), tr("exit time"), tr("traps"), tr("interrupts"),
                   tr("IPIs out"), tr("IPIs in"), tr("instructions"), tr("span"), tr("host CPU"));
  for (const VcpuStats& v : st.vcpus)
    o += fmt::format("  {:<6} {:>8} {:>9} {:>8} {:>10} {:>7} {:>10} {:>6} {:>6} {:>12} {:>10} {:>10}\n",
                     fmt::format("vcpu{}", v.vcpu), v.events, v.vm_exits, v.exits_vmm, format_duration(v.exit_time_ns),
                     v.traps, v.interrupts, v.ipis_sent, v.ipis_taken,
                     v.instructions ? fmt::format("{}", v.instructions) : "-", format_duration(v.span_ns()),
                     v.thread_cpu_ns ? format_duration(v.thread_cpu_ns) : "-");
  uint64_t taken = 0, latency = 0;
  for (const VcpuStats& v : st.vcpus) taken += v.ipis_taken, latency += v.ipi_latency_ns;
  if (taken)
    o += trf("  IPIs: {} delivered, {} on average from the sender's ICR write to the target taking it\n", taken,
             format_duration(latency / taken));
  if (st.vcpu_events_dropped)
    o += trf("  ({} events of vCPUs past the first {} were not counted per vCPU)\n", st.vcpu_events_dropped,
             kMaxStatVcpus);
}

void print_phases(std::string& o, const TraceStats& st) {
  if (st.phases.empty()) return;
  o += tr("\nphases (marker begin .. end)\n");
  o += fmt::format("  {:<28} {:>10} {:>9} {:>10} {:>7} {:>6}  {}\n", tr("label"), tr("duration"), "vm_exits",
                   tr("exit time"), tr("traps"), tr("rings"), tr("exits by reason"));
  for (const PhaseStats& p : st.phases) {
    std::string reasons;
    for (auto& [reason, n] : p.exits_by_reason)
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", exit_reason_name(reason), n);
    std::string label = escape_terminal(p.label) + (p.closed ? "" : " (no end)");
    if (st.header.vcpus > 1) label += fmt::format(" [vcpu{}]", p.vcpu);
    o += fmt::format("  {:<28} {:>10} {:>9} {:>10} {:>7} {:>6}  {}\n", label, format_duration(p.duration_ns()),
                     p.vm_exits, format_duration(p.exit_time_ns), p.traps, p.ring_transitions,
                     reasons.empty() ? "-" : reasons);
  }
  if (st.unmatched_end_markers) o += trf("  ({} end markers had no matching begin)\n", st.unmatched_end_markers);
  if (st.phases_dropped)
    o += trf("  ({} more phases were not listed: at most {} are kept, {} open at once)\n", st.phases_dropped,
             kMaxPhases, kMaxOpenPhases);
}

std::string mib(uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

// The host's view (host counters, host_stats.h): each vCPU thread's CPU time
// and run delay between its first and last sample, and as a share of that
// wall time (a thread that kept one host CPU busy is 100%).
void print_host(std::string& o, const HostStats& h) {
  if (!h.any()) return;
  o +=
      tr("\nthe VM as the host sees it (host.* counters; share = of the wall time between the first and last "
         "sample)\n");
  o += fmt::format("  {:<8} {:>12} {:>7} {:>12} {:>7}\n", tr("thread"), tr("CPU time"), tr("share"), tr("run delay"),
                   tr("share"));
  for (size_t v = 0; v < h.vcpus.size(); v++) {
    const HostVcpuStats& t = h.vcpus[v];
    if (!t.cpu.seen) continue;
    o += fmt::format("  {:<8} {:>12} {:>6.1f}% {:>12} {:>6.1f}%\n", fmt::format("vcpu{}", v),
                     format_duration(t.cpu.delta()), 100.0 * t.cpu.rate(), format_duration(t.run_delay.delta()),
                     100.0 * t.run_delay.rate());
  }
  if (h.rss.seen) o += trf("  VMM resident set: {} at the end, at most {}\n", mib(h.rss.last), mib(h.rss.max));
  if (h.ram_resident.seen)
    o += trf("  guest RAM the host allocated: {} at the start, {} at the end\n", mib(h.ram_resident.first),
             mib(h.ram_resident.last));
  if (h.disk_cached.seen)
    o += trf("  disk image in the host page cache: {} at the end, at most {}\n", mib(h.disk_cached.last),
             mib(h.disk_cached.max));
}

void run_stats(const StatsOptions& opt, CliContext& ctx) {
  // Streamed: StatsBuilder keeps counts and per-phase aggregates, never the
  // events, so memory does not grow with the trace.
  StatsBuilder builder;
  HostStats host;
  TraceRead read;
  if (!stream_trace_or_report(
          "stats", opt.file, ctx,
          [&](const Event& e) {
            builder.add(e);
            host.add(e);
            return true;
          },
          read))
    return;
  TraceStats st = builder.finish(read.header, read.summary.complete, read.summary.warning);
  report_read_warning("stats", opt.file, read.summary);
  std::string o;
  if (opt.json) {
    o = stats_to_json(st);
    if (host.any()) {  // the host counters' figures (host_stats.h) as one more key
      o.pop_back();    // the object's closing brace
      o += ",\"host\":" + host_stats_json(host) + "}";
    }
    o += "\n";
  } else {
    print_header(o, st, opt.file);
    print_kinds(o, st);
    print_exits(o, st);
    print_kvm_stats(o, st);
    print_traps(o, st);
    print_bt(o, st);
    print_host(o, host);
    print_vcpus(o, st);
    print_phases(o, st);
  }
  std::fwrite(o.data(), 1, o.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void add_stats_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand("stats",
                                     "Summarise a trace: exits by reason and cost, traps, ring transitions, "
                                     "exits per phase");
  cmd->add_option("file", o->file, "the .rtrace file")->required();
  cmd->add_flag("--json", o->json, "one JSON object instead of tables");
  cmd->footer(
      "Examples:\n"
      "  ringscope stats syscalls.rtrace\n"
      "  ringscope stats syscalls.rtrace --json | jq '.phases[] | {label, vm_exits}'\n"
      "Phases are the spans between a workload's `begin` and `end` markers with the same label.");
  cmd->callback([o, &ctx] { run_stats(*o, ctx); });
}

}  // namespace ringscope::cli
