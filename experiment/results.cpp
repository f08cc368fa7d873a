// results.cpp — records, medians, fits and the CSV/JSON files (see results.h).
#include "results.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "ringscope/files.h"
#include "ringscope/terminal_text.h"

namespace ringscope::experiment {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<RunKey> grid(const Spec& spec) {
  std::vector<RunKey> out;
  for (const auto& w : spec.workloads)
    for (uint64_t v : w.values)
      for (int r = 1; r <= spec.repeat; r++)
        for (const auto& m : spec.modes) out.push_back(RunKey{w.id, v, m.name, r});
  return out;
}

void apply_baseline(const Spec& spec, std::vector<RunRecord>& records) {
  if (spec.baseline.empty()) return;
  std::map<std::tuple<std::string, uint64_t, int>, const RunRecord*> base;
  for (const auto& r : records)
    if (r.key.mode == spec.baseline && r.ok) base[{r.key.workload, r.key.value, r.key.repeat}] = &r;
  std::vector<std::pair<RunRecord*, std::pair<std::string, MeasureValue>>> updates;
  for (auto& r : records)
    for (const auto& m : spec.measures) {
      if (m.relative_to.empty()) continue;
      MeasureValue v;
      auto b = base.find({r.key.workload, r.key.value, r.key.repeat});
      auto mine = r.measures.find(m.relative_to);
      if (!r.ok) {
        v.problem = "the run did not end as expected";
      } else if (b == base.end()) {
        v.problem = fmt::format("no {} run at this value and repeat", spec.baseline);
      } else if (auto theirs = b->second->measures.find(m.relative_to);
                 theirs == b->second->measures.end() || !theirs->second.value) {
        v.problem = fmt::format("the {} run has no {}", spec.baseline, m.relative_to);
      } else if (mine == r.measures.end() || !mine->second.value || *mine->second.value == 0) {
        v.problem = fmt::format("this run has no {}", m.relative_to);
      } else {
        v.value = *theirs->second.value / *mine->second.value * m.scale;
        v.raw = v.value;
      }
      updates.push_back({&r, {m.id, v}});
    }
  for (auto& [r, mv] : updates) r->measures[mv.first] = mv.second;
}

// ---- runs.jsonl ---------------------------------------------------------------

std::string record_to_json_line(const RunRecord& r) {
  json j{{"workload", r.key.workload},
         {"value", r.key.value},
         {"mode", r.key.mode},
         {"repeat", r.key.repeat},
         {"ok", r.ok},
         {"message", r.message},
         {"trace", r.trace}};
  json ms = json::object();
  for (const auto& [id, m] : r.measures) {
    json jm = json::object();
    jm["value"] = m.value ? json(*m.value) : json(nullptr);
    jm["raw"] = m.raw ? json(*m.raw) : json(nullptr);
    if (!m.problem.empty()) jm["problem"] = m.problem;
    ms[id] = jm;
  }
  j["measures"] = ms;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RunRecord> record_from_json_line(const std::string& line) {
  try {
    json j = json::parse(line);
    RunRecord r;
    r.key.workload = j.at("workload").get<std::string>();
    r.key.value = j.at("value").get<uint64_t>();
    r.key.mode = j.at("mode").get<std::string>();
    r.key.repeat = j.at("repeat").get<int>();
    r.ok = j.at("ok").get<bool>();
    r.message = j.value("message", "");
    r.trace = j.value("trace", "");
    for (const auto& [id, jm] : j.at("measures").items()) {
      MeasureValue m;
      if (jm.contains("value") && jm["value"].is_number()) m.value = jm["value"].get<double>();
      if (jm.contains("raw") && jm["raw"].is_number()) m.raw = jm["raw"].get<double>();
      m.problem = jm.value("problem", "");
      r.measures[id] = m;
    }
    return r;
  } catch (const json::exception& e) {
    return make_error(ErrorKind::BadData, fmt::format("not a run record ({})", e.what()));
  }
}

Result<std::vector<RunRecord>> read_records(const fs::path& file) {
  TRY_ASSIGN(std::string text, read_regular_text(file, 256ull << 20, "runs.jsonl"));
  std::vector<RunRecord> out;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    n++;
    if (line.empty()) continue;
    auto r = record_from_json_line(line);
    if (!r.ok()) {
      if (in.peek() == EOF) break;  // a torn last line: the run it was is run again
      return make_error(ErrorKind::BadData, fmt::format("{} line {}: {}", file.string(), n, r.error().message));
    }
    out.push_back(std::move(r).value());
  }
  return out;
}

// ---- medians and fits ---------------------------------------------------------

Spread spread_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {med, v.front(), v.back(), static_cast<int>(n)};
}

namespace {

// The values of one measure per (mode, x), over the runs that ended as expected.
std::map<std::string, std::map<uint64_t, std::vector<double>>> collect(const std::vector<RunRecord>& records,
                                                                       const std::string& workload,
                                                                       const std::string& measure, bool raw) {
  std::map<std::string, std::map<uint64_t, std::vector<double>>> by;
  for (const auto& r : records) {
    if (!r.ok || r.key.workload != workload) continue;
    auto it = r.measures.find(measure);
    if (it == r.measures.end()) continue;
    const auto& v = raw ? it->second.raw : it->second.value;
    if (v) by[r.key.mode][r.key.value].push_back(*v);
  }
  return by;
}

}  // namespace

std::vector<Series> series_of(const Spec& spec, const std::vector<RunRecord>& records, const std::string& workload,
                              const std::string& measure) {
  auto by = collect(records, workload, measure, false);
  std::vector<Series> out;
  for (const auto& m : spec.modes) {
    if (!by.count(m.name)) continue;
    Series s{m.name, {}};
    for (const auto& [x, v] : by[m.name]) s.points.push_back(Point{x, spread_of(v)});
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Fit> fits_of(const Spec& spec, const std::vector<RunRecord>& records) {
  std::vector<Fit> out;
  for (const auto& w : spec.workloads)
    for (const auto& id : spec.fit) {
      auto by = collect(records, w.id, id, true);
      for (const auto& m : spec.modes) {
        if (!by.count(m.name) || by[m.name].size() < 2) continue;
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (const auto& [x, v] : by[m.name]) {
          double y = spread_of(v).median, xd = static_cast<double>(x);
          n++, sx += xd, sy += y, sxx += xd * xd, sxy += xd * y;
        }
        double den = n * sxx - sx * sx;
        if (den == 0) continue;
        Fit f{w.id, id, m.name, 0, 0, std::nullopt, static_cast<int>(n)};
        f.b = (n * sxy - sx * sy) / den;
        f.a = (sy - f.b * sx) / n;
        if (f.a > 0 && f.b > 0) f.crossover = f.a / f.b;
        out.push_back(f);
      }
    }
  return out;
}

std::vector<Crossing> crossings_of(const Spec& spec, const std::vector<RunRecord>& records) {
  std::vector<Crossing> out;
  for (const auto& w : spec.workloads)
    for (const auto& m : spec.measures) {
      auto series = series_of(spec, records, w.id, m.id);
      for (size_t i = 0; i < series.size(); i++)
        for (size_t k = i + 1; k < series.size(); k++) {
          std::map<uint64_t, double> a, b;
          for (const auto& p : series[i].points) a[p.x] = p.y.median;
          for (const auto& p : series[k].points) b[p.x] = p.y.median;
          std::optional<std::pair<uint64_t, int>> prev;
          for (const auto& [x, ya] : a) {
            if (!b.count(x)) continue;
            double d = ya - b[x];
            int sign = d > 0 ? 1 : d < 0 ? -1 : 0;
            if (prev && sign != 0 && prev->second != 0 && sign != prev->second) {
              out.push_back(Crossing{w.id, m.id, series[i].mode, series[k].mode, prev->first, x});
              break;
            }
            if (sign != 0) prev = {x, sign};
          }
        }
    }
  return out;
}

// ---- files ----------------------------------------------------------------------

Status write_file_atomically(const fs::path& file, const std::string& text) {
  fs::path tmp = file;
  tmp += ".tmp";
  TRY_ASSIGN(int fd, create_output_file(tmp));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorKind::IoError, fmt::format("cannot write {}", tmp.string()));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    return make_error(ErrorKind::IoError,
                      fmt::format("cannot rename {} to {}: {}", tmp.string(), file.string(), ec.message()));
  return ok_status();
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) { return fmt::format("{:.6g}", v); }

const Workload* find_workload(const Spec& spec, const std::string& id) {
  for (const auto& w : spec.workloads)
    if (w.id == id) return &w;
  return nullptr;
}

}  // namespace

Status write_csv(const fs::path& file, const Spec& spec, const std::vector<RunRecord>& records) {
  std::string out = "experiment,workload,scenario,param,param_value,mode,repeat,measure,value,raw,ok,problem\n";
  for (const auto& r : records) {
    const Workload* w = find_workload(spec, r.key.workload);
    for (const auto& m : spec.measures) {
      auto it = r.measures.find(m.id);
      MeasureValue mv = it == r.measures.end() ? MeasureValue{} : it->second;
      std::string problem = r.ok ? mv.problem : r.message;
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(spec.name), csv_field(r.key.workload),
                         csv_field(w ? w->scenario : ""), csv_field(w ? w->param : ""), r.key.value,
                         csv_field(r.key.mode), r.key.repeat, csv_field(m.id), mv.value ? number(*mv.value) : "",
                         mv.raw ? number(*mv.raw) : "", r.ok ? "true" : "false", csv_field(problem));
    }
  }
  return write_file_atomically(file, out);
}

Status write_json(const fs::path& file, const Spec& spec, const std::vector<RunRecord>& records,
                  const std::vector<Skipped>& skipped, const Provenance& prov) {
  json j;
  j["experiment"] = spec.name;
  j["title"] = spec.title;
  json spec_json = json::parse(spec.source, nullptr, false);
  j["spec"] = spec_json.is_discarded() ? json(spec.source) : spec_json;
  j["host"] = {{"kvm_flavour", prov.kvm_flavour},
               {"kvm_usable", prov.kvm_usable},
               {"kernel_release", prov.kernel_release},
               {"cpu_model", prov.cpu_model},
               {"cpus", prov.cpus},
               {"cpu_is_virtual", prov.cpu_is_virtual},
               {"load_average_start", prov.load_start},
               {"load_average_end", prov.load_end}};
  j["tool_version"] = prov.tool_version;
  j["command"] = prov.command;
  j["started"] = prov.started;
  j["finished"] = prov.finished;
  json sk = json::array();
  for (const auto& s : skipped) sk.push_back({{"mode", s.mode}, {"reason", s.reason}});
  j["skipped_modes"] = sk;
  json runs = json::array();
  for (const auto& r : records) runs.push_back(json::parse(record_to_json_line(r)));
  j["runs"] = runs;
  json medians = json::array();
  for (const auto& w : spec.workloads)
    for (const auto& m : spec.measures)
      for (const auto& s : series_of(spec, records, w.id, m.id))
        for (const auto& p : s.points)
          medians.push_back({{"workload", w.id},
                             {"measure", m.id},
                             {"mode", s.mode},
                             {"param_value", p.x},
                             {"median", p.y.median},
                             {"min", p.y.min},
                             {"max", p.y.max},
                             {"runs", p.y.n}});
  j["medians"] = medians;
  json fits = json::array();
  for (const auto& f : fits_of(spec, records))
    fits.push_back({{"workload", f.workload},
                    {"measure", f.measure},
                    {"mode", f.mode},
                    {"fixed", f.a},
                    {"per_unit", f.b},
                    {"crossover", f.crossover ? json(*f.crossover) : json(nullptr)},
                    {"points", f.points}});
  j["fits"] = fits;
  json cross = json::array();
  for (const auto& c : crossings_of(spec, records))
    cross.push_back({{"workload", c.workload},
                     {"measure", c.measure},
                     {"modes", {c.mode_a, c.mode_b}},
                     {"between", {c.below, c.above}}});
  j["crossings"] = cross;
  return write_file_atomically(file, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace ringscope::experiment
