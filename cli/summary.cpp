// summary.cpp — human-readable accounts of finished runs.
#include "summary.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace.h"
#include "ringscope/trace_stats.h"

namespace ringscope::cli {

namespace {
// The run's figures, streamed back from its trace: StatsBuilder keeps
// counts, never the events, so the summary of a run of any length costs a
// few megabytes.
std::optional<TraceStats> stats_of(const SessionOutcome& o) {
  StatsBuilder builder;
  TraceHeader header;
  ReadSummary summary;
  Status s = for_each_event(
      o.trace_path.string(), ReadOptions{},
      [&](const Event& e) {
        builder.add(e);
        return true;
      },
      &header, &summary);
  if (!s.ok()) return std::nullopt;
  return builder.finish(header, summary.complete, summary.warning);
}
}  // namespace

void print_run_summary(std::FILE* out, const SessionOutcome& o) {
  const RunResult& r = o.result;
  std::string verdict;
  if (r.end == RunEndReason::GuestExit)
    verdict = o.status_as_expected ? trf("guest exited with status {}", r.guest_status)
                                   : trf("guest exited with status {} ({} {})", r.guest_status,
                                         o.scenario ? "scenario expects" : "success is", o.expected_status);
  else
    verdict = trf("run ended: {} — {}", run_end_name(r.end), escape_terminal(r.message));
  const std::optional<TraceStats> st = stats_of(o);
  // Under emulation no exit happens: every instruction runs in software,
  // and the exits listed below are the ones the VT-x model predicts.
  const bool emulated = st && st->header.mode == "emulation";
  if (emulated)
    trprint(out, "\nringscope: {} after {:.1f} ms; no VM exits (emulation: the exits below are the VT-x model's)",
            verdict, r.running_ns() / 1e6);
  else
    trprint(out, "\nringscope: {} after {:.1f} ms; {} VM exits reached the VMM", verdict, r.running_ns() / 1e6,
            r.exits);
  if (r.steps) fmt::print(out, ", {} instructions {}", r.steps, emulated ? "executed" : "single-stepped");
  fmt::print(out, "\n");
  // Time a QMP client held the guest is not the guest's: the time above leaves it out.
  if (r.paused_ns)
    trprint(out, "ringscope: paused {:.1f} ms more under QMP (stop, steps, breakpoints), not counted above\n",
            r.paused_ns / 1e6);
  if (!r.ok() && !std::string(run_end_explanation(r.end)).empty())
    fmt::print(out, "ringscope: {}\n", tr(run_end_explanation(r.end)));
  if (r.regs && !r.ok())
    trprint(out, "ringscope: rip {:#x} rsp {:#x} cr0 {:#x} cr3 {:#x} cpl {}\n", r.regs->rip, r.regs->rsp, r.regs->cr0,
            r.regs->cr3, r.regs->cpl);
  if (st) {
    for (const auto& e : st->exits)
      if (e.count) fmt::print(out, "  {:>8}  exit {:>2} {}\n", e.count, e.reason, exit_reason_name(e.reason));
    if (st->kernel_only_exits)
      trprint(out, "  {:>8}  exits KVM handled in the kernel (never reached the VMM)\n", st->kernel_only_exits);
    if (st->ring_transitions) trprint(out, "  {:>8}  ring transitions\n", st->ring_transitions);
  }
  if (o.irqchip == IrqChip::Kernel)
    trprint(out,
            "ringscope: interrupts through KVM's in-kernel irqchip: its PIC and PIT ports, EOIs and hlt "
            "never reached the VMM; devices raised their IRQs through irqfds\n");
  if (!o.irqchip_note.empty()) trprint(out, "ringscope: note: {}\n", o.irqchip_note);
  if (o.io == IoPath::Offload && r.note.empty())
    trprint(out,
            "ringscope: offloaded I/O: virtio doorbells went to KVM (KVM_IOEVENTFD) and were served by the device "
            "thread, never by the vCPU's thread\n");
  if (!r.note.empty()) trprint(out, "ringscope: note: {}\n", r.note);
  if (!o.vcpu_note.empty()) trprint(out, "ringscope: note: {}\n", o.vcpu_note);
  if (o.expected_output && o.console != *o.expected_output)
    trprint(out, "ringscope: warning: the console output differs from the scenario's expected output\n");
  const std::string trace = escape_terminal(o.trace_path.string());
  trprint(out, "ringscope: trace {} ({} events, {:.1f} KiB) — try `ringscope show {}` or `ringscope stats {}`\n", trace,
          o.events, o.trace_bytes / 1024.0, trace, trace);
}

void print_side_by_side(std::FILE* out, const std::vector<SessionOutcome>& runs, bool modelled) {
  std::vector<std::map<uint16_t, uint64_t>> counts;
  std::vector<uint64_t> kernel, transitions, steps;
  std::set<uint16_t> reasons;
  for (const auto& o : runs) {
    std::map<uint16_t, uint64_t> c;
    uint64_t k = 0, t = 0;
    if (auto st = stats_of(o)) {
      for (const auto& e : st->exits) {
        c[e.reason] = e.count;
        reasons.insert(e.reason);
      }
      k = st->kernel_only_exits;
      t = st->ring_transitions;
    }
    counts.push_back(std::move(c));
    kernel.push_back(k);
    transitions.push_back(t);
    steps.push_back(o.result.steps);
  }
  fmt::print(out, "{:<34}", modelled ? "VM exits by reason (VT-x model)" : "VM exits by reason");
  for (const auto& o : runs) fmt::print(out, "{:>14}", escape_terminal(o.name));
  fmt::print(out, "\n");
  for (uint16_t r : reasons) {
    fmt::print(out, "{:<34}", fmt::format("{:>2} {}", r, exit_reason_name(r)));
    for (const auto& c : counts) fmt::print(out, "{:>14}", c.count(r) ? c.at(r) : 0);
    fmt::print(out, "\n");
  }
  if (!modelled) {
    fmt::print(out, "{:<34}", "   handled inside KVM (stats fd)");
    for (uint64_t k : kernel) fmt::print(out, "{:>14}", k);
    fmt::print(out, "\n");
  }
  fmt::print(out, "{:<34}", "ring transitions (traps, iretq)");
  for (uint64_t t : transitions) fmt::print(out, "{:>14}", t);
  fmt::print(out, "\n{:<34}", modelled ? "instructions executed" : "instructions single-stepped");
  for (uint64_t s : steps) fmt::print(out, "{:>14}", s);
  fmt::print(out, "\n{:<34}", "wall time (ms)");
  for (const auto& o : runs) fmt::print(out, "{:>14.1f}", o.result.wall_ns / 1e6);
  fmt::print(out, "\n{:<34}", "console bytes");
  for (const auto& o : runs) fmt::print(out, "{:>14}", o.console.size());
  fmt::print(out, "\n");
}

}  // namespace ringscope::cli
