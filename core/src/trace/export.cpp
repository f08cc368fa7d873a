// export.cpp — export_trace() and the pieces both export formats share.
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "export_internal.h"
#include "fmt/format.h"
#include "ringscope/exit_reasons.h"

namespace ringscope {
namespace trace {

std::string event_title(const Event& e) {
  switch (e.kind) {
    case EventKind::VmExit: return exit_reason_name(e.reason);
    case EventKind::Trap:
      switch (e.cause) {
        case TrapCause::Exception:
          if (auto n = exception_name(e.vector); !n.empty()) return std::string(n);
          return fmt::format("exception {}", e.vector);
        case TrapCause::SoftInt: return fmt::format("int 0x{:x}", e.vector);
        case TrapCause::Syscall: return "syscall";
        case TrapCause::Interrupt: return fmt::format("interrupt {}", e.vector);
        default: return fmt::format("trap {}", e.vector);
      }
    case EventKind::TrapReturn: return e.cause == TrapCause::None ? "trap_return" : std::string(cause_name(e.cause));
    case EventKind::Hypercall: return fmt::format("hypercall {}", e.number);
    case EventKind::Device: {
      std::string t = e.device.empty() ? "device" : std::string(e.device);
      if (!e.reg.empty()) t += fmt::format(" {}", e.reg);
      if (e.direction != Direction::None) t += fmt::format(" {}", direction_name(e.direction));
      return t;
    }
    case EventKind::IrqInject: return fmt::format("irq_inject {}", e.vector);
    case EventKind::Counter:
    case EventKind::Marker:
      if (!e.name.empty()) return std::string(e.name);
      break;
    case EventKind::RunEnd: return fmt::format("run_end {}", run_end_name(e.end_reason));
    default: break;
  }
  return std::string(kind_name(e.kind));
}

std::vector<FlowPair> find_flows(const Trace& trace) {
  std::vector<FlowPair> flows;
  std::unordered_map<uint32_t, size_t> last;  // vcpu -> index of its latest event
  for (size_t i = 0; i < trace.events.size(); ++i) {
    const Event& e = trace.events[i];
    auto [it, fresh] = last.try_emplace(e.vcpu, i);
    if (!fresh) {
      if (e.kind == EventKind::Device && trace.events[it->second].kind == EventKind::VmExit)
        flows.push_back({it->second, i});
      it->second = i;
    }
  }
  return flows;
}

std::vector<uint32_t> vcpus_of(const Trace& trace) {
  std::vector<uint32_t> out;
  std::unordered_map<uint32_t, bool> seen;
  for (const Event& e : trace.events) {
    if (seen.try_emplace(e.vcpu, true).second) out.push_back(e.vcpu);
  }
  if (out.empty()) out.push_back(0);
  return out;
}

std::string process_title(const TraceHeader& h) {
  std::string t = "ringscope";
  if (!h.scenario.empty()) t += ": " + h.scenario;
  if (!h.mode.empty()) t += " (" + h.mode + ")";
  return t;
}

Result<File> create_output(const std::string& path) {
  File f(std::fopen(path.c_str(), "wbe"), &std::fclose);
  if (!f)
    return make_error(ErrorKind::IoError, fmt::format("cannot create {}: {}; check that the directory exists and is "
                                                      "writable",
                                                      path, std::strerror(errno)));
  return f;
}

Status finish_output(File file, const std::string& path) {
  const bool write_failed = std::ferror(file.get()) != 0;
  const int err = errno;
  if (std::fclose(file.release()) != 0 || write_failed)
    return make_error(ErrorKind::IoError,
                      fmt::format("cannot write {}: {}", path, std::strerror(write_failed ? err : errno)));
  return ok_status();
}

}  // namespace trace

Status export_trace(const Trace& trace, ExportFormat format, const std::string& out_path) {
  switch (format) {
    case ExportFormat::ChromeJson:
      if (trace.events.size() > trace::kMaxChromeJsonEvents)
        return make_error(ErrorKind::Usage,
                          fmt::format("the trace has {} events, too many for Chrome JSON (at most {}: JSON viewers "
                                      "run out of memory); export with `--format perfetto` instead",
                                      trace.events.size(), trace::kMaxChromeJsonEvents));
      return trace::export_chrome_json(trace, out_path);
    case ExportFormat::PerfettoProto: return trace::export_perfetto(trace, out_path);
  }
  return make_error(ErrorKind::Usage, "unknown export format");
}

}  // namespace ringscope
