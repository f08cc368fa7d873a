// export_internal.h — what the Chrome JSON and Perfetto exporters share:
// titles, flow pairing, output files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ringscope/result.h"
#include "ringscope/trace.h"

namespace ringscope::trace {

// Chrome's JSON viewer and Perfetto's JSON importer choke long before this;
// the protobuf export has no such limit.
inline constexpr size_t kMaxChromeJsonEvents = 2'000'000;

// The label of an event on the timeline: "io_instruction", "#PF page fault",
// "uart THR write", a counter's or marker's name.
std::string event_title(const Event& e);

// A guest access and the device event it caused: a vm_exit followed, on the
// same vCPU, directly by a device event. Indices into Trace::events.
struct FlowPair {
  size_t exit_index;
  size_t device_index;
};
std::vector<FlowPair> find_flows(const Trace& trace);

// The distinct vCPUs in event order of first appearance.
std::vector<uint32_t> vcpus_of(const Trace& trace);

// "ringscope: syscalls (full-virt)", the name of the process track.
std::string process_title(const TraceHeader& h);

using File = std::unique_ptr<FILE, int (*)(FILE*)>;
Result<File> create_output(const std::string& path);
Status finish_output(File file, const std::string& path);

Status export_chrome_json(const Trace& trace, const std::string& out_path);
Status export_perfetto(const Trace& trace, const std::string& out_path);

}  // namespace ringscope::trace
