// cmd_show.cpp — `ringscope show FILE`: the events of a trace, one per line.
//
// The default form is for people (summary text from explain.h, which the
// viewer's event list also uses); --json gives JSON Lines from
// event_to_json, the same keys the lab checkers read. Filters combine with
// AND; --kind may be repeated or comma-separated and combines with OR.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ringscope/bt_insns.h"
#include "ringscope/event_filter.h"
#include "ringscope/event_schema.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/i18n.h"
#include "ringscope/terminal_text.h"
#include "trace_input.h"

namespace ringscope::cli {

namespace {

struct ShowOptions {
  std::string file;
  std::vector<std::string> kinds;
  std::string source;
  int64_t vcpu = -1;
  int cpl = -1;
  std::string reason;
  std::string instruction;
  std::string via;
  std::string grep;
  uint64_t from = 0;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  uint64_t limit = 0;
  bool json = false;
  bool explain = false;
};

// The options turned into the one event filter (ringscope/event_filter.h,
// the same meaning of every key as the viewer's list and the lab checker)
// and the text to look for.
struct Filter {
  EventFilter events;
  std::string grep;  // lower case
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A list of valid names for an error message: "vm_exit, trap, ...".
template <typename Enum>
std::string names_of(int count, std::string_view (*name)(Enum)) {
  std::string s;
  for (int i = 0; i < count; ++i) s += (i ? ", " : "") + std::string(name(static_cast<Enum>(i)));
  return s;
}

Result<Filter> make_filter(const ShowOptions& o) {
  Filter f;
  for (const std::string& k : o.kinds) {
    auto kind = kind_from_name(k);
    if (!kind)
      return make_error(ErrorKind::Usage, trf("unknown event kind '{}'; the kinds are: {}.", k,
                                              names_of<EventKind>(event_kind_count(), kind_name)));
    f.events.add_kind(*kind);
  }
  if (!o.source.empty()) {
    f.events.source = source_from_name(o.source);
    if (!f.events.source)
      return make_error(ErrorKind::Usage, trf("unknown source '{}'; the sources are: {}.", o.source,
                                              names_of<Source>(kSourceCount, source_name)));
  }
  if (!o.reason.empty()) {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(o.reason.data(), o.reason.data() + o.reason.size(), number);
    if (ec == std::errc() && end == o.reason.data() + o.reason.size() && number <= 0xffff) {
      f.events.reason = static_cast<uint16_t>(number);
    } else if (auto r = exit_reason_from_name(o.reason)) {
      f.events.reason = *r;
    } else {
      std::string known;
      for (const ExitReasonInfo& info : exit_reasons()) known += (known.empty() ? "" : ", ") + std::string(info.name);
      return make_error(ErrorKind::Usage, trf("unknown exit reason '{}'; give a VT-x reason number or one of: "
                                              "{}.",
                                              o.reason, known));
    }
  }
  if (o.vcpu >= 0) {
    if (o.vcpu > std::numeric_limits<uint32_t>::max())
      return make_error(ErrorKind::Usage, fmt::format("--vcpu {} is not a vCPU number", o.vcpu));
    f.events.vcpu = static_cast<uint32_t>(o.vcpu);
  }
  if (o.cpl >= 0) f.events.cpl = static_cast<uint8_t>(o.cpl);  // CLI11 checked 0..3
  if (!o.instruction.empty()) {
    f.events.insn = bt_insn_from_name(o.instruction);
    if (!f.events.insn)
      return make_error(ErrorKind::Usage, trf("unknown instruction '{}'; the instructions are: {}.", o.instruction,
                                              bt_insn_mask_names(~uint64_t{0})));
  }
  if (!o.via.empty()) {
    f.events.via = irq_via_from_name(o.via);
    if (!f.events.via)
      return make_error(ErrorKind::Usage,
                        trf("unknown interrupt path '{}'; the paths are: KVM_INTERRUPT, irqfd, ipi.", o.via));
  }
  f.grep = lower(o.grep);
  return f;
}

// Everything except --grep, which needs the rendered text.
bool matches(const Event& e, const ShowOptions& o, const Filter& f) {
  if (e.seq < o.from || e.seq > o.to) return false;
  return f.events.matches(e);
}

std::string human_line(const Event& e, uint64_t t0) {
  double ms = static_cast<double>(e.time_ns >= t0 ? e.time_ns - t0 : 0) / 1e6;
  return fmt::format("#{:<6} {:>13}  vcpu{}  {:<11}  {}", e.seq, fmt::format("+{:.3f} ms", ms), e.vcpu,
                     kind_name(e.kind), summarize_event(e));
}

// event_to_json's object with an "explanation" key added at the end.
std::string json_line(const Event& e, bool explain) {
  std::string line = event_to_json(e);
  if (explain && !line.empty() && line.back() == '}') {
    line.pop_back();
    line += ",\"explanation\":" +
            nlohmann::json(explain_event(e)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}";
  }
  return line;
}

void run_show(const ShowOptions& o, CliContext& ctx) {
  Result<Filter> filter = make_filter(o);
  if (!filter.ok()) {
    ctx.exit_code = report_error("show", filter.error());
    return;
  }
  if (o.from > o.to) {
    ctx.exit_code = report_error("show", make_error(ErrorKind::Usage, trf("--from {} is after --to {}; nothing "
                                                                          "to show.",
                                                                          o.from, o.to)));
    return;
  }
  // Streamed: each event is printed (or skipped) as it is read; nothing is
  // kept but the counts.
  uint64_t t0 = 0;
  bool first = true;
  uint64_t shown = 0, total = 0;
  bool limited = false;
  std::string out;
  TraceRead read;
  const bool ok = stream_trace_or_report(
      "show", o.file, ctx,
      [&](const Event& e) {
        ++total;
        if (first) {
          // Times are relative to the start of the run (the header's
          // monotonic start), or to the first event if the header has none.
          t0 = read.header.start_mono_ns;
          if (t0 == 0 || t0 > e.time_ns) t0 = e.time_ns;
          first = false;
        }
        // Past --limit or --to the rest is only counted (for the summary line).
        if (limited || !matches(e, o, *filter)) return true;
        std::string text = human_line(e, t0);
        std::string why = o.explain ? explain_event(e) : std::string();
        if (!filter->grep.empty() && lower(text).find(filter->grep) == std::string::npos &&
            lower(why).find(filter->grep) == std::string::npos)
          return true;
        if (o.limit && shown == o.limit) {
          limited = true;
          return true;
        }
        ++shown;
        if (o.json) {
          out = json_terminal_safe(json_line(e, o.explain));
        } else {
          // Guest-chosen strings (labels, output, device names from the file)
          // must not reach the terminal as escape sequences.
          out = escape_terminal(text);
          if (o.explain) out += "\n          " + escape_terminal(why);
        }
        out += '\n';
        std::fwrite(out.data(), 1, out.size(), stdout);
        return true;
      },
      read);
  std::fflush(stdout);
  if (!ok) return;
  report_read_warning("show", o.file, read.summary);
  trprint(stderr, "ringscope show: {} of {} events shown{}{}\n", shown, total,
          limited ? trf(" (stopped at --limit {})", o.limit) : std::string(),
          read.summary.complete ? "" : tr("; the trace is incomplete"));
}

}  // namespace

void add_show_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Print the events of a trace, one line each (or JSON Lines)");
  cmd->add_option("file", o->file, "the .rtrace file")->required();
  cmd->add_option("--kind", o->kinds, "only events of this kind (repeatable, or comma-separated): vm_exit, trap, ...")
      ->delimiter(',')
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--source", o->source, "only events observed this way: kvm-exit, kvm-stats, guest, vmm, ...");
  cmd->add_option("--vcpu", o->vcpu, "only events of this vCPU")->check(CLI::NonNegativeNumber);
  cmd->add_option("--cpl", o->cpl, "only events where the guest was at this CPL (traps: either side)")
      ->check(CLI::Range(0, 3));
  cmd->add_option("--reason", o->reason, "only VM exits with this reason (name like io_instruction, or number)");
  cmd->add_option("--instruction", o->instruction,
                  "bt mode: only callouts of this instruction and translated blocks that hold it (popf, out, ...)");
  cmd->add_option("--via", o->via,
                  "only irq_inject events delivered this way: KVM_INTERRUPT (the VMM's PIC model), irqfd (KVM's "
                  "in-kernel irqchip), ipi (another vCPU's local APIC)");
  cmd->add_option("--grep", o->grep, "only events whose text contains TEXT (case-insensitive)");
  cmd->add_option("--from", o->from, "first sequence number to show");
  cmd->add_option("--to", o->to, "last sequence number to show");
  cmd->add_option("--limit", o->limit, "show at most N events");
  cmd->add_flag("--json", o->json, "JSON Lines, one object per event (keys: docs/trace-format.md, \"JSON Lines\")");
  cmd->add_flag("--explain", o->explain, "add a plain-language explanation to each event");
  cmd->footer(
      "Examples:\n"
      "  ringscope show syscalls.rtrace --kind vm_exit --reason io_instruction --limit 20\n"
      "  ringscope show syscalls.rtrace --kind trap,trap_return --explain\n"
      "  ringscope show syscalls.rtrace --json | jq 'select(.kind == \"trap\")'\n"
      "  ringscope show syscalls.bt.rtrace --kind world_switch,bt_callout --explain\n"
      "The summary line goes to stderr; exit codes: 0 ok, 64 bad option, 65 unreadable trace, 66 no such file.");
  cmd->callback([o, &ctx] { run_show(*o, ctx); });
}

}  // namespace ringscope::cli
