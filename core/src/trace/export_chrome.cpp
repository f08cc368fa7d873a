// export_chrome.cpp — Chrome Trace Event Format JSON (the format
// chrome://tracing and Perfetto's legacy importer read).
//
// One process (the run), one thread per vCPU. A vm_exit is a complete
// event ("X") lasting duration_ns; counters are "C" events; everything else
// is a thread-scoped instant. A flow arrow ("s" -> "f") links a guest access
// to the device event it caused. Events are streamed one line each, so a
// large trace does not need a JSON document in memory.
#include <string>

#include "export_internal.h"
#include "fmt/format.h"
#include "json_internal.h"

namespace ringscope::trace {
namespace {

// Microseconds with the nanoseconds kept exactly: "1234.567".
std::string micros(uint64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

std::string json_quote(const std::string& s) { return dump(Json(s)); }

class ChromeWriter {
 public:
  explicit ChromeWriter(FILE* f) : f_(f) { std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_); }

  void line(const std::string& json) {
    if (!first_) std::fputs(",\n", f_);
    first_ = false;
    std::fputs(json.c_str(), f_);
  }

  void finish(const std::string& metadata) { fmt::print(f_, "\n],\"metadata\":{}}}\n", metadata); }

 private:
  FILE* f_;
  bool first_ = true;
};

}  // namespace

Status export_chrome_json(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                          uint64_t& written) {
  TRY_ASSIGN(ExportPlan plan, plan_export(pass));
  if (plan.events > kMaxChromeJsonEvents)
    return make_error(ErrorKind::Usage,
                      fmt::format("the trace has {} events, too many for Chrome JSON (at most {}: JSON viewers "
                                  "run out of memory); export with `--format perfetto` instead",
                                  plan.events, kMaxChromeJsonEvents));
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  ChromeWriter w(file.get());

  w.line(fmt::format(R"({{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{{"name":{}}}}})",
                     json_quote(process_title(header))));
  for (uint32_t v : plan.vcpus) {
    w.line(fmt::format(R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"vCPU {}"}}}})",
                       uint64_t{v} + 1, v));
  }

  FlowTracker flows;
  ReadSummary summary;
  TRY(pass(
      [&](const Event& e) {
        const std::string ts = micros(e.time_ns);
        const uint64_t tid = uint64_t{e.vcpu} + 1;
        const auto before = flows.step(e);
        if (e.kind == EventKind::Counter) {
          std::string series = std::string(e.name.empty() ? "counter" : e.name);
          if (plan.many_vcpus()) series += fmt::format(" (vCPU {})", e.vcpu);
          w.line(fmt::format(R"({{"name":{},"cat":"counter","ph":"C","ts":{},"pid":1,"args":{{"value":{}}}}})",
                             json_quote(series), ts, e.value));
          ++written;
          return true;
        }
        // The arrow starts at the exit (its ts, inside its slice) and ends at
        // this device event; it is written when the pair is complete.
        const bool flow = before && FlowTracker::pairs(*before, e);
        const uint64_t id = flow ? FlowTracker::flow_id(before->seq) : 0;
        if (flow)
          w.line(fmt::format(R"({{"name":"access","cat":"flow","ph":"s","id":{},"ts":{},"pid":1,"tid":{}}})", id,
                             micros(before->time_ns), tid));
        const std::string name = json_quote(event_title(e));
        const std::string cat = json_quote(std::string(kind_name(e.kind)));
        const std::string args = dump(event_json(e));
        if (is_slice(e)) {
          w.line(fmt::format(R"({{"name":{},"cat":{},"ph":"X","ts":{},"dur":{},"pid":1,"tid":{},"args":{}}})", name,
                             cat, ts, micros(e.duration_ns), tid, args));
        } else {
          w.line(fmt::format(R"({{"name":{},"cat":{},"ph":"i","s":"t","ts":{},"pid":1,"tid":{},"args":{}}})", name, cat,
                             ts, tid, args));
        }
        if (flow)
          w.line(fmt::format(R"({{"name":"access","cat":"flow","ph":"f","bp":"e","id":{},"ts":{},"pid":1,"tid":{}}})",
                             id, ts, tid));
        ++written;
        return std::ferror(file.get()) == 0;
      },
      summary));
  Json meta = Json::parse(header_to_json(header));
  meta["complete"] = summary.complete;
  if (!summary.warning.empty()) meta["warning"] = summary.warning;
  w.finish(dump(meta));
  return finish_output(std::move(file), out_path);
}

}  // namespace ringscope::trace
