// export_chrome.cpp — Chrome Trace Event Format JSON (the format
// chrome://tracing and Perfetto's legacy importer read).
//
// One process (the run), one thread per vCPU. A vm_exit is a complete
// event ("X") lasting duration_ns; counters are "C" events; everything else
// is a thread-scoped instant. A flow arrow ("s" -> "f") links a guest access
// to the device event it caused. Below each vCPU, as threads of their own,
// the lesson's state tracks (StateTracker: ring, VMX root / non-root) and
// the rows of marker phases, their states and phases complete events ("X")
// written when they end. Events are streamed one line each, so a large
// trace does not need a JSON document in memory.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "export_internal.h"
#include "fmt/format.h"
#include "json_internal.h"
#include "ringscope/i18n.h"

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

// The threads below a vCPU's: 2^32 + 16 * vCPU + k (k 1 ring, 2 VMX, 3..
// phase rows), out of the way of the vCPU threads (tid vCPU + 1).
uint64_t sub_tid(uint32_t vcpu, unsigned k) { return (uint64_t{1} << 32) + 16 * uint64_t{vcpu} + k; }
uint64_t state_tid(uint32_t vcpu, StateTrack t) { return sub_tid(vcpu, t == StateTrack::Ring ? 1 : 2); }
uint64_t phase_tid(uint32_t vcpu, uint8_t row) { return sub_tid(vcpu, 3 + row); }
static_assert(3 + kMaxExportPhaseRows <= 16);

void name_thread(ChromeWriter& w, uint64_t tid, const std::string& name, uint64_t sort_index) {
  w.line(
      fmt::format(R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":{}}}}})", tid, json_quote(name)));
  w.line(fmt::format(R"({{"name":"thread_sort_index","ph":"M","pid":1,"tid":{},"args":{{"sort_index":{}}}}})", tid,
                     sort_index));
}

void complete(ChromeWriter& w, uint64_t tid, std::string_view name, std::string_view cat, uint64_t begin_ns,
              uint64_t end_ns) {
  w.line(fmt::format(R"({{"name":{},"cat":"{}","ph":"X","ts":{},"dur":{},"pid":1,"tid":{}}})",
                     json_quote(std::string(name)), cat, micros(begin_ns), micros(end_ns - begin_ns), tid));
}

// The state tracks: each state is written when it ends, from where it began.
class ChromeStates {
 public:
  explicit ChromeStates(ChromeWriter& w) : w_(w) {}
  void change(const StateChange& c) {
    const uint64_t tid = state_tid(c.vcpu, c.track);
    auto [it, fresh] = begun_.try_emplace(tid, 0);
    if (fresh)
      name_thread(w_, tid, fmt::format("vCPU {} {}", c.vcpu, c.track == StateTrack::Ring ? "ring (CPL)" : "VMX"),
                  16 * uint64_t{c.vcpu} + (c.track == StateTrack::Ring ? 1 : 2));
    if (!c.ended.empty()) complete(w_, tid, c.ended, "state", std::min(it->second, c.time_ns), c.time_ns);
    it->second = c.time_ns;
  }

 private:
  ChromeWriter& w_;
  std::map<uint64_t, uint64_t> begun_;  // state track -> when its current state began (bounded by StateTracker)
};

}  // namespace

Status export_chrome_json(const TraceHeader& header, const EventPass& pass, const std::string& out_path,
                          uint64_t& written) {
  TRY_ASSIGN(ExportPlan plan, plan_export(pass));
  if (plan.events > kMaxChromeJsonEvents)
    return make_error(ErrorKind::Usage,
                      trf("the trace has {} events, too many for Chrome JSON (at most {}: JSON viewers "
                          "run out of memory); export with `--format perfetto` instead",
                          plan.events, kMaxChromeJsonEvents));
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  ChromeWriter w(file.get());

  w.line(fmt::format(R"({{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{{"name":{}}}}})",
                     json_quote(process_title(header))));
  for (uint32_t v : plan.vcpus) name_thread(w, uint64_t{v} + 1, fmt::format("vCPU {}", v), 16 * uint64_t{v});
  std::set<std::pair<uint32_t, uint8_t>> phase_rows;
  std::unordered_multimap<uint64_t, size_t> phase_ends;  // end marker's seq -> phase
  for (size_t i = 0; i < plan.phases.size(); ++i) {
    if (plan.phase_row[i] == kNoPhaseRow) continue;
    const PhaseStats& p = plan.phases[i];
    if (phase_rows.emplace(p.vcpu, plan.phase_row[i]).second)
      name_thread(w, phase_tid(p.vcpu, plan.phase_row[i]),
                  fmt::format("vCPU {} phases{}", p.vcpu,
                              plan.phase_row[i] == 0 ? std::string() : fmt::format(" {}", plan.phase_row[i] + 1)),
                  16 * uint64_t{p.vcpu} + 3 + plan.phase_row[i]);
    if (p.closed) phase_ends.emplace(p.end_seq, i);
  }
  std::set<size_t> phases_written;
  auto write_phase = [&](size_t i) {
    const PhaseStats& p = plan.phases[i];
    if (phases_written.insert(i).second)
      complete(w, phase_tid(p.vcpu, plan.phase_row[i]), p.label, "phase", p.begin_ns, std::max(p.begin_ns, p.end_ns));
  };

  FlowTracker flows;
  StateTracker states(plan.has_exits);
  ChromeStates state_lines(w);
  const StateTracker::Emit state_change = [&](const StateChange& c) { state_lines.change(c); };
  ReadSummary summary;
  TRY(pass(
      [&](const Event& e) {
        const std::string ts = micros(e.time_ns);
        const uint64_t tid = uint64_t{e.vcpu} + 1;
        const auto before = flows.step(e);
        states.step(e, state_change);
        if (e.kind == EventKind::Marker) {
          const auto [first, last] = phase_ends.equal_range(e.seq);
          for (auto it = first; it != last; ++it)
            if (plan.phases[it->second].vcpu == e.vcpu) write_phase(it->second);
        }
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
  states.finish(plan.last_ns, state_change);
  for (size_t i = 0; i < plan.phases.size(); ++i)
    if (plan.phase_row[i] != kNoPhaseRow && !plan.phases[i].closed) write_phase(i);
  Json meta = Json::parse(header_to_json(header));
  meta["complete"] = summary.complete;
  if (!summary.warning.empty()) meta["warning"] = summary.warning;
  w.finish(dump(meta));
  return finish_output(std::move(file), out_path);
}

}  // namespace ringscope::trace
