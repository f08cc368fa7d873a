// export.cpp — export_trace() and export_trace_file(), and the pieces every
// export format shares.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "export_internal.h"
#include "fmt/format.h"
#include "ringscope/event_schema.h"
#include "ringscope/files.h"
#include "ringscope/i18n.h"
#include "ringscope/trace_stats.h"

namespace ringscope {
namespace trace {

std::string event_title(const Event& e) {
  const KindSpec& k = kind_spec(e.kind);
  return k.title ? k.title(e) : std::string(k.name);
}

std::optional<FlowTracker::Previous> FlowTracker::step(const Event& e) {
  auto it = last_.find(e.vcpu);
  if (it == last_.end()) {
    // Bounded: a trace with absurdly many vCPUs loses a few arrows, not memory.
    if (last_.size() >= kMaxFlowVcpus) last_.clear();
    last_.emplace(e.vcpu, Previous{e.kind, e.seq, e.time_ns});
    return std::nullopt;
  }
  Previous before = it->second;
  it->second = Previous{e.kind, e.seq, e.time_ns};
  return before;
}

bool ExportPlan::listed(uint32_t vcpu) const { return std::find(vcpus.begin(), vcpus.end(), vcpu) != vcpus.end(); }

Result<ExportPlan> plan_export(const EventPass& pass) {
  ExportPlan plan;
  std::unordered_set<uint32_t> seen;
  ReadSummary summary;
  StatsBuilder stats;  // for the phases: memory bounded by kMaxPhases, whatever the trace's length
  TRY(pass(
      [&](const Event& e) {
        stats.add(e);
        plan.first_ns = plan.events == 0 ? e.time_ns : std::min(plan.first_ns, e.time_ns);
        plan.last_ns = std::max(plan.last_ns, e.time_ns);
        if (e.kind == EventKind::VmExit) plan.has_exits = true;
        ++plan.events;
        if (seen.size() < kMaxListedVcpus) {
          if (seen.insert(e.vcpu).second) plan.vcpus.push_back(e.vcpu);
        } else if (!seen.count(e.vcpu)) {
          plan.more_vcpus = true;
        }
        return true;
      },
      summary));
  if (plan.vcpus.empty()) plan.vcpus.push_back(0);
  plan.complete = summary.complete;
  plan.warning = std::move(summary.warning);
  plan.phases = stats.finish(TraceHeader{}, plan.complete, {}).phases;
  plan.phase_row = phase_rows(plan.phases, kMaxExportPhaseRows);
  return plan;
}

std::string_view ring_state_name(uint8_t cpl) {
  static constexpr std::string_view kNames[] = {"ring 0", "ring 1", "ring 2", "ring 3"};
  return kNames[cpl & 3];
}

void StateTracker::step(const Event& e, const Emit& emit) {
  auto it = vcpus_.find(e.vcpu);
  if (it == vcpus_.end()) {
    if (vcpus_.size() >= kMaxFlowVcpus) return;
    it = vcpus_.emplace(e.vcpu, Vcpu{}).first;
    if (vmx_) emit({StateTrack::Vmx, e.vcpu, e.time_ns, {}, kVmxNonRootState});
  }
  Vcpu& v = it->second;
  const bool exit = e.kind == EventKind::VmExit;
  if (vmx_ && v.root && exit && e.time_ns <= v.root_end) {
    // The next exit before the last one's end: root goes on (the viewer cuts
    // the earlier span there).
    emit({StateTrack::Vmx, e.vcpu, e.time_ns, kVmxRootState, kVmxRootState});
  } else {
    if (vmx_ && v.root && e.time_ns >= v.root_end) {
      emit({StateTrack::Vmx, e.vcpu, v.root_end, kVmxRootState, kVmxNonRootState});
      v.root = false;
    }
    if (vmx_ && exit)
      emit({StateTrack::Vmx, e.vcpu, e.time_ns, v.root ? kVmxRootState : kVmxNonRootState, kVmxRootState});
  }
  if (vmx_ && exit) {
    v.root = true;
    v.root_end = e.time_ns + e.duration_ns;
  }
  if (const auto ends = event_cpl_ends(e); ends && ends->to != v.cpl) {
    emit({StateTrack::Ring, e.vcpu, e.time_ns, v.cpl < 0 ? std::string_view{} : ring_state_name(v.cpl & 3),
          ring_state_name(ends->to)});
    v.cpl = ends->to;
  }
}

void StateTracker::finish(uint64_t last_ns, const Emit& emit) {
  for (auto& [vcpu, v] : vcpus_) {
    if (v.cpl >= 0) emit({StateTrack::Ring, vcpu, last_ns, ring_state_name(v.cpl & 3), {}});
    if (!vmx_) continue;
    if (v.root && v.root_end < last_ns) {
      emit({StateTrack::Vmx, vcpu, v.root_end, kVmxRootState, kVmxNonRootState});
      v.root = false;
    }
    emit({StateTrack::Vmx, vcpu, v.root ? v.root_end : last_ns, v.root ? kVmxRootState : kVmxNonRootState, {}});
  }
  vcpus_.clear();
}

std::string process_title(const TraceHeader& h) {
  std::string t = "ringscope";
  if (!h.scenario.empty()) t += ": " + h.scenario;
  if (!h.mode.empty()) t += " (" + h.mode + ")";
  return t;
}

Result<File> create_output(const std::string& path) {
  int fd = -1;
  if (path == "-") {
    fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return make_error(ErrorKind::IoError, trf("cannot write to stdout: {}", std::strerror(errno)));
  } else {
    TRY_ASSIGN(fd, create_output_file(path, "the export"));
  }
  File f(::fdopen(fd, "wb"), &std::fclose);
  if (!f) {
    const int err = errno;
    ::close(fd);
    return make_error(ErrorKind::IoError, trf("cannot write {}: {}", path, std::strerror(err)));
  }
  return f;
}

Status finish_output(File file, const std::string& path) {
  const bool write_failed = std::ferror(file.get()) != 0;
  const int err = errno;
  if (std::fclose(file.release()) != 0 || write_failed)
    return make_error(ErrorKind::IoError, trf("cannot write {}: {}", path == "-" ? "stdout" : path,
                                              std::strerror(write_failed ? err : errno)));
  return ok_status();
}

Status export_json_lines(const EventPass& pass, const std::string& out_path, uint64_t& written) {
  File file(nullptr, &std::fclose);
  TRY_ASSIGN(file, create_output(out_path));
  ReadSummary summary;
  std::string line;
  TRY(pass(
      [&](const Event& e) {
        line = event_to_json(e);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), file.get());
        ++written;
        return std::ferror(file.get()) == 0;
      },
      summary));
  return finish_output(std::move(file), out_path);
}

}  // namespace trace

namespace {

Status export_with(const TraceHeader& header, const trace::EventPass& pass, ExportFormat format,
                   const std::string& out_path, uint64_t& written) {
  switch (format) {
    case ExportFormat::ChromeJson: return trace::export_chrome_json(header, pass, out_path, written);
    case ExportFormat::PerfettoProto: return trace::export_perfetto(header, pass, out_path, written);
    case ExportFormat::JsonLines: return trace::export_json_lines(pass, out_path, written);
  }
  return make_error(ErrorKind::Usage, tr("unknown export format"));
}

}  // namespace

Status export_trace(const Trace& trace, ExportFormat format, const std::string& out_path) {
  trace::EventPass pass = [&trace](const EventCallback& callback, ReadSummary& summary) {
    summary = ReadSummary{};
    for (const Event& e : trace.events) {
      ++summary.events;
      if (!callback(e)) return ok_status();
    }
    summary.complete = trace.complete;
    summary.warning = trace.warning;
    return ok_status();
  };
  uint64_t written = 0;
  return export_with(trace.header, pass, format, out_path, written);
}

Result<ExportSummary> export_trace_file(const std::string& in_path, ExportFormat format, const std::string& out_path) {
  ExportSummary out;
  // The header first (and an error now, before an output file is created,
  // when the input is not a trace at all).
  TraceHeader header;
  TRY(for_each_event(
      in_path, ReadOptions{}, [](const Event&) { return false; }, &header));
  trace::EventPass pass = [&](const EventCallback& callback, ReadSummary& summary) {
    Status s = for_each_event(in_path, ReadOptions{}, callback, nullptr, &summary);
    out.complete = summary.complete;  // what the reader said about the file, on the last pass
    out.warning = summary.warning;
    return s;
  };
  TRY(export_with(header, pass, format, out_path, out.events));
  return out;
}

}  // namespace ringscope
