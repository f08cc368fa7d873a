// cmd_export.cpp — `ringscope export FILE --format chrome|perfetto -o OUT`:
// hand a trace to the tools people already use (Perfetto UI,
// chrome://tracing). The encoding lives in core (export_trace); this verb
// only reads, picks the format and reports.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>

#include "commands.h"
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
                                                                {"perfetto", ExportFormat::PerfettoProto}};

void run_export(const ExportOptions& o, CliContext& ctx) {
  // Checked here rather than by CLI11 so the message reads as a sentence.
  auto format = kFormats.find(o.format);
  if (format == kFormats.end()) {
    ctx.exit_code = report_error(
        "export", make_error(ErrorKind::Usage, fmt::format("unknown format '{}'; use --format chrome (Trace Event "
                                                           "Format JSON) or --format perfetto (protobuf).",
                                                           o.format)));
    return;
  }
  std::optional<Trace> trace = load_trace_or_report("export", o.file, ctx);
  if (!trace) return;
  // "-" is the usual spelling for stdout; the exporter takes a path.
  std::string out = o.out == "-" ? std::string("/dev/stdout") : o.out;
  Status s = export_trace(*trace, format->second, out);
  if (!s.ok()) {
    ctx.exit_code = report_error("export", s.error());
    return;
  }
  if (o.out != "-")
    std::fprintf(stderr, "ringscope export: wrote %zu events to %s; open it at https://ui.perfetto.dev\n",
                 trace->events.size(), o.out.c_str());
}

}  // namespace

void add_export_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Convert a trace for Perfetto or chrome://tracing");
  cmd->add_option("file", o->file, "the .rtrace file")->required();
  cmd->add_option("--format", o->format, "chrome (Trace Event Format JSON) or perfetto (protobuf); default chrome");
  cmd->add_option("-o,--output", o->out, "the file to write ('-' for stdout)")->required();
  cmd->footer(
      "Examples:\n"
      "  ringscope export syscalls.rtrace --format chrome -o syscalls.json\n"
      "  ringscope export syscalls.rtrace --format perfetto -o syscalls.perfetto-trace\n"
      "Then open the output at https://ui.perfetto.dev (or chrome://tracing for the JSON form).");
  cmd->callback([o, &ctx] { run_export(*o, ctx); });
}

}  // namespace ringscope::cli
