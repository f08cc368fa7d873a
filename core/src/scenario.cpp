// scenario.cpp — loading scenario manifests (docs/scenarios.md).
//
// A manifest is written by hand, often by a student, so every mistake gets a
// message naming the file and the field and saying what a valid value looks
// like. Unknown fields are errors too: a misspelt "expected_stauts" would
// otherwise be silently ignored and the test would check the wrong thing.
#include "ringscope/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ringscope/files.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/resources.h"

namespace ringscope {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kManifestName = "scenario.json";
constexpr const char* kDefaultKernel = "kernel";
constexpr const char* kDefaultKernelPv = "kernel-pv";
constexpr const char* kDefaultKernelHvmPv = "kernel-hvmpv";

const std::vector<std::string>& known_fields() {
  static const std::vector<std::string> fields = {
      "name",   "title",           "description",     "kernel",   "kernel_pv", "programs", "kernel_args",
      "params", "expected_output", "expected_status", "requires", "markers",   "vcpus",    "kernel_hvm_pv"};
  return fields;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// A name or a param key: lowercase letters, digits, '-', '_'.
bool is_simple_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}

// A command-line value: non-empty, no whitespace, no '=' (the kernel
// splits words on spaces), printable ASCII.
bool is_cmdline_value(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 127; });
}

std::string type_name(const json& j) { return j.type_name(); }

// Errors while reading one manifest: they all start with the file and field.
struct ManifestReader {
  fs::path file;
  fs::path dir;
  const json& root;

  Error bad(const std::string& field, const std::string& what) const {
    return make_error(ErrorKind::BadData, trf("{}: field '{}': {}", file.string(), field, what));
  }

  Result<std::string> string_field(const std::string& field, bool required, const std::string& dflt = {}) const {
    auto it = root.find(field);
    if (it == root.end()) {
      if (required) return bad(field, "missing; it must be a string");
      return dflt;
    }
    if (!it->is_string()) return bad(field, fmt::format("must be a string, not {}", type_name(*it)));
    return it->get<std::string>();
  }

  Result<std::vector<std::string>> string_list(const std::string& field) const {
    std::vector<std::string> out;
    auto it = root.find(field);
    if (it == root.end()) return out;
    if (!it->is_array()) return bad(field, fmt::format("must be a list of strings, not {}", type_name(*it)));
    for (size_t i = 0; i < it->size(); i++) {
      const json& e = (*it)[i];
      if (!e.is_string() || e.get<std::string>().empty())
        return bad(fmt::format("{}[{}]", field, i), fmt::format("must be a non-empty string, not {}", e.dump()));
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  // A guest image: "NAME" is a built-in image, <guest_dir>/NAME.elf; a
  // value ending in ".elf" is a file relative to the scenario directory
  // (or absolute).
  Result<fs::path> image(const std::string& field, const std::string& value) const {
    bool is_file = value.size() > 4 && value.compare(value.size() - 4, 4, ".elf") == 0;
    if (is_file) {
      fs::path p(value);
      return (p.is_absolute() ? p : dir / p).lexically_normal();
    }
    if (!is_simple_name(value))
      return bad(field, fmt::format("\"{}\" is neither a built-in image name (like \"kernel\" or \"syscalls\") nor "
                                    "a path ending in .elf",
                                    value));
    return (guest_dir() / (value + ".elf")).lexically_normal();
  }
};

// Manifests and expected output: regular files with a size cap, so a FIFO
// or /dev/zero in their place is an error, not a hang or a gigabyte.
Result<std::string> read_file(const fs::path& p) { return read_regular_text(p, kMaxTextBytes, "scenario file"); }

Result<Scenario> parse_manifest(const fs::path& file) {
  TRY_ASSIGN(std::string text, read_file(file));
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return make_error(ErrorKind::BadData, trf("{}: not valid JSON at byte {}: {}", file.string(), e.byte, e.what()));
  } catch (const json::exception& e) {  // out_of_range: a number too large for a double (1e600)
    return make_error(ErrorKind::BadData, trf("{}: not usable JSON: {}", file.string(), e.what()));
  }
  if (!root.is_object())
    return make_error(ErrorKind::BadData, trf("{}: must be a JSON object {{\"name\": ..., \"title\": ...}}, not {}",
                                              file.string(), root.type_name()));
  for (const auto& [key, value] : root.items()) {
    (void)value;
    const auto& known = known_fields();
    if (std::find(known.begin(), known.end(), key) == known.end())
      return make_error(ErrorKind::BadData,
                        trf("{}: unknown field '{}'; the fields are: {}", file.string(), key, join(known, ", ")));
  }

  Scenario s;
  s.dir = fs::absolute(file.parent_path()).lexically_normal();
  ManifestReader r{file, s.dir, root};

  TRY_ASSIGN(s.name, r.string_field("name", true));
  if (!is_simple_name(s.name))
    return r.bad("name", fmt::format("\"{}\" must be 1-64 lowercase letters, digits, '-' or '_'", s.name));
  TRY_ASSIGN(s.title, r.string_field("title", true));
  if (s.title.empty()) return r.bad("title", "must not be empty; one line saying what the scenario shows");
  TRY_ASSIGN(s.description, r.string_field("description", false));

  TRY_ASSIGN(std::string kernel, r.string_field("kernel", false, kDefaultKernel));
  if (kernel.empty()) return r.bad("kernel", "must not be empty; leave it out for the built-in kernel");
  TRY_ASSIGN(s.kernel, r.image("kernel", kernel));

  // The PV build: named, or the built-in one when the kernel is the
  // built-in one too. A scenario with a kernel of its own has no PV build
  // unless it names one: guessing a file name beside it would boot
  // something nobody asked for.
  bool own_kernel = root.contains("kernel") && kernel != kDefaultKernel;
  TRY_ASSIGN(std::string kernel_pv, r.string_field("kernel_pv", false, own_kernel ? "" : kDefaultKernelPv));
  if (root.contains("kernel_pv") && kernel_pv.empty())
    return r.bad("kernel_pv",
                 "must not be empty; leave it out (the built-in PV kernel, or none with a kernel of "
                 "your own)");
  if (!kernel_pv.empty()) {
    TRY_ASSIGN(s.kernel_pv, r.image("kernel_pv", kernel_pv));
  }
  // The HVM build with PV drivers (--mode hvm-pv): the same rule.
  TRY_ASSIGN(std::string kernel_hvm_pv, r.string_field("kernel_hvm_pv", false, own_kernel ? "" : kDefaultKernelHvmPv));
  if (root.contains("kernel_hvm_pv") && kernel_hvm_pv.empty())
    return r.bad("kernel_hvm_pv",
                 "must not be empty; leave it out (the built-in HVM kernel with PV drivers, or none with a "
                 "kernel of your own)");
  if (!kernel_hvm_pv.empty()) {
    TRY_ASSIGN(s.kernel_hvm_pv, r.image("kernel_hvm_pv", kernel_hvm_pv));
  }

  TRY_ASSIGN(std::vector<std::string> programs, r.string_list("programs"));
  for (size_t i = 0; i < programs.size(); i++) {
    TRY_ASSIGN(fs::path p, r.image(fmt::format("programs[{}]", i), programs[i]));
    s.programs.push_back(p);
  }

  TRY_ASSIGN(s.kernel_args, r.string_field("kernel_args", false));
  if (s.kernel_args.find_first_of("\n\r\t") != std::string::npos)
    return r.bad("kernel_args", "must be one line of space-separated words");

  if (auto it = root.find("params"); it != root.end()) {
    if (!it->is_object())
      return r.bad("params", fmt::format("must be an object of defaults like {{\"n\": 16}}, not {}", type_name(*it)));
    for (const auto& [key, value] : it->items()) {
      std::string field = "params." + key;
      if (!is_simple_name(key)) return r.bad(field, "a param name is lowercase letters, digits, '-' or '_'");
      std::string v;
      if (value.is_string())
        v = value.get<std::string>();
      else if (value.is_number_integer())
        v = std::to_string(value.get<int64_t>());
      else if (value.is_boolean())
        v.assign(1, value.get<bool>() ? '1' : '0');
      else
        return r.bad(field, fmt::format("must be a string, an integer or a boolean, not {}", type_name(value)));
      if (!is_cmdline_value(v)) return r.bad(field, fmt::format("\"{}\" must be a non-empty word without spaces", v));
      s.params[key] = v;
    }
  }

  if (auto it = root.find("expected_output"); it != root.end()) {
    if (!it->is_string() || it->get<std::string>().empty())
      return r.bad("expected_output", "must be the name of a file in the scenario directory, like \"expected.txt\"");
    fs::path p = s.dir / it->get<std::string>();
    auto text = read_file(p);
    if (!text.ok()) return r.bad("expected_output", fmt::format("cannot read {}", p.string()));
    s.expected_output = std::move(text).value();
  }

  if (auto it = root.find("expected_status"); it != root.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 255)
      return r.bad("expected_status", fmt::format("must be an integer 0..255, not {}", it->dump()));
    s.expected_status = static_cast<int>(it->get<int64_t>());
  }

  if (auto it = root.find("vcpus"); it != root.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > kMaxScenarioVcpus)
      return r.bad("vcpus", fmt::format("must be an integer 1..{} (how many CPUs the scenario runs on), not {}",
                                        kMaxScenarioVcpus, it->dump()));
    s.vcpus = static_cast<int>(it->get<int64_t>());
  }

  TRY_ASSIGN(s.requires_features, r.string_list("requires"));
  for (size_t i = 0; i < s.requires_features.size(); i++) {
    if (!find_host_feature(s.requires_features[i])) {
      std::vector<std::string> names;
      for (const auto& f : host_features()) names.emplace_back(f.name);
      return r.bad(fmt::format("requires[{}]", i), fmt::format("unknown host feature \"{}\"; known features: {}",
                                                               s.requires_features[i], join(names, ", ")));
    }
  }
  // The marker phases the guest opens and closes, as templates whose
  // {param} is the run's value: what a lab's `between` may name.
  TRY_ASSIGN(s.markers, r.string_list("markers"));
  return s;
}

fs::path env_or(const char* var, const fs::path& dflt) {
  const char* v = std::getenv(var);
  return v && *v ? fs::path(v) : dflt;
}

}  // namespace

fs::path scenarios_dir() { return env_or("RINGSCOPE_SCENARIOS_DIR", resource_dirs().scenarios); }
fs::path guest_dir() { return env_or("RINGSCOPE_GUEST_DIR", resource_dirs().guest); }

Result<Scenario> load_scenario(const fs::path& dir_or_manifest) {
  std::error_code ec;
  fs::path file = dir_or_manifest;
  if (fs::is_directory(file, ec)) file /= kManifestName;
  if (!fs::exists(file, ec)) {
    if (fs::is_directory(dir_or_manifest, ec))
      return make_error(ErrorKind::NoInput, trf("{} has no {}; a scenario directory needs one "
                                                "(see docs/scenarios.md)",
                                                dir_or_manifest.string(), kManifestName));
    return make_error(ErrorKind::NoInput, trf("no such scenario directory or manifest: {}", file.string()));
  }
  return parse_manifest(file);
}

Result<Scenario> find_builtin_scenario(const std::string& name) {
  fs::path dir = scenarios_dir() / name;
  std::error_code ec;
  if (!is_simple_name(name) || !fs::exists(dir / kManifestName, ec)) {
    std::vector<std::string> names;
    for (const auto& s : builtin_scenarios()) names.push_back(s.name);
    return make_error(ErrorKind::NoInput,
                      trf("no built-in scenario '{}'; the built-in scenarios are: {} (in {})", name,
                          names.empty() ? std::string("none") : join(names, ", "), scenarios_dir().string()));
  }
  return load_scenario(dir);
}

std::vector<Scenario> builtin_scenarios() {
  std::vector<Scenario> out;
  std::error_code ec;
  for (fs::directory_iterator it(scenarios_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || !fs::exists(it->path() / kManifestName, ec)) continue;
    // A broken built-in manifest is skipped here (this returns no errors);
    // the scenario tests load every directory explicitly and report it.
    auto s = load_scenario(it->path());
    if (s.ok()) out.push_back(std::move(s).value());
  }
  std::sort(out.begin(), out.end(), [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
  return out;
}

Result<std::string> build_cmdline(const Scenario& s, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> params = s.params;
  for (const auto& [key, value] : overrides) {
    if (!s.params.count(key)) {
      std::vector<std::string> names;
      for (const auto& [k, v] : s.params) names.push_back(k);
      return make_error(ErrorKind::Usage, trf("scenario '{}' has no param '{}'; its params are: {}", s.name, key,
                                              names.empty() ? std::string("none") : join(names, ", ")));
    }
    if (!is_cmdline_value(value))
      return make_error(ErrorKind::Usage, trf("param {}=\"{}\": a value must be one word without spaces", key, value));
    params[key] = value;
  }
  std::string line = s.kernel_args;
  for (const auto& [key, value] : params) {
    if (!line.empty()) line += ' ';
    line += key + "=" + value;
  }
  return line;
}

}  // namespace ringscope
