// lab.cpp — lab.json, answers.txt and the checks (see lab.h).
#include "lab.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <type_traits>

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
        fail(where, fmt::format("unknown key \"{}\"", k));
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
        return fail(where + "." + key, fmt::format("{} is out of range: it must be a whole number from {} to {}",
                                                    j[key].dump(), std::numeric_limits<T>::min(),
                                                    std::numeric_limits<T>::max())),
               std::nullopt;
    }
    return j[key].get<T>();
  }
};

EventFilter parse_filter(Parser& p, const json& j, const std::string& where) {
  EventFilter f;
  auto s = [&](const char* k) -> std::optional<std::string> {
    if (!j.contains(k)) return std::nullopt;
    return p.str(j, k, where);
  };
  if (j.contains("kind")) {
    const json& k = j["kind"];
    if (k.is_string())
      f.kinds.push_back(k.get<std::string>());
    else if (k.is_array())
      for (const auto& x : k)
        if (x.is_string()) f.kinds.push_back(x.get<std::string>());
    if (f.kinds.empty()) p.fail(where + ".kind", "must be an event kind or a list of them");
    for (const auto& name : f.kinds)
      if (!kind_from_name(name)) p.fail(where + ".kind", fmt::format("no event kind \"{}\"", name));
  }
  f.source = s("source");
  if (f.source && !source_from_name(*f.source)) p.fail(where + ".source", fmt::format("no source \"{}\"", *f.source));
  f.cause = s("cause");
  f.direction = s("direction");
  f.device = s("device");
  f.reg = s("register");
  f.name = s("name");
  f.reason = p.num<uint64_t>(j, "reason", where);
  f.port = p.num<uint64_t>(j, "port", where);
  f.vector = p.num<uint64_t>(j, "vector", where);
  f.value = p.num<uint64_t>(j, "value", where);
  f.from_cpl = p.num<int>(j, "from_cpl", where);
  f.to_cpl = p.num<int>(j, "to_cpl", where);
  f.cpl = p.num<int>(j, "cpl", where);
  f.between = p.str(j, "between", where);
  return f;
}

Query parse_query(Parser& p, const json& j, const std::string& where, const std::set<std::string>& run_ids) {
  p.only(j, where,
         {"run", "measure", "kind", "source", "cause", "direction", "device", "register", "name", "reason", "port",
          "vector", "value", "from_cpl", "to_cpl", "cpl", "between"});
  Query q;
  q.run = p.str(j, "run", where);
  if (!run_ids.count(q.run)) p.fail(where + ".run", fmt::format("no run \"{}\" in \"runs\"", q.run));
  q.measure = p.str(j, "measure", where, "count");
  static const std::set<std::string> kMeasures = {"count",       "sum_value",   "sum_count",  "last_value", "last_port",
                                                  "last_vector", "last_reason", "last_count", "last_number",
                                                  "span_ns"};
  if (!kMeasures.count(q.measure))
    p.fail(where + ".measure",
           "must be count, sum_value, sum_count, last_value, last_vector, last_port, last_reason, "
           "last_count, last_number or span_ns");
  q.filter = parse_filter(p, j, where);
  return q;
}

const std::set<std::string> kModes = {"full-virt", "paravirt", "emulation"};

LabRun parse_run(Parser& p, const json& j, const std::string& where) {
  p.only(j, where,
         {"id", "program", "program_name", "scenario", "params", "append", "mode", "fallback_mode", "level", "devices",
          "irqchip", "vmx_profile", "expect_status"});
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
  r.mode = p.str(j, "mode", where, "emulation");
  if (!kModes.count(r.mode)) p.fail(where + ".mode", "must be full-virt, paravirt or emulation");
  r.fallback_mode = p.str(j, "fallback_mode", where);
  if (!r.fallback_mode.empty() && !kModes.count(r.fallback_mode))
    p.fail(where + ".fallback_mode", "must be full-virt, paravirt or emulation");
  r.level = p.str(j, "level", where, "exits");
  if (r.level != "exits" && r.level != "full") p.fail(where + ".level", "must be exits or full");
  r.devices = p.str(j, "devices", where);
  r.irqchip = p.str(j, "irqchip", where);
  if (!r.irqchip.empty() && r.irqchip != "vmm" && r.irqchip != "kernel")
    p.fail(where + ".irqchip", "must be vmm or kernel");
  if (r.irqchip == "kernel" && !r.fallback_mode.empty())
    p.fail(where + ".fallback_mode", "a run on KVM's in-kernel irqchip has no emulation to fall back to");
  r.vmx_profile = p.str(j, "vmx_profile", where);
  r.expect_status = p.num<int>(j, "expect_status", where).value_or(0);
  return r;
}

}  // namespace

bool EventFilter::matches(const Event& e) const {
  if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), kind_name(e.kind)) == kinds.end()) return false;
  if (source && source_name(e.source) != *source) return false;
  if (cause && cause_name(e.cause) != *cause) return false;
  if (direction && direction_name(e.direction) != *direction) return false;
  if (device && e.device != *device) return false;
  if (reg && e.reg != *reg) return false;
  if (name && e.name != *name) return false;
  if (reason && e.reason != *reason) return false;
  if (port && e.port != *port) return false;
  if (vector && e.vector != *vector) return false;
  if (value && e.value != *value) return false;
  if (from_cpl && e.from_cpl != *from_cpl) return false;
  if (to_cpl && e.to_cpl != *to_cpl) return false;
  if (cpl && e.cpl != *cpl) return false;
  return true;
}

double measure(const Query& q, const std::vector<Event>& events) {
  // The phase: from the first `begin` marker with this label to its `end`.
  size_t from = 0, to = events.size();
  if (!q.filter.between.empty()) {
    from = to = events.size();
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (e.kind != EventKind::Marker || e.name != q.filter.between) continue;
      if (from == events.size() && e.phase == MarkerPhase::Begin)
        from = i + 1;
      else if (from != events.size() && e.phase == MarkerPhase::End) {
        to = i;
        break;
      }
    }
  }
  double result = 0;
  std::optional<uint64_t> first, last;
  for (size_t i = from; i < to; ++i) {
    const Event& e = events[i];
    if (!q.filter.matches(e)) continue;
    if (!first) first = e.time_ns;
    last = e.time_ns;
    if (q.measure == "count")
      result += 1;
    else if (q.measure == "sum_value")
      result += static_cast<double>(e.value);
    else if (q.measure == "last_vector")
      result = e.vector;
    else if (q.measure == "last_port")
      result = e.port;
    else if (q.measure == "last_reason")
      result = e.reason;
    else if (q.measure == "last_count")
      result = e.count;
    else if (q.measure == "last_number")
      result = static_cast<double>(e.number);
    else if (q.measure == "sum_count")
      result += e.count;
    else if (q.measure == "last_value")
      result = static_cast<double>(e.value);
  }
  // span_ns: from the first matching event to the last (inside a phase:
  // from its begin marker to its end marker, when every event matches).
  if (q.measure == "span_ns") {
    if (!q.filter.between.empty() && from > 0 && to < events.size() && q.filter.kinds.empty())
      return static_cast<double>(events[to].time_ns - events[from - 1].time_ns);
    return first && last && *last > *first ? static_cast<double>(*last - *first) : 0;
  }
  return result;
}

Result<Lab> load_lab(const fs::path& dir) {
  const fs::path file = dir / "lab.json";
  std::ifstream in(file);
  if (!in) return make_error(ErrorKind::NoInput, fmt::format("cannot read {}", file.string()));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return make_error(ErrorKind::BadData, fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  Parser p{file.string(), std::nullopt};
  p.only(j, "lab", {"number", "title", "runs", "checks", "answers"});
  Lab lab;
  lab.dir = dir;
  lab.number = p.num<int>(j, "number", "lab").value_or(0);
  if (lab.number <= 0) p.fail("number", "every lab needs a number from 1");
  lab.title = p.str(j, "title", "lab");
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
      p.only(c, where, {"id", "say", "hint", "query", "divide_by", "expect"});
      Check check;
      check.id = p.str(c, "id", where, fmt::format("{}", i + 1));
      check.say = p.str(c, "say", where);
      if (check.say.empty()) p.fail(where + ".say", "every check says what it checks");
      check.hint = p.str(c, "hint", where);
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
          p.fail(where + ".expect.answer", fmt::format("\"{}\" is not in \"answers\"", check.expect.answer));
      }
      lab.checks.push_back(std::move(check));
    }
  if (p.error) return *p.error;
  return lab;
}

Result<std::vector<Lab>> load_labs(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return make_error(ErrorKind::NoInput,
                      fmt::format("no labs directory at {}; set RINGSCOPE_LABS_DIR", root.string()));
  std::vector<Lab> labs;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "lab.json")) continue;
    TRY_ASSIGN(Lab lab, load_lab(entry.path()));
    labs.push_back(std::move(lab));
  }
  std::sort(labs.begin(), labs.end(), [](const Lab& a, const Lab& b) { return a.number < b.number; });
  for (size_t i = 1; i < labs.size(); ++i)
    if (labs[i].number == labs[i - 1].number)
      return make_error(ErrorKind::BadData, fmt::format("labs {} and {} both have number {}", labs[i - 1].dir.string(),
                                                        labs[i].dir.string(), labs[i].number));
  return labs;
}

Result<std::map<std::string, double>> parse_answers(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    line = trim(line);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos)
      return make_error(ErrorKind::BadData, fmt::format("answers.txt line {}: write \"key: number\"", n));
    std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    char* end = nullptr;
    double v = value.rfind("0x", 0) == 0 || value.rfind("0X", 0) == 0
                   ? static_cast<double>(std::strtoull(value.c_str(), &end, 16))
                   : std::strtod(value.c_str(), &end);
    if (key.empty() || value.empty() || !end || *end != '\0')
      return make_error(ErrorKind::BadData, fmt::format("answers.txt line {}: \"{}\" is not a number", n, value));
    out[key] = v;
  }
  return out;
}

CheckResult evaluate(const Check& c, const RunEvents& runs, const std::map<std::string, double>& answers) {
  CheckResult r;
  r.check = &c;
  auto events_of = [&](const Query& q) -> const std::vector<Event>* {
    auto it = runs.find(q.run);
    return it == runs.end() ? nullptr : it->second;
  };
  const std::vector<Event>* ev = events_of(c.query);
  if (!ev) {
    r.detail = fmt::format("run \"{}\" did not happen", c.query.run);
    return r;
  }
  double m = measure(c.query, *ev);
  if (c.divide_by) {
    const std::vector<Event>* dv = events_of(*c.divide_by);
    double d = dv ? measure(*c.divide_by, *dv) : 0;
    if (d == 0) {
      r.detail = "nothing to divide by: the events it counts per are missing";
      return r;
    }
    m /= d;
  }
  m /= c.divide_by_number;
  r.measured = m;
  auto close = [&](double want, double got) {
    return std::fabs(want - got) <= std::max(1e-9, c.expect.tolerance * std::fabs(want));
  };
  std::vector<std::string> wrong;
  if (c.expect.equals && !close(*c.expect.equals, m)) wrong.push_back(fmt::format("expected {:g}", *c.expect.equals));
  if (c.expect.at_least && m < *c.expect.at_least)
    wrong.push_back(fmt::format("expected at least {:g}", *c.expect.at_least));
  if (c.expect.at_most && m > *c.expect.at_most)
    wrong.push_back(fmt::format("expected at most {:g}", *c.expect.at_most));
  if (!c.expect.answer.empty()) {
    auto a = answers.find(c.expect.answer);
    if (a == answers.end())
      wrong.push_back(fmt::format("no answer \"{}\" in answers.txt", c.expect.answer));
    else if (!close(m, a->second))
      wrong.push_back(fmt::format("your answer {}: {:g} is not what the trace says", c.expect.answer, a->second));
  }
  r.passed = wrong.empty();
  // A wrong answer is not told the right one: the trace is there to read.
  const bool answer_wrong = !c.expect.answer.empty() && !r.passed;
  r.detail = answer_wrong ? std::string() : fmt::format("measured {:g}", m);
  for (const auto& w : wrong) r.detail += (r.detail.empty() ? "" : "; ") + w;
  return r;
}

}  // namespace ringscope::labs
