// spec.cpp — parsing and checking an experiment spec (see spec.h).
#include "spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "ringscope/files.h"
#include "ringscope/phase_figures.h"
#include "ringscope/scenario.h"

namespace ringscope::experiment {

namespace {

using json = nlohmann::json;

bool phase_figure_name_known(const std::string& name) {
  auto names = phase_figure_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The first problem with the spec, naming the key.
struct Parser {
  std::string file;
  std::optional<Error> error;
  void fail(const std::string& where, const std::string& what) {
    if (!error) error = Error{ErrorKind::BadData, fmt::format("{}: {}: {}", file, where, what)};
  }
  // Unknown keys are refused: a typo must not silently measure nothing.
  bool only(const json& j, const std::string& where, std::initializer_list<const char*> keys) {
    if (!j.is_object()) return fail(where, "must be an object"), false;
    for (const auto& item : j.items()) {
      const std::string& k = item.key();
      if (std::find_if(keys.begin(), keys.end(), [&](const char* s) { return k == s; }) == keys.end())
        fail(where + "." + k, fmt::format("unknown key (the keys here are {})", fmt::join(keys, ", ")));
    }
    return true;
  }
  std::string str(const json& j, const char* key, const std::string& where, std::string dflt = {}) {
    if (!j.contains(key)) return dflt;
    if (!j[key].is_string()) return fail(where + "." + key, "must be a string"), dflt;
    return j[key].get<std::string>();
  }
  std::string required_str(const json& j, const char* key, const std::string& where) {
    if (!j.contains(key)) return fail(where + "." + key, "is missing"), std::string();
    std::string s = str(j, key, where);
    if (s.empty() && !error) fail(where + "." + key, "must not be empty");
    return s;
  }
  std::optional<double> num(const json& j, const char* key, const std::string& where) {
    if (!j.contains(key)) return std::nullopt;
    if (!j[key].is_number()) return fail(where + "." + key, "must be a number"), std::nullopt;
    return j[key].get<double>();
  }
};

const std::set<std::string> kModes = {"full-virt", "paravirt", "emulation", "bt", "hvm-pv", std::string(kNativeMode)};

ModeSpec parse_mode(Parser& p, const json& j, const std::string& where) {
  ModeSpec m;
  if (!j.is_string())
    return p.fail(where,
                  "must be a mode name (full-virt, paravirt, hvm-pv, emulation, emulation:virtio, "
                  "hvm-pv+offload)"),
           m;
  m.name = j.get<std::string>();
  m.mode = m.name;
  // "+offload": the run's virtio notifies served on a device thread (run --io offload).
  if (auto plus = m.mode.find('+'); plus != std::string::npos) {
    m.io = m.mode.substr(plus + 1);
    m.mode = m.mode.substr(0, plus);
    if (m.io != "offload")
      p.fail(where, fmt::format("\"{}\": the I/O path after '+' is offload (run --io offload)", m.name));
    else if (m.mode != "hvm-pv" && m.mode != "paravirt")
      p.fail(where, fmt::format("\"{}\": +offload applies to hvm-pv and paravirt (KVM with virtio devices)", m.name));
  }
  if (auto colon = m.mode.find(':'); colon != std::string::npos) {
    m.devices = m.mode.substr(colon + 1);
    m.mode = m.mode.substr(0, colon);
    if (m.devices != "legacy" && m.devices != "virtio")
      p.fail(where, fmt::format("\"{}\": the device set after ':' is legacy or virtio", m.name));
  }
  if (!kModes.count(m.mode))
    p.fail(where, fmt::format("\"{}\" is not a mode; the modes are full-virt, paravirt, hvm-pv, emulation and bt, "
                              "optionally with a device set (emulation:virtio) or an I/O path (hvm-pv+offload), and "
                              "native (the program as a host process)",
                              m.name));
  return m;
}

Workload parse_workload(Parser& p, const json& j, const std::string& where) {
  Workload w;
  if (!p.only(j, where, {"id", "scenario", "param", "values", "unit", "kib_per_unit", "phase"})) return w;
  w.scenario = p.required_str(j, "scenario", where);
  w.id = p.str(j, "id", where, w.scenario);
  w.param = p.required_str(j, "param", where);
  w.unit = p.str(j, "unit", where, w.param);
  w.kib_per_unit = p.num(j, "kib_per_unit", where).value_or(0);
  if (w.kib_per_unit < 0) p.fail(where + ".kib_per_unit", "must not be negative");
  if (!j.contains("values") || !j["values"].is_array() || j["values"].empty())
    p.fail(where + ".values", "must be a non-empty list of whole numbers (the param's values to sweep)");
  else
    for (const auto& v : j["values"]) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() == 0)
        p.fail(where + ".values", fmt::format("{} is not a whole number above 0", v.dump()));
      else
        w.values.push_back(v.get<uint64_t>());
    }
  if (w.values.size() > 64) p.fail(where + ".values", "at most 64 values");
  std::sort(w.values.begin(), w.values.end());
  w.values.erase(std::unique(w.values.begin(), w.values.end()), w.values.end());
  w.phase = p.str(j, "phase", where);
  if (p.error || w.scenario.empty()) return w;
  auto s = w.scenario.find('/') != std::string::npos ? load_scenario(w.scenario) : find_builtin_scenario(w.scenario);
  if (!s.ok()) return p.fail(where + ".scenario", s.error().message), w;
  if (!s->params.count(w.param))
    return p.fail(where + ".param", fmt::format("scenario {} has no param \"{}\" (`ringscope scenarios` lists them)",
                                                w.scenario, w.param)),
           w;
  // The work phase by default: the scenario's marker that names the swept param.
  if (w.phase.empty())
    for (const auto& m : s->markers)
      if (m.find("{" + w.param) != std::string::npos) {
        w.phase = m;
        break;
      }
  if (w.phase.empty())
    p.fail(where + ".phase", fmt::format("scenario {} declares no marker that names {{{}}}; give \"phase\", the "
                                         "label of the marker phase to measure",
                                         w.scenario, w.param));
  else if (std::find(s->markers.begin(), s->markers.end(), w.phase) == s->markers.end())
    p.fail(where + ".phase", fmt::format("scenario {} declares no marker \"{}\" (its markers: {})", w.scenario, w.phase,
                                         fmt::join(s->markers, ", ")));
  return w;
}

std::optional<labs::Query> parse_query(Parser& p, const json& j, const std::string& where) {
  auto q = labs::parse_query_object(j, fmt::format("{}: {}", p.file, where));
  if (!q.ok()) {
    if (!p.error) p.error = q.error();
    return std::nullopt;
  }
  return q.value();
}

Measure parse_measure(Parser& p, const json& j, const std::string& where) {
  Measure m;
  if (!p.only(j, where, {"id", "label", "query", "phase_figure", "relative_to", "divide_by", "per", "scale", "log_y"}))
    return m;
  m.id = p.required_str(j, "id", where);
  for (char c : m.id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return p.fail(where + ".id", "letters, digits, '_' and '-' only (it names a column and a file)"), m;
  m.label = p.str(j, "label", where, m.id);
  m.phase_figure = p.str(j, "phase_figure", where);
  m.relative_to = p.str(j, "relative_to", where);
  int sources = int(j.contains("query")) + int(j.contains("phase_figure")) + int(j.contains("relative_to"));
  if (sources != 1)
    return p.fail(where + ".query", sources ? "give one of query, phase_figure and relative_to, not several"
                                            : "is missing: what to measure, as in lab.json (or phase_figure, "
                                              "or relative_to)"),
           m;
  if (j.contains("query"))
    if (auto q = parse_query(p, j["query"], where + ".query")) m.query = *q;
  if (j.contains("phase_figure") && !phase_figure_name_known(m.phase_figure))
    p.fail(where + ".phase_figure", fmt::format("\"{}\" is not a phase figure (they are {})", m.phase_figure,
                                                fmt::join(phase_figure_names(), ", ")));
  if (j.contains("divide_by") && !j.contains("query"))
    p.fail(where + ".divide_by", "goes with query only");
  else if (j.contains("divide_by"))
    if (auto q = parse_query(p, j["divide_by"], where + ".divide_by")) m.divide_by = *q;
  m.per = p.str(j, "per", where);
  if (!m.per.empty() && m.per != "unit" && m.per != "kib")
    p.fail(where + ".per", "must be \"unit\" (divide by the swept value) or \"kib\" (by the KiB it moves)");
  m.scale = p.num(j, "scale", where).value_or(1);
  if (!(m.scale > 0) || !std::isfinite(m.scale)) p.fail(where + ".scale", "must be a number above 0");
  if (j.contains("log_y")) {
    if (!j["log_y"].is_boolean())
      p.fail(where + ".log_y", "must be true or false");
    else
      m.log_y = j["log_y"].get<bool>();
  }
  return m;
}

}  // namespace

Result<Spec> parse_spec(const std::string& json_text, const std::string& file) {
  Parser p{file, {}};
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return make_error(ErrorKind::BadData, fmt::format("{}: not valid JSON ({})", file, e.what()));
  }
  Spec s;
  s.source = json_text;
  if (!p.only(j, "spec",
              {"name", "title", "claim", "measured", "workloads", "modes", "fallback_modes", "baseline", "repeat",
               "level", "timeout_s", "measures", "fit"}))
    return *p.error;
  s.name = p.required_str(j, "name", "spec");
  s.title = p.str(j, "title", "spec", s.name);
  s.claim = p.str(j, "claim", "spec");
  s.measured = p.str(j, "measured", "spec");
  if (auto r = p.num(j, "repeat", "spec")) {
    if (*r < 1 || *r > 100 || *r != std::floor(*r)) p.fail("spec.repeat", "must be a whole number from 1 to 100");
    s.repeat = static_cast<int>(*r);
  }
  s.level = p.str(j, "level", "spec", "exits");
  if (s.level != "exits" && s.level != "full") p.fail("spec.level", "must be exits or full");
  s.timeout_s = p.num(j, "timeout_s", "spec").value_or(120);
  if (!(s.timeout_s > 0) || s.timeout_s > 3600) p.fail("spec.timeout_s", "must be above 0 and at most 3600 seconds");
  if (!j.contains("modes") || !j["modes"].is_array() || j["modes"].empty())
    p.fail("spec.modes", "must be a non-empty list of modes (full-virt, paravirt, emulation, emulation:virtio)");
  else
    for (size_t i = 0; i < j["modes"].size(); i++) {
      ModeSpec m = parse_mode(p, j["modes"][i], fmt::format("spec.modes[{}]", i));
      for (const auto& o : s.modes)
        if (o.name == m.name) p.fail(fmt::format("spec.modes[{}]", i), fmt::format("\"{}\" is listed twice", m.name));
      s.modes.push_back(m);
    }
  if (j.contains("fallback_modes")) {
    const json& f = j["fallback_modes"];
    if (!f.is_object())
      p.fail("spec.fallback_modes", "must be an object: {\"full-virt\": \"emulation\", ...}");
    else
      for (const auto& item : f.items()) {
        const std::string& from = item.key();
        const std::string where = "spec.fallback_modes." + from;
        if (std::none_of(s.modes.begin(), s.modes.end(), [&](const ModeSpec& m) { return m.name == from; }))
          p.fail(where, fmt::format("\"{}\" is not one of \"modes\"", from));
        ModeSpec to = parse_mode(p, item.value(), where);
        if (std::any_of(s.modes.begin(), s.modes.end(), [&](const ModeSpec& m) { return m.name == to.name; }))
          p.fail(where, fmt::format("\"{}\" is already one of \"modes\"", to.name));
        s.fallback_modes[from] = to;
      }
  }
  if (!j.contains("workloads") || !j["workloads"].is_array() || j["workloads"].empty())
    p.fail("spec.workloads", "must be a non-empty list of {\"scenario\", \"param\", \"values\"}");
  else
    for (size_t i = 0; i < j["workloads"].size() && !p.error; i++) {
      Workload w = parse_workload(p, j["workloads"][i], fmt::format("spec.workloads[{}]", i));
      for (const auto& o : s.workloads)
        if (o.id == w.id) p.fail(fmt::format("spec.workloads[{}].id", i), fmt::format("\"{}\" is used twice", w.id));
      s.workloads.push_back(w);
    }
  if (!j.contains("measures") || !j["measures"].is_array() || j["measures"].empty())
    p.fail("spec.measures", "must be a non-empty list of {\"id\", \"query\"}");
  else
    for (size_t i = 0; i < j["measures"].size() && !p.error; i++) {
      Measure m = parse_measure(p, j["measures"][i], fmt::format("spec.measures[{}]", i));
      for (const auto& o : s.measures)
        if (o.id == m.id) p.fail(fmt::format("spec.measures[{}].id", i), fmt::format("\"{}\" is used twice", m.id));
      if (m.per == "kib")
        for (const auto& w : s.workloads)
          if (w.kib_per_unit <= 0)
            p.fail(fmt::format("spec.measures[{}].per", i),
                   fmt::format("\"kib\" needs every workload's kib_per_unit; workload {} has none", w.id));
      s.measures.push_back(std::move(m));
    }
  s.baseline = p.str(j, "baseline", "spec");
  if (!s.baseline.empty() &&
      std::none_of(s.modes.begin(), s.modes.end(), [&](const ModeSpec& m) { return m.name == s.baseline; }))
    p.fail("spec.baseline", fmt::format("\"{}\" is not one of \"modes\"", s.baseline));
  for (size_t i = 0; i < s.measures.size() && !p.error; i++) {
    const Measure& m = s.measures[i];
    if (m.relative_to.empty()) continue;
    std::string where = fmt::format("spec.measures[{}].relative_to", i);
    if (s.baseline.empty()) p.fail(where, "needs \"baseline\": the mode the measure is taken against");
    auto it =
        std::find_if(s.measures.begin(), s.measures.end(), [&](const Measure& o) { return o.id == m.relative_to; });
    if (it == s.measures.end() || !it->relative_to.empty())
      p.fail(where, fmt::format("\"{}\" is not a measure taken from the trace in \"measures\"", m.relative_to));
    if (!m.per.empty()) p.fail(fmt::format("spec.measures[{}].per", i), "a relative_to measure is a ratio already");
  }
  if (j.contains("fit")) {
    if (!j["fit"].is_array())
      p.fail("spec.fit", "must be a list of measure ids");
    else
      for (const auto& f : j["fit"]) {
        std::string id = f.is_string() ? f.get<std::string>() : f.dump();
        if (std::none_of(s.measures.begin(), s.measures.end(), [&](const Measure& m) { return m.id == id; }))
          p.fail("spec.fit", fmt::format("no measure \"{}\" in \"measures\"", id));
        s.fit.push_back(id);
      }
  }
  if (p.error) return *p.error;
  size_t runs = 0;
  for (const auto& w : s.workloads) runs += w.values.size() * s.modes.size() * s.repeat;
  if (runs > 10'000)
    return make_error(ErrorKind::BadData, fmt::format("{}: the grid has {} runs; at most 10000", file, runs));
  return s;
}

Result<Spec> load_spec(const std::string& name_or_file) {
  for (const auto& b : builtin_experiments())
    if (b.name == name_or_file) return parse_spec(std::string(b.json), fmt::format("built-in experiment {}", b.name));
  if (name_or_file.find('/') == std::string::npos && !name_or_file.ends_with(".json")) {
    std::vector<std::string> names;
    for (const auto& b : builtin_experiments()) names.emplace_back(b.name);
    return make_error(ErrorKind::NoInput, fmt::format("no built-in experiment \"{}\" (there are {}); a spec file's "
                                                      "name ends in .json or contains a '/'",
                                                      name_or_file, fmt::join(names, ", ")));
  }
  TRY_ASSIGN(std::string text, read_regular_text(name_or_file, kMaxTextBytes, "experiment spec"));
  return parse_spec(text, name_or_file);
}

Result<std::string> phase_label(const Workload& w, uint64_t value) {
  auto s = w.scenario.find('/') != std::string::npos ? load_scenario(w.scenario) : find_builtin_scenario(w.scenario);
  if (!s.ok()) return s.error();
  std::map<std::string, std::string> params = s->params;
  params[w.param] = std::to_string(value);
  return labs::expand_label(w.phase, params, w.scenario);
}

}  // namespace ringscope::experiment
