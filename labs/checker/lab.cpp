// lab.cpp — lab.json, answers.txt and the checks (see lab.h).
#include "lab.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>
#include <type_traits>

#include "ringscope/acpi_tables.h"
#include "ringscope/bt_insns.h"
#include "ringscope/devices/disk_image.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/explain.h"
#include "ringscope/files.h"
#include "ringscope/i18n.h"
#include "ringscope/scenario.h"

namespace ringscope::labs {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Parsing reports the first problem with the file and the field.
struct Parser {
  std::string file;
  std::optional<Error> error;
  void fail(const std::string& where, const std::string& what) {
    if (!error) error = Error{ErrorKind::BadData, fmt::format("{}: {}: {}", file, where, what)};
  }
  // Unknown keys are refused: a typo in a lab must not silently check nothing.
  void only(const json& j, const std::string& where, std::initializer_list<const char*> keys) {
    if (!j.is_object()) return fail(where, "must be an object");
    for (const auto& item : j.items()) {
      const std::string& k = item.key();  // a named variable, not a structured binding: clang 14 cannot capture those
      if (std::find_if(keys.begin(), keys.end(), [&](const char* s) { return k == s; }) == keys.end())
        fail(where, trf("unknown key \"{}\"", k));
    }
  }
  std::string str(const json& j, const char* key, const std::string& where, std::string dflt = {}) {
    if (!j.contains(key)) return dflt;
    if (!j[key].is_string()) return fail(where + "." + key, "must be a string"), dflt;
    return j[key].get<std::string>();
  }
  template <typename T>
  std::optional<T> num(const json& j, const char* key, const std::string& where) {
    if (!j.contains(key)) return std::nullopt;
    if (!j[key].is_number()) return fail(where + "." + key, "must be a number"), std::nullopt;
    if constexpr (std::is_integral_v<T>) {
      // Converting a double outside T's range (1e300, or -1 to unsigned) is
      // undefined behaviour, so the range is checked first: [-2^d, 2^d) or [0, 2^d).
      const double v = j[key].get<double>(), top = std::ldexp(1.0, std::numeric_limits<T>::digits);
      if (!(v < top && v >= (std::is_signed_v<T> ? -top : 0.0)))
        return fail(where + "." + key, trf("{} is out of range: it must be a whole number from {} to {}", j[key].dump(),
                                           std::numeric_limits<T>::min(), std::numeric_limits<T>::max())),
               std::nullopt;
    }
    return j[key].get<T>();
  }
};

// The names a `register` can have on a vm_exit: what the VT-x model records
// for a CR access, an MSR access and a store into a shadowed page table
// (core/src/vmx/model.cpp, table_entry_name).
const std::set<std::string> kExitRegisters = {"cr0", "cr3", "cr4", "cr", "msr", "pte", "pde", "pdpte", "pml4e"};

// Refuses a filter that no event of any run can match, where that can be
// known from the filter alone (labs/README.md, "What can never match"; which
// kinds carry which key: ringscope/event_filter.h):
//  - a `port` or `register` with a `kind` that never carries one: a port is
//    on I/O exits (vm_exit, reason 30) and on accesses no device claims
//    (device "unclaimed"); a register on device events and on the VT-x
//    model's CR, MSR and page-table exits, whose names are a closed set;
//  - a `port` with an exit `reason` other than 30 (I/O instruction).
// A port that no device of the run's machine claims is NOT refused: a guest
// may touch any port, and that access is an exit and an "unclaimed" device
// event that a lab may well count. Likewise a device's register names are
// not a closed list (each device model names its own), so only the exit
// registers are checked by name.
void check_never_matches(Parser& p, const EventFilter& f, const std::string& where) {
  const bool exits = f.has_kind(EventKind::VmExit), devices = f.has_kind(EventKind::Device);
  const bool callouts = f.has_kind(EventKind::BtCallout);  // bt mode: in/out, mov cr, rdmsr/wrmsr
  if (f.port && !exits && !devices && !callouts)
    p.fail(where + ".port",
           "only vm_exit (I/O instructions), device (unclaimed accesses) and bt_callout (in, out) events carry "
           "a port; this kind never does, so the query would match nothing");
  if (f.port && f.reason && *f.reason != exit_reason::kIoInstruction)
    p.fail(where + ".port", fmt::format("an exit with reason {} carries no port; only reason {} (I/O instruction) does",
                                        *f.reason, exit_reason::kIoInstruction));
  if (f.reg && !exits && !devices && !callouts)
    p.fail(where + ".register",
           "only device, vm_exit and bt_callout events carry a register; this kind never does, so the "
           "query would match nothing");
  if (f.reg && exits && !devices && !callouts && !kExitRegisters.count(*f.reg)) {
    std::string list;
    for (const auto& r : kExitRegisters) list += (list.empty() ? "" : ", ") + r;
    p.fail(where + ".register",
           fmt::format("a vm_exit never names the register \"{}\"; exits name {} (a device's registers are on "
                       "\"kind\": \"device\" events)",
                       *f.reg, list));
  }
}

// The query's event keys as the one EventFilter; values no event can
// carry (a port above 0xffff, a CPL of 4, a direction that does not exist)
// are refused here, with the key.
EventFilter parse_filter(Parser& p, const json& j, const std::string& where) {
  EventFilter f;
  auto s = [&](const char* k) -> std::optional<std::string> {
    if (!j.contains(k)) return std::nullopt;
    return p.str(j, k, where);
  };
  if (j.contains("kind")) {
    const json& k = j["kind"];
    std::vector<std::string> names;
    if (k.is_string())
      names.push_back(k.get<std::string>());
    else if (k.is_array())
      for (const auto& x : k)
        if (x.is_string()) names.push_back(x.get<std::string>());
    if (names.empty()) p.fail(where + ".kind", "must be an event kind or a list of them");
    for (const auto& name : names)
      if (auto kind = kind_from_name(name))
        f.add_kind(*kind);
      else
        p.fail(where + ".kind", trf("no event kind \"{}\"", name));
  }
  if (auto v = s("source")) {
    f.source = source_from_name(*v);
    if (!f.source) p.fail(where + ".source", trf("no source \"{}\"", *v));
  }
  if (auto v = s("handled_by")) {
    f.handled_by = handled_by_from_name(*v);
    if (!f.handled_by)
      p.fail(where + ".handled_by", trf("no handled_by \"{}\": it is vmm or kernel (vm_exit events)", *v));
  }
  if (auto v = s("cause")) {
    f.cause = cause_from_name(*v);
    if (!f.cause)
      p.fail(where + ".cause",
             trf("no trap cause \"{}\" (the causes: exception, interrupt, int, syscall, iretq, sysretq, hlt)", *v));
  }
  if (auto v = s("instruction")) {
    f.insn = bt_insn_from_name(*v);
    if (!f.insn) p.fail(where + ".instruction", trf("no bt instruction \"{}\" (core/src/bt_insns.cpp lists them)", *v));
  }
  for (auto [key, out] : {std::pair{"from_world", &f.from_world}, std::pair{"to_world", &f.to_world}})
    if (auto v = s(key)) {
      *out = world_from_name(*v);
      if (!*out) p.fail(where + "." + key, trf("no world \"{}\": it is direct, translated or monitor", *v));
    }
  if (auto v = s("via")) {
    f.via = irq_via_from_name(*v);
    if (!f.via) p.fail(where + ".via", trf("no interrupt path \"{}\": it is KVM_INTERRUPT, irqfd or ipi", *v));
  }
  if (auto v = s("direction")) {
    f.direction = direction_from_name(*v);
    if (!f.direction)
      p.fail(where + ".direction",
             trf("no direction \"{}\": it is in or out (ports), read or write (MMIO, MSRs, control registers)", *v));
  }
  f.device = s("device");
  f.reg = s("register");
  f.name = s("name");
  for (auto [key, v] : {std::pair{"device", &f.device}, std::pair{"register", &f.reg}, std::pair{"name", &f.name}})
    if (*v && (*v)->empty()) p.fail(where + "." + key, "must not be empty");
  f.value = p.num<uint64_t>(j, "value", where);
  // Values no event can carry would make a check that matches nothing.
  if (auto reason = p.num<uint64_t>(j, "reason", where)) {
    if (*reason > 0xffff || !find_exit_reason(static_cast<uint16_t>(*reason)))
      p.fail(where + ".reason",
             trf("{} is not a VT-x basic exit reason ringscope knows (docs/trace-format.md)", *reason));
    else
      f.reason = static_cast<uint16_t>(*reason);
  }
  if (auto port = p.num<uint64_t>(j, "port", where)) {
    if (*port > 0xffff)
      p.fail(where + ".port", trf("{} is above 0xffff, the last I/O port", *port));
    else
      f.port = static_cast<uint16_t>(*port);
  }
  if (auto vector = p.num<uint64_t>(j, "vector", where)) {
    if (*vector > 255)
      p.fail(where + ".vector", trf("{} is above 255, the last vector", *vector));
    else
      f.vector = static_cast<uint8_t>(*vector);
  }
  for (auto [key, out] : {std::pair{"from_cpl", &f.from_cpl}, std::pair{"to_cpl", &f.to_cpl}, std::pair{"cpl", &f.cpl}})
    if (auto cpl = p.num<int>(j, key, where)) {
      if (*cpl < 0 || *cpl > 3)
        p.fail(where + "." + key, "a CPL is 0, 1, 2 or 3");
      else
        *out = static_cast<uint8_t>(*cpl);
    }
  if (auto vcpu = p.num<uint32_t>(j, "vcpu", where)) {
    if (*vcpu >= static_cast<uint32_t>(kMaxVcpus))
      p.fail(where + ".vcpu", trf("{} is past the last vCPU, {}", *vcpu, kMaxVcpus - 1));
    else
      f.vcpu = *vcpu;
  }
  check_never_matches(p, f, where);
  return f;
}

Query parse_query(Parser& p, const json& j, const std::string& where, const std::set<std::string>& run_ids) {
  p.only(j, where, {"run",         "measure",    "kind",     "source",  "cause",      "direction", "device", "register",
                    "name",        "reason",     "port",     "vector",  "value",      "from_cpl",  "to_cpl", "cpl",
                    "instruction", "from_world", "to_world", "between", "handled_by", "vcpu",      "via"});
  Query q;
  q.run = p.str(j, "run", where);
  if (!run_ids.count(q.run)) p.fail(where + ".run", trf("no run \"{}\" in \"runs\"", q.run));
  q.measure = p.str(j, "measure", where, "count");
  static const std::set<std::string> kMeasures = {
      "count",       "sum_value",  "sum_count",   "last_value", "sum_last_value", "last_port", "last_vector",
      "last_reason", "last_count", "last_number", "span_ns",    "rise_value",     "fall_value"};
  if (!kMeasures.count(q.measure))
    p.fail(where + ".measure",
           "must be count, sum_value, sum_count, last_value, sum_last_value, last_vector, last_port, last_reason, "
           "last_count, last_number, span_ns, rise_value or fall_value");
  q.filter = parse_filter(p, j, where);
  q.between = p.str(j, "between", where);
  if (j.contains("between") && q.between.empty()) p.fail(where + ".between", "must name a marker phase");
  return q;
}

LabRun parse_run(Parser& p, const json& j, const std::string& where) {
  p.only(j, where,
         {"id",
          "program",
          "program_name",
          "scenario",
          "params",
          "append",
          "mode",
          "fallback_mode",
          "level",
          "devices",
          "irqchip",
          "vmx_profile",
          "expect_status",
          "markers",
          "io",
          "vcpus",
          "vcpu_affinity",
          "host_hog",
          "disk",
          "disk_fill",
          "disk_cache",
          "disk_cache_drop",
          "ram",
          "balloon_target",
          "balloon_after"});
  LabRun r;
  r.id = p.str(j, "id", where);
  if (r.id.empty()) p.fail(where + ".id", "every run needs an id");
  if (j.contains("program")) {
    if (!j["program"].is_array() || j["program"].empty()) p.fail(where + ".program", "must be a list of source files");
    for (const auto& s : j["program"])
      if (s.is_string()) r.program.push_back(s.get<std::string>());
  }
  r.program_name = p.str(j, "program_name", where, r.id);
  r.scenario = p.str(j, "scenario", where);
  if (r.program.empty() == r.scenario.empty()) p.fail(where, "give \"program\" (source files) or \"scenario\"");
  if (j.contains("params")) {
    if (!j["params"].is_object()) p.fail(where + ".params", "must be an object");
    for (const auto& [k, v] : j["params"].items()) r.params[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  r.append = p.str(j, "append", where);
  if (j.contains("mode")) {
    if (auto m = mode_from_name(p.str(j, "mode", where)))
      r.mode = *m;
    else
      p.fail(where + ".mode", "must be " + mode_choices());
  }
  if (j.contains("fallback_mode")) {
    r.fallback_mode = mode_from_name(p.str(j, "fallback_mode", where));
    if (!r.fallback_mode) p.fail(where + ".fallback_mode", "must be " + mode_choices());
  }
  r.level = p.str(j, "level", where, "exits");
  if (r.level != "exits" && r.level != "full") p.fail(where + ".level", "must be exits or full");
  r.devices = p.str(j, "devices", where);
  r.irqchip = p.str(j, "irqchip", where);
  if (!r.irqchip.empty() && r.irqchip != "vmm" && r.irqchip != "kernel")
    p.fail(where + ".irqchip", "must be vmm or kernel");
  r.io = p.str(j, "io", where);
  if (!r.io.empty() && r.io != "vcpu" && r.io != "offload") p.fail(where + ".io", "must be vcpu or offload");
  if (r.io == "offload" && r.mode != Mode::HvmPv && r.mode != Mode::Paravirt)
    p.fail(where + ".io", "offload applies to --mode hvm-pv and paravirt (KVM with virtio devices)");
  if (r.io == "offload" && r.fallback_mode)
    p.fail(where + ".fallback_mode", "a run with offloaded I/O has no emulation to fall back to");
  if (r.irqchip == "kernel" && r.fallback_mode)
    p.fail(where + ".fallback_mode", "a run on KVM's in-kernel irqchip has no emulation to fall back to");
  r.vmx_profile = p.str(j, "vmx_profile", where);
  r.expect_status = p.num<int>(j, "expect_status", where).value_or(0);
  r.vcpus = p.num<int>(j, "vcpus", where).value_or(0);
  if (j.contains("vcpus") && (r.vcpus < 1 || r.vcpus > kMaxVcpus))
    p.fail(where + ".vcpus", trf("a guest has 1 to {} vCPUs", kMaxVcpus));
  r.vcpu_affinity = p.str(j, "vcpu_affinity", where);
  // A list is checked against the host's CPUs when the run starts (another host may have them).
  if (j.contains("vcpu_affinity") && r.vcpu_affinity.empty())
    p.fail(where + ".vcpu_affinity", "must be \"first\" or a CPU list as taskset writes it (0, 0-1, 0,2)");
  if (j.contains("host_hog")) {
    if (!j["host_hog"].is_boolean())
      p.fail(where + ".host_hog", "must be true or false");
    else
      r.host_hog = j["host_hog"].get<bool>();
    if (r.host_hog && r.vcpu_affinity.empty())
      p.fail(where + ".host_hog", "goes with vcpu_affinity: the hog runs on the vCPUs' host CPUs");
  }
  r.disk = p.str(j, "disk", where);
  if (!r.disk.empty() && (r.disk.find('/') != std::string::npos || r.disk == "." || r.disk == ".."))
    p.fail(where + ".disk", "must be a file name (the image is made in the lab's work directory)");
  r.disk_fill = p.num<uint64_t>(j, "disk_fill", where).value_or(0);
  if (r.disk_fill % kSectorSize != 0 || r.disk_fill > (64ull << 20))
    p.fail(where + ".disk_fill", "must be a whole number of 512-byte sectors, at most 64 MiB");
  if (r.disk_fill && r.disk.empty()) p.fail(where + ".disk_fill", "goes with \"disk\" (the image it fills)");
  r.disk_cache = p.str(j, "disk_cache", where);
  if (!r.disk_cache.empty() && !parse_disk_cache(r.disk_cache))
    p.fail(where + ".disk_cache", "must be writeback, none or unsafe");
  if (j.contains("disk_cache_drop")) {
    if (!j["disk_cache_drop"].is_boolean())
      p.fail(where + ".disk_cache_drop", "must be true or false");
    else
      r.disk_cache_drop = j["disk_cache_drop"].get<bool>();
  }
  r.ram_mib = p.num<uint64_t>(j, "ram", where).value_or(0);
  r.balloon_target_mib = p.num<uint64_t>(j, "balloon_target", where).value_or(0);
  r.balloon_after = p.str(j, "balloon_after", where);
  if (!r.balloon_after.empty() && !r.balloon_target_mib)
    p.fail(where + ".balloon_after", "goes with \"balloon_target\" (MiB)");
  if (j.contains("markers")) {
    if (r.program.empty())
      p.fail(where + ".markers", "only a program run declares markers (a scenario's are in its manifest)");
    if (!j["markers"].is_array()) p.fail(where + ".markers", "must be a list of marker labels");
    for (const auto& m : j["markers"])
      if (m.is_string() && !m.get<std::string>().empty())
        r.markers.push_back(m.get<std::string>());
      else
        p.fail(where + ".markers", "every marker label is a non-empty string");
  }
  return r;
}

}  // namespace

void QueryMeter::feed(const Event& e) {
  const Query& q = *q_;
  // The phase: from the first `begin` marker with this label to its `end`.
  if (!q.between.empty()) {
    if (phase_ == Phase::After) return;
    const bool ours = e.kind == EventKind::Marker && e.name == q.between;
    if (phase_ == Phase::Before) {
      if (ours && e.phase == MarkerPhase::Begin) {
        phase_ = Phase::Inside;
        begin_ns_ = e.time_ns;
      }
      return;
    }
    if (ours && e.phase == MarkerPhase::End) {
      phase_ = Phase::After;
      end_ns_ = e.time_ns;
      return;
    }
  }
  if (!q.filter.matches(e)) return;
  if (!first_) {
    first_ = e.time_ns;
    first_value_ = max_value_ = e.value;
  }
  last_ = e.time_ns;
  last_value_ = e.value;
  max_value_ = std::max(max_value_, e.value);
  const std::string& m = q.measure;
  if (m == "count")
    sum_ += 1;
  else if (m == "sum_value")
    sum_ += static_cast<double>(e.value);
  else if (m == "sum_count")
    sum_ += e.count;
  else if (m == "last_vector")
    sum_ = e.vector;
  else if (m == "last_port")
    sum_ = e.port;
  else if (m == "last_reason")
    sum_ = e.reason;
  else if (m == "last_count")
    sum_ = e.count;
  else if (m == "last_number")
    sum_ = static_cast<double>(e.number);
  else if (m == "last_value")
    sum_ = static_cast<double>(e.value);
  else if (m == "sum_last_value" && (lane_last_.size() < static_cast<size_t>(kMaxVcpus) || lane_last_.count(e.vcpu)))
    lane_last_[e.vcpu] = e.value;
}

Measured QueryMeter::result() const {
  const Query& q = *q_;
  Measured r;
  if (!q.between.empty() && phase_ == Phase::Before) {
    r.problem = trf("the phase \"{}\" is not in run {}'s trace (no begin marker with that label)", q.between, q.run);
    return r;
  }
  // span_ns: from the first matching event to the last (inside a phase:
  // from its begin marker to its end marker, when every event matches).
  if (q.measure == "span_ns") {
    if (!q.between.empty() && q.filter.any_kind() && begin_ns_ && end_ns_)
      r.value = static_cast<double>(*end_ns_ > *begin_ns_ ? *end_ns_ - *begin_ns_ : 0);
    else
      r.value = first_ && last_ && *last_ > *first_ ? static_cast<double>(*last_ - *first_) : 0;
    return r;
  }
  // A last_* measure of nothing has no value (not 0): a counter this host's
  // KVM does not have, say, must not pass an `at_most`.
  if ((q.measure.rfind("last_", 0) == 0 || q.measure == "rise_value" || q.measure == "fall_value") && !first_) {
    r.problem = trf("no event of run {} matched{}, so there is no {}", q.run,
                    q.between.empty() ? "" : trf(" in the phase \"{}\"", q.between), q.measure);
    return r;
  }
  if (q.measure == "sum_last_value") {
    if (lane_last_.empty()) {
      r.problem = trf("no event of run {} matched{}, so there is no {}", q.run,
                      q.between.empty() ? "" : trf(" in the phase \"{}\"", q.between), q.measure);
      return r;
    }
    double total = 0;
    for (const auto& [lane, v] : lane_last_) total += static_cast<double>(v);
    r.value = total;
    return r;
  }
  if (q.measure == "rise_value")
    r.value = static_cast<double>(max_value_ - first_value_);
  else if (q.measure == "fall_value")
    r.value = static_cast<double>(max_value_ - last_value_);
  else
    r.value = sum_;
  return r;
}

Measured measure(const Query& q, const std::vector<Event>& events) {
  QueryMeter m(q);
  for (const Event& e : events) m.feed(e);
  return m.result();
}

Result<std::string> expand_label(const std::string& tmpl, const std::map<std::string, std::string>& params,
                                 const std::string& scenario) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    size_t close = tmpl.find('}', i);
    if (close == std::string::npos)
      return make_error(ErrorKind::BadData, trf("scenario {}: marker \"{}\" has an unclosed {{", scenario, tmpl));
    std::string name = tmpl.substr(i + 1, close - i - 1);
    long long factor = 1;
    if (auto star = name.find('*'); star != std::string::npos) {
      factor = std::atoll(name.c_str() + star + 1);
      name.erase(star);
    }
    auto it = params.find(name);
    if (it == params.end())
      return make_error(ErrorKind::BadData,
                        trf("scenario {}: marker \"{}\" names param {}, which it does not have", scenario, tmpl, name));
    if (factor == 1) {
      out += it->second;
    } else {
      char* end = nullptr;
      long long v = std::strtoll(it->second.c_str(), &end, 10);
      if (!end || *end) return make_error(ErrorKind::BadData, trf("param {} is not a number", name));
      out += std::to_string(v * factor);
    }
    i = close + 1;
  }
  return out;
}

Result<Query> parse_query_object(const json& j, const std::string& where) {
  Parser p;
  p.file = where;
  if (!j.is_object()) return make_error(ErrorKind::BadData, fmt::format("{}: must be an object", where));
  if (j.contains("run")) p.fail("run", "a query here has no \"run\" (it measures every run of the grid)");
  json with_run = j;
  with_run["run"] = "";
  Query q = parse_query(p, with_run, "query", {""});
  if (p.error) return *p.error;
  return q;
}

Result<std::vector<std::string>> run_phase_labels(const LabRun& run) {
  std::vector<std::string> out;
  if (!run.program.empty()) {
    // The teaching kernel's own phases around a program, and the ones the
    // student's program is asked for.
    out = {"boot", "run " + run.program_name};
    out.insert(out.end(), run.markers.begin(), run.markers.end());
    return out;
  }
  auto scenario =
      run.scenario.find('/') != std::string::npos ? load_scenario(run.scenario) : find_builtin_scenario(run.scenario);
  if (!scenario.ok()) return scenario.error();
  std::map<std::string, std::string> params = scenario.value().params;
  for (const auto& [k, v] : run.params) {
    if (!params.count(k))
      return make_error(ErrorKind::BadData,
                        trf("scenario {} has no param \"{}\" (`ringscope scenarios` lists them)", run.scenario, k));
    params[k] = v;
  }
  for (const auto& t : scenario.value().markers) {
    TRY_ASSIGN(std::string label, expand_label(t, params, run.scenario));
    out.push_back(std::move(label));
  }
  return out;
}

Result<Lab> load_lab(const fs::path& dir) {
  const fs::path file = dir / "lab.json";
  TRY_ASSIGN(std::string text, read_regular_text(file, kMaxTextBytes, "lab.json"));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return make_error(ErrorKind::BadData, trf("{}: not valid JSON: {}", file.string(), e.what()));
  }
  Parser p{file.string(), std::nullopt};
  p.only(j, "lab", {"number", "title", "title_ko", "language", "runs", "checks", "answers"});
  Lab lab;
  lab.dir = dir;
  lab.number = p.num<int>(j, "number", "lab").value_or(0);
  if (lab.number <= 0) p.fail("number", "every lab needs a number from 1");
  lab.title = p.str(j, "title", "lab");
  lab.title_ko = p.str(j, "title_ko", "lab");
  lab.language = p.str(j, "language", "lab");
  if (!lab.language.empty() && lab.language != "en" && lab.language != "ko")
    p.fail("language", "must be \"en\" or \"ko\": the language of the reports `lab check --json` writes for graders");
  std::set<std::string> run_ids;
  if (!j.contains("runs") || !j["runs"].is_array() || j["runs"].empty())
    p.fail("runs", "must be a non-empty list");
  else
    for (size_t i = 0; i < j["runs"].size(); ++i) {
      LabRun r = parse_run(p, j["runs"][i], fmt::format("runs[{}]", i));
      if (!run_ids.insert(r.id).second) p.fail(fmt::format("runs[{}].id", i), "used twice");
      lab.runs.push_back(std::move(r));
    }
  if (j.contains("answers")) {
    if (!j["answers"].is_array())
      p.fail("answers", "must be a list of keys");
    else
      for (const auto& a : j["answers"])
        if (a.is_string()) lab.answers.push_back(a.get<std::string>());
  }
  if (!j.contains("checks") || !j["checks"].is_array() || j["checks"].empty())
    p.fail("checks", "must be a non-empty list");
  else
    for (size_t i = 0; i < j["checks"].size(); ++i) {
      const json& c = j["checks"][i];
      const std::string where = fmt::format("checks[{}]", i);
      p.only(c, where, {"id", "say", "hint", "say_ko", "hint_ko", "query", "divide_by", "expect"});
      Check check;
      check.id = p.str(c, "id", where, fmt::format("{}", i + 1));
      check.say = p.str(c, "say", where);
      if (check.say.empty()) p.fail(where + ".say", "every check says what it checks");
      check.hint = p.str(c, "hint", where);
      check.say_ko = p.str(c, "say_ko", where);
      check.hint_ko = p.str(c, "hint_ko", where);
      if (!c.contains("query"))
        p.fail(where + ".query", "missing");
      else
        check.query = parse_query(p, c["query"], where + ".query", run_ids);
      if (c.contains("divide_by")) {
        if (c["divide_by"].is_number()) {
          check.divide_by_number = c["divide_by"].get<double>();
          if (check.divide_by_number == 0) p.fail(where + ".divide_by", "must not be 0");
        } else {
          check.divide_by = parse_query(p, c["divide_by"], where + ".divide_by", run_ids);
        }
      }
      if (!c.contains("expect")) {
        p.fail(where + ".expect", "missing");
      } else {
        const json& x = c["expect"];
        p.only(x, where + ".expect", {"equals", "at_least", "at_most", "answer", "tolerance"});
        check.expect.equals = p.num<double>(x, "equals", where + ".expect");
        check.expect.at_least = p.num<double>(x, "at_least", where + ".expect");
        check.expect.at_most = p.num<double>(x, "at_most", where + ".expect");
        check.expect.answer = p.str(x, "answer", where + ".expect");
        check.expect.tolerance = p.num<double>(x, "tolerance", where + ".expect").value_or(0);
        if (!check.expect.equals && !check.expect.at_least && !check.expect.at_most && check.expect.answer.empty())
          p.fail(where + ".expect", "give equals, at_least, at_most or answer");
        if (!check.expect.answer.empty() &&
            std::find(lab.answers.begin(), lab.answers.end(), check.expect.answer) == lab.answers.end())
          p.fail(where + ".expect.answer", trf("\"{}\" is not in \"answers\"", check.expect.answer));
      }
      lab.checks.push_back(std::move(check));
    }
  if (p.error) return *p.error;
  // A `between` label no run of that kind can emit would measure nothing,
  // and a check expecting 0 would pass: refuse it here, naming the label.
  std::map<std::string, std::vector<std::string>> labels;
  for (size_t i = 0; i < lab.runs.size(); ++i) {
    auto l = run_phase_labels(lab.runs[i]);
    if (!l.ok())
      p.fail(fmt::format("runs[{}]", i), l.error().message);
    else
      labels[lab.runs[i].id] = std::move(l).value();
  }
  auto check_label = [&](const Query& q, const std::string& where) {
    if (q.between.empty() || !labels.count(q.run)) return;
    const auto& known = labels[q.run];
    if (std::find(known.begin(), known.end(), q.between) != known.end()) return;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "\"" : ", \"") + k + "\"";
    const bool program = std::any_of(lab.runs.begin(), lab.runs.end(),
                                     [&](const LabRun& r) { return r.id == q.run && !r.program.empty(); });
    p.fail(where + ".between", trf("run \"{}\" never has a phase \"{}\"; its phases are {}{}", q.run, q.between, list,
                                   program ? " (declare the student's in the run's \"markers\")"
                                           : " (the scenario manifest's \"markers\")"));
  };
  for (size_t i = 0; i < lab.checks.size(); ++i) {
    check_label(lab.checks[i].query, fmt::format("checks[{}].query", i));
    if (lab.checks[i].divide_by) check_label(*lab.checks[i].divide_by, fmt::format("checks[{}].divide_by", i));
  }
  if (p.error) return *p.error;
  return lab;
}

Result<std::vector<Lab>> load_labs(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return make_error(ErrorKind::NoInput, trf("no labs directory at {}; set RINGSCOPE_LABS_DIR", root.string()));
  std::vector<Lab> labs;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "lab.json")) continue;
    TRY_ASSIGN(Lab lab, load_lab(entry.path()));
    labs.push_back(std::move(lab));
  }
  std::sort(labs.begin(), labs.end(), [](const Lab& a, const Lab& b) { return a.number < b.number; });
  for (size_t i = 1; i < labs.size(); ++i)
    if (labs[i].number == labs[i - 1].number)
      return make_error(ErrorKind::BadData, trf("labs {} and {} both have number {}", labs[i - 1].dir.string(),
                                                labs[i].dir.string(), labs[i].number));
  return labs;
}

Answers parse_answers(const std::string& text, const std::vector<std::string>& keys) {
  Answers out;
  std::map<std::string, int> first_line;  // key -> the line that gave it
  std::set<std::string> twice;
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(" \t\r"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto problem = [&](const std::string& what) { out.problems.push_back(trf("answers.txt line {}: {}", n, what)); };
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      problem(trf("\"{}\" has no colon; write \"key: number\"", line));
      continue;
    }
    std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key.empty()) {
      problem("no key before the colon; write \"key: number\"");
      continue;
    }
    if (!keys.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      problem(trf("this lab asks no question \"{}\" (its keys: {})", key, list));
      continue;
    }
    if (value.empty()) {
      out.rejected.insert(key);
      problem(trf("no answer after \"{}:\"", key));
      continue;
    }
    char* end = nullptr;
    errno = 0;
    const bool hex = value.rfind("0x", 0) == 0 || value.rfind("0X", 0) == 0;
    double v = hex ? static_cast<double>(std::strtoull(value.c_str(), &end, 16)) : std::strtod(value.c_str(), &end);
    if (!end || *end != '\0' || end == value.c_str() + (hex ? 2 : 0) || errno == ERANGE || !std::isfinite(v)) {
      out.rejected.insert(key);
      problem(trf("\"{}\" is not a number (decimal like 2.5, or hex like 0x40)", value));
      continue;
    }
    if (auto it = first_line.find(key); it != first_line.end()) {
      problem(trf("\"{}\" was already answered on line {}; keep one answer per key (neither counts)", key, it->second));
      twice.insert(key);
      out.rejected.insert(key);
      continue;
    }
    first_line[key] = n;
    out.values[key] = v;
  }
  for (const auto& k : twice) out.values.erase(k);
  return out;
}

namespace {

// Whether a query measures a time in nanoseconds.
bool measures_time(const Query& q) {
  return q.measure == "span_ns" ||
         ((q.measure == "last_value" || q.measure == "sum_value" || q.measure == "sum_last_value") && q.filter.name &&
          q.filter.name->ends_with("_ns"));
}

// A value as the student reads and writes it: a port in hex (as in
// answers.txt: status_port: 0x3fd), a time with its unit, anything else
// (counts, ratios) as a plain number.
std::string shown(const Check& c, double v) {
  if (c.query.measure == "last_port" && !c.divide_by && c.divide_by_number == 1 && v >= 0)
    return fmt::format("0x{:x}", static_cast<uint64_t>(v));
  // A time divided by a count is still a time (per operation); by a time, a ratio.
  if (measures_time(c.query) && !(c.divide_by && measures_time(*c.divide_by)) && v >= 0)
    return format_duration(static_cast<uint64_t>(std::llround(v)));
  return fmt::format("{:g}", v);
}

}  // namespace

Grader::Grader(const Lab& lab) : lab_(lab) {
  auto add = [&](const Query& q) {
    by_run_[q.run].push_back(meters_.size());
    meters_.emplace_back(q);
    return meters_.size() - 1;
  };
  for (const auto& c : lab.checks) {
    const size_t query = add(c.query);
    slots_.push_back({query, c.divide_by ? add(*c.divide_by) : query});
  }
}

void Grader::feed(const std::string& run, const Event& e) {
  auto it = by_run_.find(run);
  if (it == by_run_.end()) return;
  for (size_t i : it->second) meters_[i].feed(e);
}

void Grader::run_done(const std::string& run) { done_.insert(run); }

std::vector<CheckResult> Grader::results(const std::map<std::string, double>& answers) const {
  std::vector<CheckResult> out;
  for (size_t i = 0; i < lab_.checks.size(); ++i) {
    const Check& c = lab_.checks[i];
    CheckResult r;
    r.check = &c;
    out.push_back(r);
    CheckResult& res = out.back();
    if (!done_.count(c.query.run)) {
      res.detail = trf("run \"{}\" did not happen", c.query.run);
      continue;
    }
    Measured m = meters_[slots_[i].first].result();
    if (!m.value) {
      res.detail = m.problem;
      continue;
    }
    double v = *m.value;
    if (c.divide_by) {
      if (!done_.count(c.divide_by->run)) {
        res.detail = trf("run \"{}\" did not happen", c.divide_by->run);
        continue;
      }
      Measured d = meters_[slots_[i].second].result();
      if (!d.value) {
        res.detail = d.problem;
        continue;
      }
      if (*d.value == 0) {
        res.detail = "nothing to divide by: the events it counts per are missing";
        continue;
      }
      v /= *d.value;
    }
    v /= c.divide_by_number;
    res.measured = v;
    auto close = [&](double want, double got) {
      return std::fabs(want - got) <= std::max(1e-9, c.expect.tolerance * std::fabs(want));
    };
    std::vector<std::string> wrong;
    if (c.expect.equals && !close(*c.expect.equals, v)) wrong.push_back(trf("expected {}", shown(c, *c.expect.equals)));
    if (c.expect.at_least && v < *c.expect.at_least)
      wrong.push_back(trf("expected at least {}", shown(c, *c.expect.at_least)));
    if (c.expect.at_most && v > *c.expect.at_most)
      wrong.push_back(trf("expected at most {}", shown(c, *c.expect.at_most)));
    if (!c.expect.answer.empty()) {
      auto a = answers.find(c.expect.answer);
      if (a == answers.end())
        wrong.push_back(trf("no answer \"{}\" in answers.txt", c.expect.answer));
      else if (!close(v, a->second))
        wrong.push_back(trf("your answer {}: {} is not what the trace says", c.expect.answer, shown(c, a->second)));
    }
    res.passed = wrong.empty();
    // A wrong answer is not told the right one: the trace is there to read.
    const bool answer_wrong = !c.expect.answer.empty() && !res.passed;
    res.detail = answer_wrong ? std::string() : trf("measured {}", shown(c, v));
    for (const auto& w : wrong) res.detail += (res.detail.empty() ? "" : "; ") + w;
  }
  return out;
}

CheckResult evaluate(const Check& c, const RunEvents& runs, const std::map<std::string, double>& answers) {
  Lab lab;
  lab.checks = {c};
  Grader g(lab);
  for (const auto& [id, events] : runs) {
    if (!events) continue;
    for (const Event& e : *events) g.feed(id, e);
    g.run_done(id);
  }
  CheckResult r = g.results(answers).front();
  r.check = &c;
  return r;
}

std::vector<std::string> validate_lab(const fs::path& dir, const std::optional<fs::path>& answers) {
  std::vector<std::string> problems;
  auto lab = load_lab(dir);
  if (!lab.ok()) {
    problems.push_back(lab.error().message);
  }
  auto handout = read_regular_text(dir / "handout.md", kMaxTextBytes, "the handout");
  if (!handout.ok())
    problems.push_back(handout.error().message);
  else if (handout.value().find_first_not_of(" \t\r\n") == std::string::npos)
    problems.push_back(trf("{}: the handout is empty", (dir / "handout.md").string()));
  // The Korean handout is optional for an instructor's own lab (the built-in
  // labs all have one: tests/labs), but if it is there it must be readable.
  if (std::error_code ec; fs::exists(dir / "handout.ko.md", ec)) {
    auto ko = read_regular_text(dir / "handout.ko.md", kMaxTextBytes, "the Korean handout");
    if (!ko.ok())
      problems.push_back(ko.error().message);
    else if (ko.value().find_first_not_of(" \t\r\n") == std::string::npos)
      problems.push_back(trf("{}: the handout is empty", (dir / "handout.ko.md").string()));
  }
  if (answers) {
    auto text = read_regular_text(*answers, kMaxTextBytes, "answers.txt");
    if (!text.ok()) {
      problems.push_back(text.error().message);
    } else if (lab.ok()) {
      Answers a = parse_answers(text.value(), lab.value().answers);
      for (const auto& p : a.problems) problems.push_back(fmt::format("{}: {}", answers->string(), p));
      for (const auto& k : lab.value().answers)
        if (!a.values.count(k) && !a.rejected.count(k))
          problems.push_back(trf("{}: no answer \"{}\"", answers->string(), k));
    }
  }
  return problems;
}

}  // namespace ringscope::labs
