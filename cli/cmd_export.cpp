// cmd_export.cpp — `ringscope export FILE --format chrome|perfetto -o OUT`:
// hand a trace to the tools people already use (Perfetto UI,
// chrome://tracing). The encoding lives in core (export_trace); this verb
// only reads, picks the format and reports.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>

#include "commands.h"
#include "ringscope/i18n.h"
#include "ringscope/terminal_text.h"
#include "trace_input.h"

namespace ringscope::cli {

namespace {

struct ExportOptions {
  std::string file;
  std::string format = "chrome";
  std::string out;
};

// The names a user types, and what they mean.
const std::map<std::string, ExportFormat, std::less<>> kFormats{{"chrome", ExportFormat::ChromeJson},
                                                                {"perfetto", ExportFormat::PerfettoProto},
                                                                {"jsonl", ExportFormat::JsonLines}};

void run_export(const ExportOptions& o, CliContext& ctx) {
  // Checked here rather than by CLI11 so the message reads as a sentence.
  auto format = kFormats.find(o.format);
  if (format == kFormats.end()) {
    ctx.exit_code = report_error(
        "export", make_error(ErrorKind::Usage, trf("unknown format '{}'; use --format chrome (Trace Event "
                                                   "Format JSON), --format perfetto (protobuf) or --format "
                                                   "jsonl (JSON Lines).",
                                                   escape_terminal(o.format))));
    return;
  }
  if (!check_trace_path("export", o.file, ctx)) return;
  // Streamed from the file (read twice, never held whole); "-" is stdout.
  auto done = export_trace_file(o.file, format->second, o.out);
  if (!done.ok()) {
    ctx.exit_code = report_error("export", trace_error_with_hint(done.error(), o.file));
    return;
  }
  ReadSummary summary;
  summary.events = done->events;
  summary.complete = done->complete;
  summary.warning = done->warning;
  report_read_warning("export", o.file, summary);
  if (o.out != "-")
    trprint(stderr, "ringscope export: wrote {} events to {}; open it at https://ui.perfetto.dev\n", done->events,
            escape_terminal(o.out));
}

}  // namespace

void add_export_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Convert a trace for Perfetto or chrome://tracing");
  cmd->add_option("file", o->file, "the .rtrace file")->required();
  cmd->add_option("--format", o->format,
                  "chrome (Trace Event Format JSON), perfetto (protobuf) or jsonl (JSON Lines, as show --json); "
                  "default chrome");
  cmd->add_option("-o,--output", o->out, "the file to write ('-' for stdout)")->required();
  cmd->footer(
      "Examples:\n"
      "  ringscope export syscalls.rtrace --format chrome -o syscalls.json\n"
      "  ringscope export syscalls.rtrace --format perfetto -o syscalls.perfetto-trace\n"
      "  ringscope export syscalls.rtrace --format jsonl -o - | jq -c 'select(.kind == \"marker\")'\n"
      "Then open the output at https://ui.perfetto.dev (or chrome://tracing for the JSON form).");
  cmd->callback([o, &ctx] { run_export(*o, ctx); });
}

}  // namespace ringscope::cli
