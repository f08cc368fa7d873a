// export_chrome.cpp — Chrome Trace Event Format JSON (the format
// chrome://tracing and Perfetto's legacy importer read).
//
// One process (the run), one thread per vCPU. A vm_exit is a complete
// event ("X") lasting duration_ns; counters are "C" events; everything else
// is a thread-scoped instant. A flow arrow ("s" -> "f") links a guest access
// to the device event it caused. Events are streamed one line each, so a
// large trace does not need a JSON document in memory.
#include <string>
#include <unordered_map>

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

Status export_chrome_json(const Trace& trace, const std::string& out_path) {
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  ChromeWriter w(file.get());

  w.line(fmt::format(R"({{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{{"name":{}}}}})",
                     json_quote(process_title(trace.header))));
  const auto vcpus = vcpus_of(trace);
  for (uint32_t v : vcpus) {
    w.line(fmt::format(R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"vCPU {}"}}}})", v + 1,
                       v));
  }

  // flow id by event index; ids are the exit's seq + 1 (0 is not a good id).
  std::unordered_map<size_t, uint64_t> flow_out, flow_in;
  for (const FlowPair& p : find_flows(trace)) {
    const uint64_t id = trace.events[p.exit_index].seq + 1;
    flow_out.emplace(p.exit_index, id);
    flow_in.emplace(p.device_index, id);
  }

  for (size_t i = 0; i < trace.events.size(); ++i) {
    const Event& e = trace.events[i];
    const std::string ts = micros(e.time_ns);
    const uint32_t tid = e.vcpu + 1;
    const std::string name = json_quote(event_title(e));
    const std::string cat = json_quote(std::string(kind_name(e.kind)));
    const std::string args = dump(event_json(e));

    if (e.kind == EventKind::Counter) {
      std::string series = std::string(e.name.empty() ? "counter" : e.name);
      if (vcpus.size() > 1) series += fmt::format(" (vCPU {})", e.vcpu);
      w.line(fmt::format(R"({{"name":{},"cat":"counter","ph":"C","ts":{},"pid":1,"args":{{"value":{}}}}})",
                         json_quote(series), ts, e.value));
      continue;
    }
    if (e.kind == EventKind::VmExit) {
      w.line(fmt::format(R"({{"name":{},"cat":{},"ph":"X","ts":{},"dur":{},"pid":1,"tid":{},"args":{}}})", name, cat,
                         ts, micros(e.duration_ns), tid, args));
    } else {
      w.line(fmt::format(R"({{"name":{},"cat":{},"ph":"i","s":"t","ts":{},"pid":1,"tid":{},"args":{}}})", name, cat,
                         ts, tid, args));
    }
    if (auto it = flow_out.find(i); it != flow_out.end()) {
      w.line(fmt::format(R"({{"name":"access","cat":"flow","ph":"s","id":{},"ts":{},"pid":1,"tid":{}}})", it->second,
                         ts, tid));
    }
    if (auto it = flow_in.find(i); it != flow_in.end()) {
      w.line(fmt::format(R"({{"name":"access","cat":"flow","ph":"f","bp":"e","id":{},"ts":{},"pid":1,"tid":{}}})",
                         it->second, ts, tid));
    }
  }
  Json meta = Json::parse(header_to_json(trace.header));
  meta["complete"] = trace.complete;
  if (!trace.warning.empty()) meta["warning"] = trace.warning;
  w.finish(dump(meta));
  return finish_output(std::move(file), out_path);
}

}  // namespace ringscope::trace
